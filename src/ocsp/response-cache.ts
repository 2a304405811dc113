import { createHash } from 'node:crypto';
import type { HttpCaching, OcspAnswer } from './source.js';

/** A pre-signed response held in memory, keyed by the exact CertID bytes it answers. */
export interface CachedResponse extends OcspAnswer {
  http: HttpCaching;
  /** `${caId}:${serial}`: what a status change invalidates. */
  certKey: string;
  /** The CertID DER it answers (to re-sign the same CertID after a revocation). */
  certId: Buffer;
  /** What it says: an issuance only makes an "unknown" stale. */
  status: 'good' | 'revoked' | 'unknown';
  /** After this instant the response is re-signed on the next request (the freshness check). */
  refreshAt: number;
}

/** Caching data of a response signed for [thisUpdate, nextUpdate]. */
export function httpCaching(der: Uint8Array, thisUpdate: number, nextUpdate: number): HttpCaching {
  return {
    thisUpdate,
    nextUpdate,
    etag: `"${createHash('sha256').update(der).digest('base64url').slice(0, 27)}"`,
    lastModified: new Date(thisUpdate).toUTCString(),
    expires: new Date(nextUpdate).toUTCString(),
  };
}

/** Bookkeeping cost per entry beyond its DER (map slots, strings, the object). */
const ENTRY_OVERHEAD = 400;

/**
 * The in-memory tier of the pre-signed responses: exact CertID bytes → response. Bounded by a byte budget
 * and evicted oldest-inserted first (a FIFO, so a hit costs one Map lookup and no reordering); the store
 * holds everything that falls out. Entries of one certificate are found by its `certKey`, for invalidation.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private readonly byCert = new Map<string, string[]>();
  private bytes = 0;

  constructor(private readonly maxBytes: number) {}

  get size(): number {
    return this.entries.size;
  }

  get usedBytes(): number {
    return this.bytes;
  }

  get(key: string): CachedResponse | undefined {
    return this.entries.get(key);
  }

  set(key: string, entry: CachedResponse): void {
    this.delete(key);
    this.entries.set(key, entry);
    const keys = this.byCert.get(entry.certKey);
    if (keys) keys.push(key);
    else this.byCert.set(entry.certKey, [key]);
    this.bytes += entry.der.length + ENTRY_OVERHEAD;
    while (this.bytes > this.maxBytes && this.entries.size > 1) {
      const oldest = this.entries.keys().next().value as string;
      this.delete(oldest);
    }
  }

  /** Drops the responses of one certificate (those `which` selects); returns them (to re-sign the same CertIDs). */
  deleteCert(certKey: string, which: (e: CachedResponse) => boolean = () => true): CachedResponse[] {
    const keys = this.byCert.get(certKey);
    if (!keys) return [];
    const removed: CachedResponse[] = [];
    for (const k of [...keys]) {
      const e = this.entries.get(k);
      if (!e || !which(e)) continue;
      removed.push(e);
      this.delete(k);
    }
    return removed;
  }

  clear(): void {
    this.entries.clear();
    this.byCert.clear();
    this.bytes = 0;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= e.der.length + ENTRY_OVERHEAD;
    const keys = this.byCert.get(e.certKey);
    if (!keys) return;
    const i = keys.indexOf(key);
    if (i >= 0) keys.splice(i, 1);
    if (keys.length === 0) this.byCert.delete(e.certKey);
  }
}

/** The cache key of a CertID: its DER bytes as a latin1 string (cheap to make, exact to compare). */
export function certIdKey(certId: Uint8Array): string {
  return Buffer.from(certId.buffer, certId.byteOffset, certId.length).toString('latin1');
}
