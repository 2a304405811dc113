/**
 * A streaming X.509 v2 CRL encoder for CRLs of millions of entries (docs/crl.md).
 *
 * The library builders cannot do this: @peculiar/x509's X509CrlGenerator is O(N²) (a duplicate-serial scan
 * per entry: 100k entries took 518 s) and building asn1-x509's TBSCertList holds every entry as objects (1M
 * ran out of a 4 GB heap) — notes/libraries.md §3. Here the entries are pulled one at a time from a (sync or
 * async) iterator and written straight into large byte chunks; no per-entry object survives the loop. Once the
 * iterator ends the lengths are known, so the TBSCertList is framed in one output buffer (header, the fixed
 * fields, the chunks copied once, the CRL extensions), signed in place, and the outer SEQUENCE is written
 * in front of it.
 *
 *   CertificateList ::= SEQUENCE { tbsCertList TBSCertList, signatureAlgorithm AlgorithmIdentifier, signatureValue BIT STRING }
 *   TBSCertList ::= SEQUENCE { version INTEGER v2(1), signature AlgorithmIdentifier, issuer Name, thisUpdate Time,
 *       nextUpdate Time, revokedCertificates SEQUENCE OF SEQUENCE { userCertificate CertificateSerialNumber,
 *       revocationDate Time, crlEntryExtensions Extensions OPTIONAL } OPTIONAL, crlExtensions [0] EXPLICIT Extensions OPTIONAL }
 *
 * Encoding decisions (RFC 5280 §5):
 * - Always version 2, and nextUpdate is required (§5.1.2.5: conforming issuers MUST include it).
 * - An empty revokedCertificates is omitted, never written as an empty SEQUENCE (§5.1.2.6).
 * - Times are UTCTime through 2049 and GeneralizedTime from 2050 (§5.1.2.4), whole seconds (milliseconds are
 *   dropped). invalidityDate is always GeneralizedTime (§5.3.2).
 * - Reason 0 (unspecified) is written as no reasonCode extension: §5.3.1 says the extension SHOULD be absent
 *   rather than carry unspecified, and a relying party reads an absent reason as unspecified, so JPKI's
 *   "destroyed before delivery" (jpki-profile.md §1.5) loses nothing. 7 and values above 10 are refused;
 *   removeFromCRL (8) only in a delta CRL (§5.3.1).
 * - Entry extensions in the order reasonCode, invalidityDate (as @peculiar/x509 writes them).
 * - Serial numbers are written as minimal positive INTEGERs of at most 20 octets (§4.1.2.2); zero is refused.
 *   Serials are not checked for duplicates (that would need the whole list in memory); the store's primary
 *   key guarantees uniqueness.
 */
import {
  sequence,
  integer,
  time,
  explicit,
  headerLength,
  writeLengthAt,
  readSingle,
  TAG,
  DerError,
} from './der.js';
import { algorithmIdentifier } from './signed.js';
import { readExtension, reasonCode, invalidityDate as invalidityDateExtension, isCrlReasonCode, CRL_REASON } from './extensions.js';
import { OID_EXT_DELTA_CRL_INDICATOR } from './oids.js';
import { PkiError } from './errors.js';
import type { Signer } from './signer.js';

export interface CrlEntryInput {
  /** Big-endian magnitude bytes, or the same as hex (upper or lower case, leading zeros allowed). */
  serial: Uint8Array | string;
  revocationDate: Date;
  /** RFC 5280 CRLReason (see CRL_REASON). Absent or 0 (unspecified): no reasonCode extension. */
  reason?: number;
  /** When the key is known or suspected to have been compromised; written as the invalidityDate extension. */
  invalidityDate?: Date;
}

/**
 * Many entries at once, in columns, with no object per entry: how a store pages out a CRL of millions
 * (store/certificates.ts `revokedPages`). Entry i of a batch has the serial
 * `serials[serialEnds[i − 1] (0 for the first) … serialEnds[i]]`, the revocation time `revocationTimes[i]`
 * (ms since the epoch; written as whole seconds) and the CRLReason `reasons[i]` (0, unspecified: no
 * reasonCode extension). The arrays may be longer than `count`; only the first `count` entries are read, and
 * the encoder has read them all before it asks for the next batch, so a source may refill the same arrays.
 * Columns carry no invalidity date (give single entries for that).
 */
