import type { Clock } from '../common/clock.js';
import { isJpkiError } from '../common/errors.js';
import { OcspError } from './errors.js';
import { parseOcspRequest } from './request.js';
import { statusResponse, type OcspErrorStatus } from './response.js';
import type { OcspAnswer, ResponseSource } from './source.js';
import type { StoredResponses } from './stored-responses.js';
import { isCacheable } from './source.js';

export interface OcspResponderDeps {
  /** The wrapped source chain (issuer filter → sign on miss → freshness → stored responses). */
  source: ResponseSource;
  /** The in-memory tier, for the synchronous fast path. */
  stored: StoredResponses;
  clock: Clock;
  /** Runs once before the first request is answered (start following the status-change feed). */
  beforeFirstRequest?: () => Promise<void>;
  /** Told about failures that became `internalError` or `tryLater` (the server logs them). */
  onError?: (error: unknown) => void;
}

const ERROR_ANSWERS = new Map<OcspErrorStatus, OcspAnswer>(
  (['malformedRequest', 'internalError', 'tryLater', 'unauthorized'] as const).map((s) => [s, { der: statusResponse(s) }]),
);

/** The answer for a status that carries no signed data (RFC 6960 §4.2.1). */
export function errorAnswer(status: OcspErrorStatus): OcspAnswer {
  return ERROR_ANSWERS.get(status) ?? { der: statusResponse(status) };
}

/**
 * The front door of the responder: DER request in, DER response out, never an exception. Malformed input
 * is `malformedRequest`, an issuer we do not serve `unauthorized`, an unreachable store `tryLater`, and
 * anything unexpected `internalError` — with no detail, which goes to `onError` only.
 */
export class OcspResponder {
  private started: Promise<void> | undefined;
  private ready = false;

  constructor(private readonly deps: OcspResponderDeps) {}

  /**
   * The synchronous fast path: the answer when it needs no I/O (a malformed request, or a fresh response
   * for exactly this CertID in memory), otherwise undefined and the caller awaits `respond`.
   */
  cached(der: Uint8Array): OcspAnswer | undefined {
    if (!this.ready) return undefined;
    let request;
    try {
      request = parseOcspRequest(der);
    } catch {
      return errorAnswer('malformedRequest');
    }
    if (!isCacheable(request)) return undefined;
    return this.deps.stored.lookup(request.certIds[0]!.der, this.deps.clock.now().getTime());
  }

  async respond(der: Uint8Array): Promise<OcspAnswer> {
    try {
      if (!this.ready) await this.start();
      const answer = await this.deps.source.answer(parseOcspRequest(der));
      if (!answer) throw new OcspError('OCSP_INTERNAL', 'no source answered');
      return answer;
    } catch (e) {
      const status = statusFor(e);
      if (status === 'internalError' || status === 'tryLater') this.deps.onError?.(e);
      return errorAnswer(status);
    }
  }

  private start(): Promise<void> {
    this.started ??= (async () => {
      await this.deps.beforeFirstRequest?.();
      this.ready = true;
    })();
    // a failed start (database down) is tried again by the next request
    this.started.catch(() => (this.started = undefined));
    return this.started;
  }
}

/** One mapping from error kinds to OCSP statuses. */
function statusFor(e: unknown): OcspErrorStatus {
  if (!isJpkiError(e)) return 'internalError';
  switch (e.kind) {
    case 'malformed':
      return 'malformedRequest';
    case 'forbidden':
      return 'unauthorized';
    case 'unavailable':
      return 'tryLater';
    default:
      return 'internalError';
  }
}
