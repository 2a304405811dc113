import type { Clock } from '../common/clock.js';
import type { CheckedOcspResponse, StoredOcspResponse } from '../store/index.js';
import type { CertId } from './cert-id.js';
import type { Issuer, IssuerIndex } from './issuers.js';
import type { SignedSingle } from './live-signer.js';
import type { OcspRequest } from './request.js';
import { httpCaching, refreshAtOf, type CachedResponse, type CachedStatus, type ResponseCache } from './response-cache.js';
import { isCacheable, type OcspAnswer, type ResponseSource } from './source.js';

/** The part of the store this source uses (store.ocspResponses, plus a batched write). */
export interface OcspResponseStore {
  getChecked(caId: string, serial: string, hashAlgorithm: string): Promise<CheckedOcspResponse | undefined>;
  putAll(responses: readonly StoredOcspResponse[]): Promise<void>;
}

export interface StoredResponsesDeps {
  cache: ResponseCache;
  storage: OcspResponseStore;
  issuers: IssuerIndex;
  clock: Clock;
  /** The status-change feed's position: taken before a read, to notice a change that raced it. */
  position: () => number;
  /** Write-behind delay for freshly signed responses (they are batched into one transaction). */
  writeDelayMs?: number;
  /** Told the CA of every response served from the store (the responder loads that CA's signing key early). */
  onStoreHit?: (caId: string) => void;
}

/** How long a status change is remembered for the race check (far longer than any read takes). */
const RECENT_CHANGE_MS = 60_000;

/**
 * The pre-signed responses: memory first (ResponseCache), then the store. A stored response is used only
 * when the certificate's status still matches it (the store joins the certificate: Boulder's "checked"
 * source), so a revocation made by any process while this one was not listening is never hidden.
 * Freshly signed responses go to memory at once and to the store shortly after, in batches.
 */
export class StoredResponses implements ResponseSource {
  private readonly recent = new Map<string, { id: number; at: number; issuance: boolean }>();
  private pending: StoredOcspResponse[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly deps: StoredResponsesDeps) {}

  /** The hot path: a fresh response for exactly these CertID bytes, from memory, or undefined. */
  lookup(certId: Uint8Array, now: number): OcspAnswer | undefined {
    const cache = this.deps.cache;
    const slot = cache.find(certId);
    return slot >= 0 && cache.refreshAt(slot) > now ? cache.answerAt(slot) : undefined;
  }

  async answer(request: OcspRequest): Promise<OcspAnswer | undefined> {
    if (!isCacheable(request)) return undefined;
    const c = request.certIds[0]!;
    const hit = this.deps.cache.get(c.der);
    if (hit) return hit;
    const issuer = await this.deps.issuers.resolve(c);
    if (!issuer || c.serial === undefined || c.hash === undefined) return undefined;
    const position = this.deps.position();
    const stored = await this.deps.storage.getChecked(issuer.caId, c.serial, c.hash);
    // Stale (a 'good' for a certificate revoked since), or signed for another encoding of the CertID.
    if (!stored || (stored.certStatus === 'good') === stored.revokedNow || !stored.certId.equals(c.der)) return undefined;
    this.deps.onStoreHit?.(issuer.caId);
    return this.remember(`${issuer.caId}:${c.serial}`, c.der, stored.der, stored.thisUpdate, stored.nextUpdate, stored.certStatus, position);
  }

  /**
   * Keeps a response just signed for `certId`: in memory now, in the store within `writeDelayMs`.
   * "unknown" answers stay in memory only (there is no certificate row to check them against).
   * `position` is the feed position taken before the status was read. `persist: false` when the caller
   * writes the store itself (the pre-signing job, in its own batches).
   */
  save(issuer: Issuer, certId: Pick<CertId, 'der' | 'serial' | 'hash'>, signed: SignedSingle, position: number, options: { persist?: boolean } = {}): CachedResponse {
    if (options.persist !== false && signed.status !== 'unknown' && certId.serial !== undefined && certId.hash !== undefined) {
      this.pending.push({
        caId: issuer.caId,
        serial: certId.serial,
        hashAlgorithm: certId.hash,
        certId: Buffer.from(certId.der),
        certStatus: signed.status,
        thisUpdate: signed.thisUpdate,
        nextUpdate: signed.nextUpdate,
        der: signed.der,
      });
      this.scheduleWrite();
    }
    return this.remember(`${issuer.caId}:${certId.serial ?? '-'}`, certId.der, signed.der, signed.thisUpdate, signed.nextUpdate, signed.status, position);
  }

  /**
   * A status change of one certificate (feed id `changeId`): drops its responses from memory and returns
   * them. An issuance (`onlyUnknown`) drops only "unknown" answers: a good one cannot have been wrong.
   */
  invalidate(certKey: string, changeId: number, onlyUnknown = false): CachedResponse[] {
    const now = this.deps.clock.now().getTime();
    this.recent.delete(certKey);
    this.recent.set(certKey, { id: changeId, at: now, issuance: onlyUnknown });
    for (const [k, v] of this.recent) {
      if (now - v.at < RECENT_CHANGE_MS) break;
      this.recent.delete(k);
    }
    return this.deps.cache.deleteCert(certKey, onlyUnknown ? (e) => e.status === 'unknown' : undefined);
  }

  /** Writes the pending responses now. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.pending;
    this.pending = [];
    if (batch.length === 0) return this.flushing;
    this.flushing = this.flushing.then(() => this.deps.storage.putAll(batch)).catch(() => {
      // the store is unreachable: these responses stay in memory and are signed again when needed
    });
    return this.flushing;
  }

  /**
   * Caches an entry (the cache copies its bytes into its own memory) unless a status change raced the read
   * it came from and may have made it wrong: then it is served once, not kept. An issuance only makes an
   * "unknown" wrong; a revocation makes anything wrong.
   */
  private remember(certKey: string, certId: Uint8Array, der: Buffer, thisUpdate: number, nextUpdate: number, status: CachedStatus, position: number): CachedResponse {
    const changed = this.recent.get(certKey);
    if (!changed || changed.id <= position || (changed.issuance && status !== 'unknown')) return this.deps.cache.set(certKey, certId, der, thisUpdate, nextUpdate, status);
    return { der, http: httpCaching(der, thisUpdate, nextUpdate), certKey, certId: Buffer.from(certId), status, refreshAt: refreshAtOf(thisUpdate, nextUpdate) };
  }

  private scheduleWrite(): void {
    if (this.pending.length >= 500) void this.flush();
    else if (!this.timer) {
      this.timer = setTimeout(() => void this.flush(), this.deps.writeDelayMs ?? 50);
      this.timer.unref();
    }
  }
}