export interface CrlEntryColumns {
  count: number;
  /** The serials' big-endian magnitude bytes, one after another (leading zero bytes allowed). */
  serials: Uint8Array;
  serialEnds: Uint32Array;
  revocationTimes: Float64Array;
  reasons: Uint8Array;
}

export interface CrlParams {
  /** DER Name: the CA certificate's subject bytes, copied verbatim. */
  issuer: Uint8Array;
  signer: Signer;
  thisUpdate: Date;
  nextUpdate: Date;
  /** Complete Extension TLVs (extensions.ts), e.g. AKI, crlNumber, IDP, deltaCRLIndicator; written in this order. */
  extensions: Uint8Array[];
  /** The entries one by one. Exactly one of `entries` and `entryColumns` is given. */
  entries?: Iterable<CrlEntryInput> | AsyncIterable<CrlEntryInput>;
  /** The entries in column batches (CrlEntryColumns), in the order they are written. */
  entryColumns?: Iterable<CrlEntryColumns> | AsyncIterable<CrlEntryColumns>;
  /**
   * About how many entries will come (e.g. a COUNT from the store). With it the encoder writes the entries
   * straight into the output buffer and frames the CRL in place, instead of copying its chunks once more at
   * the end — a CRL of a million entries then needs its size in memory once, not twice. A wrong guess only
   * costs that copy.
   */
  expectedEntries?: number;
}

/** Entries are written into chunks of this size; a chunk is closed when the next entry does not fit. */
const CHUNK_SIZE = 1 << 20;
/**
 * Largest entry: SEQUENCE header 2 + serial INTEGER 22 + GeneralizedTime 17 + extensions 2 + reasonCode 14
 * + invalidityDate 26 = 83 bytes, so every entry's length fits in one length octet.
 */
const MAX_ENTRY = 128;
/** Room after the TBS for the AlgorithmIdentifier and the signature BIT STRING (RSA-8192 needs 1,029 bytes). */
const TAIL_ROOM = 1152;
/** Room before the TBS for the outer SEQUENCE header (at most 6 bytes). */
const HEAD_ROOM = 6;
/** In-place writing (`expectedEntries`): room reserved per expected entry, and the smallest CRL it is worth it for. */
const IN_PLACE_ENTRY = 64;
const IN_PLACE_MIN_ENTRIES = 1024;

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) {
  HEX[65 + i] = 10 + i;
  HEX[97 + i] = 10 + i;
}

function invalid(message: string, params: Record<string, string | number> = {}): PkiError {
  return new PkiError('CRL_INPUT_INVALID', message, params);
}

function checkDate(d: unknown, what: string): Date {
  if (!(d instanceof Date) || !Number.isFinite(d.getTime())) throw invalid(`${what} is not a valid Date`);
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 9999) throw invalid(`${what} year ${y} is outside 1950–9999`);
  return d;
}

/** Accumulates entries in large chunks. */
class EntryWriter {
  readonly chunks: Buffer[] = [];
  buf: Buffer;
  /** Where the current buffer's entries start, and how far they may go. */
  private base: number;
  private limit: number;
  pos: number;
  total = 0;
  count = 0;
  /** Scratch for a parsed serial (magnitude, before stripping). */
  private readonly serialScratch = new Uint8Array(64);
  private readonly allowRemoveFromCrl: boolean;
  private readonly times = new TimeWriter();

  /** `first`: a buffer to fill from `first.start` up to `first.limit` before chunks are used. */
  constructor(allowRemoveFromCrl: boolean, first?: { buf: Buffer; start: number; limit: number }) {
    this.allowRemoveFromCrl = allowRemoveFromCrl;
    this.buf = first?.buf ?? Buffer.allocUnsafe(CHUNK_SIZE);
    this.base = this.pos = first?.start ?? 0;
    this.limit = first?.limit ?? this.buf.length;
  }

  private flush(): void {
    this.chunks.push(this.buf.subarray(this.base, this.pos));
    this.total += this.pos - this.base;
    this.buf = Buffer.allocUnsafe(CHUNK_SIZE);
    this.base = this.pos = 0;
    this.limit = this.buf.length;
  }

