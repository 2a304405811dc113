import { createHash } from 'node:crypto';
import type { HttpCaching, OcspAnswer } from './source.js';

export type CachedStatus = 'good' | 'revoked' | 'unknown';

/** A pre-signed response held in memory, keyed by the exact CertID bytes it answers. */
export interface CachedResponse extends OcspAnswer {
  http: HttpCaching;
  /** `${caId}:${serial}`: what a status change invalidates. */
  certKey: string;
  /** The CertID DER it answers (to re-sign the same CertID after a revocation). */
  certId: Buffer;
  /** What it says: an issuance only makes an "unknown" stale. */
  status: CachedStatus;
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

/** Responses are re-signed once half their validity has passed (RFC 5019 §6.1 prefers fresh ones). */
export function refreshAtOf(thisUpdate: number, nextUpdate: number): number {
  return thisUpdate + Math.floor((nextUpdate - thisUpdate) / 2);
}

/**
 * What an entry costs on the JS heap (`usedBytes` counts the arena, the typed arrays and the index apart):
 * its certificate key string and that key's map slot.
 */
export const ENTRY_OVERHEAD = 160;

/** Bytes of typed arrays per slot: slab, offset, two lengths, hash, chain (4 each), three text lengths, three times (8 each), status. */
const SLOT_BYTES = 6 * 4 + 3 + 3 * 8 + 1;

const STATUS: readonly CachedStatus[] = ['good', 'revoked', 'unknown'];
const MAX_SLAB = 4 * 2 ** 20;
const MIN_SLAB = 16 * 1024;

/**
 * The in-memory tier of the pre-signed responses (issue 12): exact CertID bytes → response. Everything an
 * entry holds — CertID, DER response, ETag and date headers — is copied into a few large Buffers (slabs, up
 * to 4 MiB each) and described by numbers in typed arrays; the index is an open-addressing hash table of
 * slot numbers. So a cached response is no JS object at all: 20,000 of them cost the garbage collector a
 * few dozen objects instead of ~10 each, and resident memory stays close to the responses' own bytes.
 *
 * Bounded by a byte budget and evicted a whole slab at a time, oldest first (FIFO, as before: a hit costs
 * one hash lookup and no reordering); the store holds everything that falls out. A replaced or invalidated
 * entry leaves a hole in its slab until that slab is evicted. Entries of one certificate are chained by
 * its `certKey` (`${caId}:${serial}`), for invalidation.
 */
export class ResponseCache {
  private slabs: (Buffer | undefined)[] = [];
  /** Index of the oldest slab still held (slabs before it were evicted). */
  private firstSlab = 0;
  private writeAt = 0;
  private slabBytes: number;
  private heldBytes = 0;

  // per slot
  private slabOf = new Int32Array(0);
  private offset = new Int32Array(0);
  private idLength = new Int32Array(0);
  private derLength = new Int32Array(0);
  private textLengths = new Uint8Array(0);
  private times = new Float64Array(0);
  private statusOf = new Uint8Array(0);
  private hashOf = new Int32Array(0);
  private nextOfCert = new Int32Array(0);
  private certKeys: (string | undefined)[] = [];
  private freeSlots: number[] = [];
  private slotCount = 0;

  /** CertID hash → slot + 1 (0: empty), linear probing. */
  private table = new Int32Array(1024);
  /** certKey → the first slot of its chain. */
  private readonly byCert = new Map<string, number>();
  private entries = 0;
  private derBytes = 0;

  constructor(private readonly maxBytes: number) {
    this.slabBytes = Math.max(MIN_SLAB, Math.min(MAX_SLAB, 2 ** Math.floor(Math.log2(Math.max(1, maxBytes / 16)))));
  }

  /** The responses' own bytes (DER), without the bookkeeping `usedBytes` counts too. */
  get responseBytes(): number {
    return this.derBytes;
  }

  get size(): number {
    return this.entries;
  }

  /** What the cache holds in memory: its slabs, typed arrays and index, and the per-entry overhead. */
  get usedBytes(): number {
    if (this.entries === 0) return 0;
    return this.heldBytes + this.table.byteLength + this.slabOf.length * SLOT_BYTES + this.entries * ENTRY_OVERHEAD;
  }

  /** The slot holding exactly these CertID bytes, or -1. */
  find(certId: Uint8Array): number {
    if (this.entries === 0) return -1;
    const h = hashBytes(certId);
    const mask = this.table.length - 1;
    for (let i = h & mask; ; i = (i + 1) & mask) {
      const v = this.table[i]!;
      if (v === 0) return -1;
      const slot = v - 1;
      if (this.hashOf[slot] === h && this.sameId(slot, certId)) return slot;
    }
  }

