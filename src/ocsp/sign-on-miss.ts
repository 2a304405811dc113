import { OcspError } from './errors.js';
import type { IssuerIndex } from './issuers.js';
import type { LiveSigner } from './live-signer.js';
import { certIdKey } from './response-cache.js';
import type { StoredResponses } from './stored-responses.js';
import { isCacheable, type OcspAnswer, type ResponseSource } from './source.js';

/**
 * Signs what storage does not have (Let's Encrypt's final design: sign on first request, keep until the
 * refresh point). A cacheable request gets a single response that is stored and cached; a request with a
 * nonce or several certificates is signed live and kept nowhere. Concurrent misses for the same CertID
 * share one signature.
 */
export function signOnMiss(inner: ResponseSource, deps: { live: LiveSigner; stored: StoredResponses; issuers: IssuerIndex; position: () => number }): ResponseSource {
  const inFlight = new Map<string, Promise<OcspAnswer>>();
  return {
    async answer(request) {
      const found = await inner.answer(request);
      if (found) return found;
      if (!isCacheable(request)) return deps.live.answer(request);
      const c = request.certIds[0]!;
      const key = certIdKey(c.der);
      let p = inFlight.get(key);
      if (!p) {
        p = (async () => {
          const issuer = await deps.issuers.resolve(c);
          if (!issuer) throw new OcspError('OCSP_UNAUTHORIZED', 'the request names an issuer this responder does not serve');
          const position = deps.position();
          return deps.stored.save(issuer, c, await deps.live.signSingle(issuer, c), position);
        })();
        inFlight.set(key, p);
        void p.finally(() => inFlight.delete(key)).catch(() => undefined);
      }
      return p;
    },
  };
}