  /** Writes one RevokedCertificate. */
  add(e: CrlEntryInput): void {
    const index = this.count;
    if (e === null || typeof e !== 'object') throw invalid(`entry ${index} is not an object`, { index });
    if (this.pos + MAX_ENTRY > this.limit) this.flush();
    const buf = this.buf;
    const start = this.pos;
    let p = start + 2; // the SEQUENCE header goes in front once the length is known (always < 128)

    // userCertificate: minimal positive INTEGER
    const s = this.serialScratch;
    let n: number;
    const serial = e.serial;
    if (typeof serial === 'string') {
      const len = serial.length;
      if (len === 0 || len > 128) throw invalid(`entry ${index}: serial ${JSON.stringify(serial.slice(0, 40))} is not 1–128 hex digits`, { index });
      n = (len + 1) >> 1;
      let j = 0;
      let i = 0;
      if (len & 1) {
        const v = HEX[serial.charCodeAt(0)] ?? -1;
        if (v < 0) throw invalid(`entry ${index}: serial ${JSON.stringify(serial)} is not hex`, { index });
        s[j++] = v;
        i = 1;
      }
      for (; i < len; i += 2) {
        const hi = HEX[serial.charCodeAt(i)] ?? -1;
        const lo = HEX[serial.charCodeAt(i + 1)] ?? -1;
        if (hi < 0 || lo < 0) throw invalid(`entry ${index}: serial ${JSON.stringify(serial)} is not hex`, { index });
        s[j++] = (hi << 4) | lo;
      }
    } else if (serial instanceof Uint8Array) {
      n = serial.length;
      if (n > 64) throw invalid(`entry ${index}: serial of ${n} bytes is too long`, { index });
      s.set(serial);
    } else {
      throw invalid(`entry ${index}: serial must be hex text or bytes`, { index });
    }
    p = writeSerial(buf, p, s, 0, n, index);

    // revocationDate
    const d = e.revocationDate;
    if (!(d instanceof Date)) throw invalid(`entry ${index}: revocationDate is not a Date`, { index });
    p = this.times.write(buf, p, d.getTime(), index);

    // crlEntryExtensions
    const reason = e.reason;
    const hasReason = reason !== undefined && reason !== CRL_REASON.unspecified;
    if (reason !== undefined && !isCrlReasonCode(reason)) throw invalid(`entry ${index}: ${String(reason)} is not a CRLReason code (0–10 except 7)`, { index });
    if (reason === CRL_REASON.removeFromCRL && !this.allowRemoveFromCrl)
      throw invalid(`entry ${index}: removeFromCRL (8) may only appear in a delta CRL (RFC 5280 §5.3.1)`, { index });
    const inv = e.invalidityDate;
    if (hasReason || inv !== undefined) {
      const extStart = p;
      p += 2;
      if (hasReason) {
        const r = reasonCode(reason);
        buf.set(r, p);
        p += r.length;
      }
      if (inv !== undefined) {
        checkDate(inv, `entry ${index}: invalidityDate`);
        const v = invalidityDateExtension(inv);
        buf.set(v, p);
        p += v.length;
      }
      buf[extStart] = TAG.SEQUENCE;
      buf[extStart + 1] = p - extStart - 2;
    }
    buf[start] = TAG.SEQUENCE;
    buf[start + 1] = p - start - 2;
    this.pos = p;
    this.count++;
  }