  /** The instant after which the response in `slot` is to be re-signed. */
  refreshAt(slot: number): number {
    return this.times[slot * 3 + 2]!;
  }

  /** The answer in `slot`: the response bytes are a view into the slab (slabs are only appended to, never rewritten). */
  answerAt(slot: number): OcspAnswer & { http: HttpCaching } {
    const slab = this.slabs[this.slabOf[slot]!]!;
    const der = this.offset[slot]! + this.idLength[slot]!;
    const etag = der + this.derLength[slot]!;
    const lm = etag + this.textLengths[slot * 3]!;
    const ex = lm + this.textLengths[slot * 3 + 1]!;
    return {
      der: slab.subarray(der, etag),
      http: {
        thisUpdate: this.times[slot * 3]!,
        nextUpdate: this.times[slot * 3 + 1]!,
        etag: slab.toString('latin1', etag, lm),
        lastModified: slab.toString('latin1', lm, ex),
        expires: slab.toString('latin1', ex, ex + this.textLengths[slot * 3 + 2]!),
      },
    };
  }

  /** The whole entry in `slot`. */
  entry(slot: number): CachedResponse {
    const id = this.offset[slot]!;
    return {
      ...this.answerAt(slot),
      certKey: this.certKeys[slot]!,
      certId: this.slabs[this.slabOf[slot]!]!.subarray(id, id + this.idLength[slot]!),
      status: STATUS[this.statusOf[slot]!]!,
      refreshAt: this.times[slot * 3 + 2]!,
    };
  }

  get(certId: Uint8Array): CachedResponse | undefined {
    const slot = this.find(certId);
    return slot < 0 ? undefined : this.entry(slot);
  }

  /** Copies a response into the cache (replacing the one for the same CertID) and returns the cached entry. */
  set(certKey: string, certId: Uint8Array, der: Uint8Array, thisUpdate: number, nextUpdate: number, status: CachedStatus): CachedResponse {
    const old = this.find(certId);
    if (old >= 0) this.remove(old);
    const http = httpCaching(der, thisUpdate, nextUpdate);
    const texts = [http.etag, http.lastModified, http.expires];
    const size = certId.length + der.length + texts.reduce((a, t) => a + t.length, 0);
    const slabIndex = this.room(size);
    const slab = this.slabs[slabIndex]!;
    const start = this.writeAt;
    slab.set(certId, start);
    slab.set(der, start + certId.length);
    let o = start + certId.length + der.length;
    for (const t of texts) o += slab.write(t, o, 'latin1');
    this.writeAt = o;

    const slot = this.newSlot();
    this.slabOf[slot] = slabIndex;
    this.offset[slot] = start;
    this.idLength[slot] = certId.length;
    this.derLength[slot] = der.length;
    texts.forEach((t, i) => (this.textLengths[slot * 3 + i] = t.length));
    this.times[slot * 3] = thisUpdate;
    this.times[slot * 3 + 1] = nextUpdate;
    this.times[slot * 3 + 2] = refreshAtOf(thisUpdate, nextUpdate);
    this.statusOf[slot] = STATUS.indexOf(status);
    const h = hashBytes(certId);
    this.hashOf[slot] = h;
    this.certKeys[slot] = certKey;
    this.nextOfCert[slot] = this.byCert.get(certKey) ?? -1;
    this.byCert.set(certKey, slot);
    this.insert(slot, h);
    this.entries++;
    this.derBytes += der.length;
    this.evict();
    return this.entry(slot);
  }

  /** Drops the responses of one certificate (those `which` selects); returns them (to re-sign the same CertIDs). */
  deleteCert(certKey: string, which: (e: CachedResponse) => boolean = () => true): CachedResponse[] {
    const removed: CachedResponse[] = [];
    for (let slot = this.byCert.get(certKey) ?? -1; slot >= 0; ) {
      const next = this.nextOfCert[slot]!;
      const e = this.entry(slot);
      if (which(e)) {
        removed.push(e);
        this.remove(slot);
      }
      slot = next;
    }
    return removed;
  }

  clear(): void {
    this.slabs = [];
    this.firstSlab = 0;
    this.writeAt = 0;
    this.heldBytes = 0;
    this.table.fill(0);
    this.byCert.clear();
    this.certKeys = [];
    this.freeSlots = [];
    this.slotCount = 0;
    this.entries = 0;
    this.derBytes = 0;
  }

