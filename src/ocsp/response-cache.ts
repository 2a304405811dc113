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

/**
 * What an entry costs beyond the bytes counted one by one (`entryBytes`): the entry and its caching-data
 * objects, two Buffer objects with their backing-store records, a slot in each of the two maps and in the
 * certificate's key list. Measured with `npm run bench -- ocsp` (resident memory per cached response).
 */
export const ENTRY_OVERHEAD = 640;

/**
 * The real memory of an entry (issue 10, hole 3: the budget once counted 400 bytes an entry while each
 * pinned an 8 KiB pool slab): its bytes — response, CertID, keys, header strings — plus the fixed overhead.
 * The buffers it holds are its own (`ownBytes`), so nothing else is kept alive behind them.
 */
export function entryBytes(key: string, e: CachedResponse): number {
  const h = e.http;
  return e.der.buffer.byteLength + e.certId.buffer.byteLength + key.length + e.certKey.length + h.etag.length + h.lastModified.length + h.expires.length + ENTRY_OVERHEAD;
}

/**
 * A copy of `b` in memory of its own, unless it already is. Small Buffers are slices of a shared 8 KiB
 * pool: keeping one alive in a cache keeps the whole slab alive, which is what drove the resident memory
 * of a responder to ~9 KiB per cached response.
 */
export function ownBytes(b: Uint8Array): Buffer {
  if (b.byteOffset === 0 && b.buffer.byteLength === b.byteLength) return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, 0, b.byteLength);
  const out = Buffer.allocUnsafeSlow(b.byteLength);
  out.set(b);
  return out;
}

/**
 * The in-memory tier of the pre-signed responses: exact CertID bytes → response. Bounded by a byte budget
 * and evicted oldest-inserted first (a FIFO, so a hit costs one Map lookup and no reordering); the store
 * holds everything that falls out. Entries of one certificate are found by its `certKey`, for invalidation.
 */
export class ResponseCache {
  private readonly entries = new Map<string, CachedResponse>();
  private readonly sizes = new Map<string, number>();
  private readonly byCert = new Map<string, string[]>();
  private bytes = 0;
  private derBytes = 0;

  constructor(private readonly maxBytes: number) {}

  /** The responses' own bytes (DER), without the bookkeeping `usedBytes` counts too. */
  get responseBytes(): number {
    return this.derBytes;
  }

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
    const size = entryBytes(key, entry);
    this.sizes.set(key, size);
    this.bytes += size;
    this.derBytes += entry.der.byteLength;
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
    this.sizes.clear();
    this.byCert.clear();
    this.bytes = 0;
    this.derBytes = 0;
  }

  private delete(key: string): void {
    const e = this.entries.get(key);
    if (!e) return;
    this.entries.delete(key);
    this.bytes -= this.sizes.get(key) ?? 0;
    this.derBytes -= e.der.byteLength;
    this.sizes.delete(key);
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