  /** Writes a batch of entries given in columns: the same bytes `add` writes for each, without an object per entry. */
  addColumns(c: CrlEntryColumns): void {
    if (c === null || typeof c !== 'object') throw invalid(`entry batch before entry ${this.count} is not an object`);
    const { count, serials, serialEnds, revocationTimes, reasons } = c;
    if (!Number.isInteger(count) || count < 0) throw invalid(`entry batch before entry ${this.count}: count ${String(count)} is not a whole number`);
    if (!(serials instanceof Uint8Array) || !(serialEnds instanceof Uint32Array) || !(revocationTimes instanceof Float64Array) || !(reasons instanceof Uint8Array))
      throw invalid(`entry batch before entry ${this.count}: serials, serialEnds, revocationTimes and reasons must be a Uint8Array, Uint32Array, Float64Array and Uint8Array`);
    if (serialEnds.length < count || revocationTimes.length < count || reasons.length < count || (count > 0 && serialEnds[count - 1]! > serials.length))
      throw invalid(`entry batch before entry ${this.count}: its columns hold fewer than ${count} entries`);
    const times = this.times;
    const reasonExt = this.allowRemoveFromCrl ? REASON_EXTENSIONS_DELTA : REASON_EXTENSIONS;
    let from = 0;
    for (let k = 0; k < count; k++) {
      const index = this.count;
      if (this.pos + MAX_ENTRY > this.limit) this.flush();
      const buf = this.buf;
      const start = this.pos;
      const to = serialEnds[k]!;
      if (to < from || to - from > 64) throw invalid(`entry ${index}: serial of ${to - from} bytes is ${to < from ? 'a negative length' : 'too long'}`, { index });
      let p = writeSerial(buf, start + 2, serials, from, to, index);
      from = to;
      p = times.write(buf, p, revocationTimes[k]!, index);
      const reason = reasons[k]!;
      if (reason !== 0) {
        const r = reasonExt[reason];
        if (r === undefined) {
          if (reason === CRL_REASON.removeFromCRL) throw invalid(`entry ${index}: removeFromCRL (8) may only appear in a delta CRL (RFC 5280 §5.3.1)`, { index });
          throw invalid(`entry ${index}: ${reason} is not a CRLReason code (0–10 except 7)`, { index });
        }
        buf[p] = TAG.SEQUENCE;
        buf[p + 1] = r.length;
        buf.set(r, p + 2);
        p += 2 + r.length;
      }
      buf[start] = TAG.SEQUENCE;
      buf[start + 1] = p - start - 2;
      this.pos = p;
      this.count++;
    }
  }

  finish(): void {
    if (this.pos > this.base) this.chunks.push(this.buf.subarray(this.base, this.pos));
    this.total += this.pos - this.base;
    this.buf = Buffer.alloc(0);
    this.base = this.pos = 0;
  }
}

/**
 * Writes `bytes[from … to)` (a serial's magnitude) at `p` as a minimal positive INTEGER; returns the new
 * position. Leading zero bytes are dropped and a zero byte is put in front of a high bit.
 */
function writeSerial(buf: Buffer, p: number, bytes: Uint8Array, from: number, to: number, index: number): number {
  let first = from;
  while (first < to && bytes[first] === 0) first++;
  if (first === to) throw invalid(`entry ${index}: serial number 0 is not a positive integer (RFC 5280 §4.1.2.2)`, { index });
  const sign = bytes[first]! & 0x80 ? 1 : 0;
  const contentLen = to - first + sign;
  if (contentLen > 20) throw invalid(`entry ${index}: serial number is ${contentLen} octets; RFC 5280 §4.1.2.2 allows at most 20`, { index });
  buf[p++] = TAG.INTEGER;
  buf[p++] = contentLen;
  if (sign) buf[p++] = 0;
  for (let i = first; i < to; i++) buf[p++] = bytes[i]!;
  return p;
}

/** The reasonCode extension TLV of each code (undefined: not allowed there), for CRLs and for delta CRLs. */
const REASON_EXTENSIONS: (Buffer | undefined)[] = Array.from({ length: 256 }, (_, r) => (r !== 0 && r !== CRL_REASON.removeFromCRL && isCrlReasonCode(r) ? reasonCode(r) : undefined));
const REASON_EXTENSIONS_DELTA: (Buffer | undefined)[] = REASON_EXTENSIONS.map((e, r) => (r === CRL_REASON.removeFromCRL ? reasonCode(r) : e));

const DAY_MS = 86_400_000;

/**
 * Writes RFC 5280 Times (UTCTime 1950–2049, GeneralizedTime after, whole seconds). Entries of a large CRL
 * fall on few days, so the tag, length and date digits of the last day are kept and only the time of day
 * is computed per entry.
 */
class TimeWriter {
  private day = NaN;
  /** Tag, length and YYMMDD (UTCTime) or YYYYMMDD (GeneralizedTime) of `day`. */
  private readonly head = Buffer.alloc(10);
  private headLen = 0;

