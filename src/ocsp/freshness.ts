import type { Clock } from '../common/clock.js';
import { refreshAtOf } from './response-cache.js';
import type { ResponseSource } from './source.js';

/**
 * Passes on a stored answer only while it is fresh: before the middle of its validity. An older one counts
 * as missing, so the next wrapper signs a new one (a response is never served past its nextUpdate, and
 * relying parties get one at most half a validity old).
 */
export function requireFresh(inner: ResponseSource, clock: Clock): ResponseSource {
  return {
    async answer(request) {
      const a = await inner.answer(request);
      if (!a?.http) return a;
      return clock.now().getTime() < refreshAtOf(a.http.thisUpdate, a.http.nextUpdate) ? a : undefined;
    },
  };
}