  private sameId(slot: number, certId: Uint8Array): boolean {
    const n = certId.length;
    if (this.idLength[slot] !== n) return false;
    const slab = this.slabs[this.slabOf[slot]!]!;
    const o = this.offset[slot]!;
    for (let i = 0; i < n; i++) if (slab[o + i] !== certId[i]) return false;
    return true;
  }

  /** The slab the next `size` bytes go into: the current one, or a new one (of its own for a huge entry). */
  private room(size: number): number {
    const last = this.slabs.length - 1;
    const current = this.slabs[last];
    if (current && this.writeAt + size <= current.length) return last;
    const slab = Buffer.allocUnsafeSlow(Math.max(this.slabBytes, size));
    this.slabs.push(slab);
    this.heldBytes += slab.length;
    this.writeAt = 0;
    return this.slabs.length - 1;
  }

  /** Drops the oldest slabs (and every entry in them) while the cache holds more than its budget. */
  private evict(): void {
    while (this.usedBytes > this.maxBytes && this.slabs.length - this.firstSlab > 1) {
      const victim = this.firstSlab;
      for (let slot = 0; slot < this.slotCount; slot++) if (this.certKeys[slot] !== undefined && this.slabOf[slot] === victim) this.remove(slot);
      this.heldBytes -= this.slabs[victim]!.length;
      this.slabs[victim] = undefined;
      this.firstSlab++;
    }
  }

  private newSlot(): number {
    const free = this.freeSlots.pop();
    if (free !== undefined) return free;
    if (this.slotCount === this.slabOf.length) this.growSlots(Math.max(1024, this.slotCount * 2));
    return this.slotCount++;
  }

  private growSlots(n: number): void {
    const grow = <T extends Int32Array | Uint8Array | Float64Array>(a: T, per = 1): T => {
      const b = new (a.constructor as new (n: number) => T)(n * per);
      b.set(a);
      return b;
    };
    this.slabOf = grow(this.slabOf);
    this.offset = grow(this.offset);
    this.idLength = grow(this.idLength);
    this.derLength = grow(this.derLength);
    this.textLengths = grow(this.textLengths, 3);
    this.times = grow(this.times, 3);
    this.statusOf = grow(this.statusOf);
    this.hashOf = grow(this.hashOf);
    this.nextOfCert = grow(this.nextOfCert);
  }

  /** Puts a slot into the index, doubling the table past half full. */
  private insert(slot: number, h: number): void {
    if ((this.entries + 1) * 2 > this.table.length) {
      const old = this.table;
      this.table = new Int32Array(old.length * 2);
      for (const v of old) if (v !== 0) this.place(v - 1, this.hashOf[v - 1]!);
    }
    this.place(slot, h);
  }

  private place(slot: number, h: number): void {
    const mask = this.table.length - 1;
    let i = h & mask;
    while (this.table[i] !== 0) i = (i + 1) & mask;
    this.table[i] = slot + 1;
  }

  /** Takes a slot out of the index (backward-shift deletion: no tombstones) and out of its certificate's chain. */
  private remove(slot: number): void {
    const mask = this.table.length - 1;
    let i = this.hashOf[slot]! & mask;
    while (this.table[i] !== slot + 1) i = (i + 1) & mask;
    for (let j = (i + 1) & mask; this.table[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashOf[this.table[j]! - 1]! & mask;
      // the entry at j may move into the hole at i when its home is not in (i, j] (cyclically)
      if (i <= j ? home <= i || home > j : home <= i && home > j) {
        this.table[i] = this.table[j]!;
        i = j;
      }
    }
    this.table[i] = 0;

    const certKey = this.certKeys[slot]!;
    const head = this.byCert.get(certKey);
    if (head === slot) {
      const next = this.nextOfCert[slot]!;
      if (next < 0) this.byCert.delete(certKey);
      else this.byCert.set(certKey, next);
    } else {
      let p = head ?? -1;
      while (p >= 0 && this.nextOfCert[p] !== slot) p = this.nextOfCert[p]!;
      if (p >= 0) this.nextOfCert[p] = this.nextOfCert[slot]!;
    }
    this.certKeys[slot] = undefined;
    this.freeSlots.push(slot);
    this.entries--;
    this.derBytes -= this.derLength[slot]!;
  }
}

/** FNV-1a over the CertID bytes (they end in the serial, which spreads them well). */
function hashBytes(b: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, 0x01000193);
  return h | 0;
}

/** The key of a CertID for maps of requests in flight: its DER bytes as a latin1 string (exact to compare). */
export function certIdKey(certId: Uint8Array): string {
  return Buffer.from(certId.buffer, certId.byteOffset, certId.length).toString('latin1');
}