  /** Writes the Time of `ms` (ms since the epoch) at `p`; returns the new position. */
  write(buf: Buffer, p: number, ms: number, index: number): number {
    if (!Number.isFinite(ms)) throw invalid(`entry ${index}: revocationDate is not a valid Date`, { index });
    const day = Math.floor(ms / DAY_MS);
    if (day !== this.day) this.startDay(day, index);
    const head = this.head;
    for (let i = 0; i < this.headLen; i++) buf[p++] = head[i]!;
    let s = Math.floor((ms - day * DAY_MS) / 1000);
    const h = (s / 3600) | 0;
    s -= h * 3600;
    const m = (s / 60) | 0;
    s -= m * 60;
    buf[p] = 48 + ((h / 10) | 0);
    buf[p + 1] = 48 + (h % 10);
    buf[p + 2] = 48 + ((m / 10) | 0);
    buf[p + 3] = 48 + (m % 10);
    buf[p + 4] = 48 + ((s / 10) | 0);
    buf[p + 5] = 48 + (s % 10);
    buf[p + 6] = 0x5a; // 'Z'
    return p + 7;
  }

  private startDay(day: number, index: number): void {
    const d = new Date(day * DAY_MS);
    const y = d.getUTCFullYear();
    if (Number.isNaN(y)) throw invalid(`entry ${index}: revocationDate is not a valid Date`, { index });
    if (!(y >= 1950 && y <= 9999)) throw invalid(`entry ${index}: revocationDate year ${y} is outside 1950–9999`, { index });
    const h = this.head;
    let p = 0;
    if (y <= 2049) {
      h[p++] = TAG.UTC_TIME;
      h[p++] = 13;
    } else {
      h[p++] = TAG.GENERALIZED_TIME;
      h[p++] = 15;
      d2(h, p, (y / 100) | 0);
      p += 2;
    }
    d2(h, p, y % 100);
    d2(h, p + 2, d.getUTCMonth() + 1);
    d2(h, p + 4, d.getUTCDate());
    this.headLen = p + 6;
    this.day = day;
  }
}

function d2(buf: Buffer, p: number, v: number): void {
  buf[p] = 48 + ((v / 10) | 0);
  buf[p + 1] = 48 + (v % 10);
}

/** Checks the CRL extensions: each one Extension TLV, no OID twice. Returns whether it is a delta CRL. */
function checkExtensions(extensions: readonly Uint8Array[]): boolean {
  const seen = new Set<string>();
  for (const [i, e] of extensions.entries()) {
    let oid: string;
    try {
      oid = readExtension(e, readSingle(e)).oid;
    } catch (err) {
      throw new PkiError('CRL_INPUT_INVALID', `CRL extension ${i} is not one DER Extension: ${(err as Error).message}`, { index: i }, { cause: err });
    }
    if (seen.has(oid)) throw invalid(`CRL extension ${oid} is given twice (RFC 5280 §5.2)`);
    seen.add(oid);
  }
  return seen.has(OID_EXT_DELTA_CRL_INDICATOR);
}

function isSyncIterable<T>(x: Iterable<T> | AsyncIterable<T>): x is Iterable<T> {
  return typeof (x as Iterable<T>)[Symbol.iterator] === 'function';
}

/**
 * Encodes and signs a v2 CRL. Entries are consumed lazily from `p.entries`; the result is a view into one
 * buffer holding the complete DER CertificateList.
 */
export async function encodeCrl(p: CrlParams): Promise<Buffer> {
  // ---- the fixed fields, checked before any entry is read
  let issuerOk = false;
  try {
    issuerOk = readSingle(p.issuer).tag === TAG.SEQUENCE;
  } catch (e) {
    if (!(e instanceof DerError)) throw e;
  }
  if (!issuerOk) throw invalid('issuer must be the DER of a Name (one SEQUENCE)');
  checkDate(p.thisUpdate, 'thisUpdate');
  checkDate(p.nextUpdate, 'nextUpdate');
  if (p.nextUpdate.getTime() <= p.thisUpdate.getTime()) throw invalid('nextUpdate must be later than thisUpdate');
  if ((p.entries === undefined) === (p.entryColumns === undefined)) throw invalid('give the entries either one by one (entries) or in columns (entryColumns)');
  const isDelta = checkExtensions(p.extensions);
  const alg = algorithmIdentifier(p.signer.algorithm);
  const prefix = Buffer.concat([integer(1), alg, p.issuer, time(p.thisUpdate), time(p.nextUpdate)]);
  const crlExtensions = p.extensions.length ? explicit(0, sequence(...p.extensions)) : Buffer.alloc(0);

  // ---- the entries: into the output buffer itself when their number is known roughly, else into chunks
  // Room in front of the entries for the outer, TBS and revokedCertificates headers and the fixed fields.
  const front = 3 * 6 + prefix.length;
  let single: Buffer | undefined;
  if (p.expectedEntries !== undefined && p.expectedEntries >= IN_PLACE_MIN_ENTRIES) {
    // Pages never written are never resident: a generous guess costs address space, not memory.
    single = Buffer.allocUnsafe(front + Math.ceil(p.expectedEntries * 1.1) * IN_PLACE_ENTRY + crlExtensions.length + TAIL_ROOM);
  }
  const w = new EntryWriter(isDelta, single && { buf: single, start: front, limit: single.length - crlExtensions.length - TAIL_ROOM });
  if (p.entryColumns) {
    if (isSyncIterable(p.entryColumns)) for (const c of p.entryColumns) w.addColumns(c);
    else for await (const c of p.entryColumns) w.addColumns(c);
  } else if (isSyncIterable(p.entries!)) {
    for (const e of p.entries) w.add(e);
  } else {
    for await (const e of p.entries!) w.add(e);
  }
  w.finish();

  const revokedLen = w.count ? headerLength(w.total) + w.total : 0;
  const tbsContentLen = prefix.length + revokedLen + crlExtensions.length;
  const tbsLen = headerLength(tbsContentLen) + tbsContentLen;

  // In place, the headers and fixed fields go right in front of the entries already in `single`; otherwise the
  // TBSCertList is framed once in a new buffer and the chunks are copied in.
  const inPlace = single !== undefined && (w.count === 0 || (w.chunks.length === 1 && w.chunks[0]!.buffer === single.buffer));
  const out = inPlace ? single! : Buffer.allocUnsafe(HEAD_ROOM + tbsLen + TAIL_ROOM);
  const tbsStart = inPlace ? front - (w.count ? headerLength(w.total) : 0) - prefix.length - headerLength(tbsContentLen) : HEAD_ROOM;
  let o = tbsStart;
  out[o] = TAG.SEQUENCE;
  o += 1 + writeLengthAt(out, o + 1, tbsContentLen);
  o += prefix.copy(out, o);
  if (w.count) {
    out[o] = TAG.SEQUENCE;
    o += 1 + writeLengthAt(out, o + 1, w.total);
    if (inPlace) o += w.total;
    else {
      const chunks = w.chunks;
      for (let i = 0; i < chunks.length; i++) {
        o += chunks[i]!.copy(out, o);
        chunks[i] = EMPTY; // let each chunk go as soon as it is copied
      }
    }
  }
  o += crlExtensions.copy(out, o);
  if (o !== tbsStart + tbsLen) throw new Error(`CRL framing error: wrote ${o - tbsStart} of ${tbsLen} TBS bytes`);

  // ---- sign, then write the algorithm, the signature and the outer header around the TBS
  const tbsEnd = o;
  const signature = await p.signer.sign(out.subarray(tbsStart, tbsEnd));
  const bitStringContent = signature.length + 1;
  const tailLen = alg.length + headerLength(bitStringContent) + bitStringContent;
  if (tailLen > TAIL_ROOM) {
    // a signature larger than any key we support: fall back to one more copy
    const tbs = out.subarray(tbsStart, tbsEnd);
    return sequence(tbs, alg, Buffer.concat([Buffer.from([TAG.BIT_STRING]), encodeLen(bitStringContent), Buffer.from([0]), signature]));
  }
  o += alg.copy(out, o);
  out[o] = TAG.BIT_STRING;
  o += 1 + writeLengthAt(out, o + 1, bitStringContent);
  out[o++] = 0;
  out.set(signature, o);
  o += signature.length;
  const outerContentLen = o - tbsStart;
  const start = tbsStart - headerLength(outerContentLen);
  out[start] = TAG.SEQUENCE;
  writeLengthAt(out, start + 1, outerContentLen);
  return out.subarray(start, o);
}

const EMPTY = Buffer.alloc(0);

function encodeLen(len: number): Buffer {
  const b = Buffer.alloc(headerLength(len) - 1);
  writeLengthAt(b, 0, len);
  return b;
}
