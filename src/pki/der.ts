/**
 * The project's one small DER module, for the hot paths where the ASN.1 libraries are too slow: the issuance
 * TBS, CRLs of millions of entries, pre-signed OCSP responses, and scanning large CRLs without building
 * objects. Everything else goes through @peculiar/x509, @peculiar/asn1-* and pkijs.
 *
 * Writer: functions that return the complete TLV as a Buffer. Reader: `readTlv` returns offsets into the
 * caller's buffer (no copies); `children` walks a constructed value. Both are tested byte for byte against
 * @peculiar/asn1-schema and OpenSSL (der.test.ts).
 */

// ---- tags ----------------------------------------------------------------------------------------------
export const TAG = {
  BOOLEAN: 0x01,
  INTEGER: 0x02,
  BIT_STRING: 0x03,
  OCTET_STRING: 0x04,
  NULL: 0x05,
  OID: 0x06,
  ENUMERATED: 0x0a,
  UTF8_STRING: 0x0c,
  PRINTABLE_STRING: 0x13,
  IA5_STRING: 0x16,
  UTC_TIME: 0x17,
  GENERALIZED_TIME: 0x18,
  SEQUENCE: 0x30,
  SET: 0x31,
} as const;

export class DerError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(`${message} at byte ${offset}`);
    this.name = 'DerError';
  }
}

// ---- writer --------------------------------------------------------------------------------------------

/** The DER length octets for a content of `len` bytes. */
export function encodeLength(len: number): Buffer {
  if (len < 0x80) return Buffer.from([len]);
  if (len < 0x100) return Buffer.from([0x81, len]);
  if (len < 0x10000) return Buffer.from([0x82, len >> 8, len & 0xff]);
  if (len < 0x1000000) return Buffer.from([0x83, len >> 16, (len >> 8) & 0xff, len & 0xff]);
  return Buffer.from([0x84, (len >>> 24) & 0xff, (len >> 16) & 0xff, (len >> 8) & 0xff, len & 0xff]);
}

/** Number of bytes of the header (tag + length) for a content of `len` bytes. */
export function headerLength(len: number): number {
  return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : len < 0x1000000 ? 5 : 6;
}

/** A TLV with a one-byte tag. */
export function tlv(tag: number, content: Uint8Array): Buffer {
  const len = content.length;
  const h = headerLength(len);
  const out = Buffer.allocUnsafe(h + len);
  out[0] = tag;
  writeLengthAt(out, 1, len);
  out.set(content, h);
  return out;
}

/** A TLV whose content is the concatenation of `parts` (no intermediate copy). */
export function tlvOf(tag: number, parts: readonly Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const h = headerLength(len);
  const out = Buffer.allocUnsafe(h + len);
  out[0] = tag;
  writeLengthAt(out, 1, len);
  let o = h;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Writes the length octets of `len` at `offset`; returns the number of bytes written. */
export function writeLengthAt(buf: Uint8Array, offset: number, len: number): number {
  if (len < 0x80) {
    buf[offset] = len;
    return 1;
  }
  const n = len < 0x100 ? 1 : len < 0x10000 ? 2 : len < 0x1000000 ? 3 : 4;
  buf[offset] = 0x80 | n;
  for (let i = n; i >= 1; i--) {
    buf[offset + i] = len & 0xff;
    len = Math.floor(len / 256);
  }
  return n + 1;
}

export function sequence(...parts: Uint8Array[]): Buffer {
  return tlvOf(TAG.SEQUENCE, parts);
}

/** SET with its elements in the given order (use `setOf` for DER-sorted SET OF). */
export function set(...parts: Uint8Array[]): Buffer {
  return tlvOf(TAG.SET, parts);
}

/** SET OF in DER order: elements sorted by their encodings (X.690 §11.6). */
export function setOf(elements: readonly Uint8Array[]): Buffer {
  // Buffer.compare takes plain Uint8Arrays; an element that is a prefix of another sorts first, which is the
  // X.690 order (the shorter one padded with zero octets) up to ties, and ties are equal encodings.
  const sorted = [...elements].sort((a, b) => Buffer.compare(a, b));
  return tlvOf(TAG.SET, sorted);
}

/** Context-specific EXPLICIT [n] (constructed) around a complete TLV. */
export function explicit(n: number, inner: Uint8Array): Buffer {
  return tlv(0xa0 | contextNumber(n), inner);
}

/** Context-specific IMPLICIT [n]: re-tags `content` bytes (already the inner content) as primitive or constructed. */
export function implicit(n: number, content: Uint8Array, constructed = false): Buffer {
  return tlv((constructed ? 0xa0 : 0x80) | contextNumber(n), content);
}

/** Tag numbers 0–30 fit the one-byte identifier; 31 and up need the high-tag form, which we never write. */
function contextNumber(n: number): number {
  if (!Number.isInteger(n) || n < 0 || n > 30) throw new Error(`context tag [${n}] needs the high-tag-number form`);
  return n;
}

export function boolean(v: boolean): Buffer {
  return Buffer.from([TAG.BOOLEAN, 1, v ? 0xff : 0x00]);
}

export const NULL = Buffer.from([TAG.NULL, 0]);

/**
 * Minimal two's-complement INTEGER content for a non-negative big-endian magnitude: leading zero bytes
 * stripped, one 0x00 added when the high bit is set (OpenSSL rejects non-minimal encodings as BAD INTEGER).
 */
export function unsignedIntegerContent(magnitude: Uint8Array): Buffer {
  let i = 0;
  while (i < magnitude.length - 1 && magnitude[i] === 0) i++;
  const body = magnitude.subarray(i);
  if (body.length === 0) return Buffer.from([0]);
  if (body[0]! & 0x80) return Buffer.concat([Buffer.from([0]), body]);
  return Buffer.from(body);
}

/** INTEGER from a non-negative big-endian magnitude (serial numbers). */
export function unsignedInteger(magnitude: Uint8Array): Buffer {
  return tlv(TAG.INTEGER, unsignedIntegerContent(magnitude));
}

/** INTEGER from a JS number or bigint (may be negative). */
export function integer(value: number | bigint): Buffer {
  return tlv(TAG.INTEGER, integerContent(BigInt(value)));
}

export function integerContent(v: bigint): Buffer {
  if (v === 0n) return Buffer.from([0]);
  const bytes: number[] = [];
  if (v > 0n) {
    while (v > 0n) {
      bytes.unshift(Number(v & 0xffn));
      v >>= 8n;
    }
    if (bytes[0]! & 0x80) bytes.unshift(0);
  } else {
    // two's complement: emit bytes until the remaining value is -1 and the sign bit is set
    for (;;) {
      const b = Number(v & 0xffn);
      bytes.unshift(b);
      v >>= 8n;
      if (v === -1n && b & 0x80) break;
    }
  }
  return Buffer.from(bytes);
}

export function enumerated(value: number): Buffer {
  return tlv(TAG.ENUMERATED, integerContent(BigInt(value)));
}

const oidCache = new Map<string, Buffer>();

/** OBJECT IDENTIFIER from dotted text; encodings are cached (a handful of OIDs are reused millions of times). */
export function oid(dotted: string): Buffer {
  const cached = oidCache.get(dotted);
  if (cached) return cached;
  const arcs = dotted.split('.').map((a) => {
    // decimal arcs without leading zeros ("1.02" is not the same text as "1.2")
    if (!/^(0|[1-9]\d*)$/.test(a)) throw new Error(`invalid OID ${dotted}`);
    return BigInt(a);
  });
  if (arcs.length < 2 || arcs[0]! > 2n || (arcs[0]! < 2n && arcs[1]! > 39n)) throw new Error(`invalid OID ${dotted}`);
  const out: number[] = [];
  const push = (n: bigint) => {
    const group: number[] = [Number(n & 0x7fn)];
    n >>= 7n;
    while (n > 0n) {
      group.unshift(Number(n & 0x7fn) | 0x80);
      n >>= 7n;
    }
    out.push(...group);
  };
  push(arcs[0]! * 40n + arcs[1]!);
  for (const a of arcs.slice(2)) push(a);
  const enc = tlv(TAG.OID, Buffer.from(out));
  oidCache.set(dotted, enc);
  return enc;
}

export function utf8String(s: string): Buffer {
  return tlv(TAG.UTF8_STRING, Buffer.from(s, 'utf8'));
}

const PRINTABLE = /^[A-Za-z0-9 '()+,\-./:=?]*$/;

export function printableString(s: string): Buffer {
  if (!PRINTABLE.test(s)) throw new Error(`not a PrintableString: ${JSON.stringify(s)}`);
  return tlv(TAG.PRINTABLE_STRING, Buffer.from(s, 'latin1'));
}

export function ia5String(s: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(s)) throw new Error(`not an IA5String: ${JSON.stringify(s)}`);
  return tlv(TAG.IA5_STRING, Buffer.from(s, 'latin1'));
}

export function octetString(content: Uint8Array): Buffer {
  return tlv(TAG.OCTET_STRING, content);
}

/** BIT STRING with `unusedBits` (0–7) in the last byte. */
export function bitString(content: Uint8Array, unusedBits = 0): Buffer {
  return tlvOf(TAG.BIT_STRING, [Buffer.from([unusedBits]), content]);
}

/**
 * A named-bit BIT STRING (KeyUsage, ReasonFlags) in DER: trailing zero bits removed (X.690 §11.2.2).
 * `bits` lists the set bit numbers (0 = most significant bit of the first byte).
 */
export function namedBitString(bits: readonly number[]): Buffer {
  if (bits.length === 0) return Buffer.from([TAG.BIT_STRING, 1, 0]);
  const max = Math.max(...bits);
  const bytes = Buffer.alloc(Math.floor(max / 8) + 1);
  for (const b of bits) bytes[b >> 3]! |= 0x80 >> (b & 7);
  const unused = 7 - (max & 7);
  return bitString(bytes, unused);
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/** UTCTime YYMMDDHHMMSSZ (years 1950–2049). */
export function utcTime(d: Date): Buffer {
  const y = d.getUTCFullYear();
  if (y < 1950 || y > 2049) throw new Error(`UTCTime cannot hold year ${y}`);
  return tlv(TAG.UTC_TIME, Buffer.from(timeDigits(d).slice(2) + 'Z', 'latin1'));
}

/** GeneralizedTime YYYYMMDDHHMMSSZ, whole seconds (RFC 5280 §4.1.2.5.2). */
export function generalizedTime(d: Date): Buffer {
  return tlv(TAG.GENERALIZED_TIME, Buffer.from(timeDigits(d) + 'Z', 'latin1'));
}

/** RFC 5280 Time: UTCTime through 2049, GeneralizedTime from 2050. */
export function time(d: Date): Buffer {
  const y = d.getUTCFullYear();
  return y >= 1950 && y <= 2049 ? utcTime(d) : generalizedTime(d);
}

function timeDigits(d: Date): string {
  const t = d.getTime();
  if (!Number.isFinite(t)) throw new Error('invalid date');
  const y = d.getUTCFullYear();
  if (y < 0 || y > 9999) throw new Error(`year ${y} out of range`);
  return (
    String(y).padStart(4, '0') +
    pad2(d.getUTCMonth() + 1) +
    pad2(d.getUTCDate()) +
    pad2(d.getUTCHours()) +
    pad2(d.getUTCMinutes()) +
    pad2(d.getUTCSeconds())
  );
}

// ---- reader --------------------------------------------------------------------------------------------

/** One TLV located in a buffer: offsets only, nothing copied. */
export interface Tlv {
  /** The identifier octet (single-byte tags only; high tag numbers are rejected). */
  tag: number;
  /** Offset of the identifier octet. */
  start: number;
  /** Offset of the first content byte. */
  contentStart: number;
  /** Offset one past the last content byte. */
  end: number;
}

export interface ReadLimits {
  /** Largest content length accepted (default 1 GiB). */
  maxLength?: number;
}

/**
 * Reads the TLV that starts at `offset`, enforcing DER: definite minimal lengths only, single-byte tags,
 * and the whole value inside `limit` (default: the end of `buf`).
 */
export function readTlv(buf: Uint8Array, offset: number, limit = buf.length, limits: ReadLimits = {}): Tlv {
  if (offset >= limit) throw new DerError('unexpected end of data (expected a tag)', offset);
  const tag = buf[offset]!;
  if ((tag & 0x1f) === 0x1f) throw new DerError('high-tag-number form is not supported', offset);
  if (tag === 0) throw new DerError('end-of-contents octets are not DER', offset);
  if (offset + 1 >= limit) throw new DerError('unexpected end of data (expected a length)', offset + 1);
  const first = buf[offset + 1]!;
  let len: number;
  let contentStart: number;
  if (first < 0x80) {
    len = first;
    contentStart = offset + 2;
  } else if (first === 0x80) {
    throw new DerError('indefinite length is not DER', offset + 1);
  } else {
    const n = first & 0x7f;
    if (n > 4) throw new DerError(`length of ${n} octets is too long`, offset + 1);
    if (offset + 2 + n > limit) throw new DerError('unexpected end of data (truncated length)', offset + 1);
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[offset + 2 + i]!;
    if (buf[offset + 2]! === 0 || len < 0x80 || (n > 1 && len < 1 << (8 * (n - 1))))
      throw new DerError('length is not minimally encoded', offset + 1);
    contentStart = offset + 2 + n;
  }
  const max = limits.maxLength ?? 1 << 30;
  if (len > max) throw new DerError(`length ${len} exceeds the limit ${max}`, offset + 1);
  const end = contentStart + len;
  if (end > limit) throw new DerError(`value of ${len} bytes runs past the end of its container`, offset);
  return { tag, start: offset, contentStart, end };
}

/** Reads a TLV and checks its tag. */
export function expectTlv(buf: Uint8Array, offset: number, tag: number, limit = buf.length, what = 'value'): Tlv {
  const t = readTlv(buf, offset, limit);
  if (t.tag !== tag)
    throw new DerError(`expected ${what} (tag 0x${tag.toString(16)}), found tag 0x${t.tag.toString(16)}`, offset);
  return t;
}

/** The TLVs directly inside a constructed value, in order. */
export function* children(buf: Uint8Array, parent: Tlv): Generator<Tlv> {
  if ((parent.tag & 0x20) === 0) throw new DerError('not a constructed value', parent.start);
  let o = parent.contentStart;
  while (o < parent.end) {
    const t = readTlv(buf, o, parent.end);
    yield t;
    o = t.end;
  }
}

/** The children of a constructed value as an array (a plain loop: the generator cost more than the reading). */
export function childList(buf: Uint8Array, parent: Tlv): Tlv[] {
  if ((parent.tag & 0x20) === 0) throw new DerError('not a constructed value', parent.start);
  const out: Tlv[] = [];
  for (let o = parent.contentStart; o < parent.end; ) {
    const t = readTlv(buf, o, parent.end);
    out.push(t);
    o = t.end;
  }
  return out;
}

/**
 * Checks that a TLV is an X.501 Name: SEQUENCE OF RelativeDistinguishedName, each a non-empty SET OF
 * AttributeTypeAndValue { type OBJECT IDENTIFIER, value ANY }. The fast readers hand names on as bytes;
 * this keeps them from passing on what no typed parser would read as a name (found by fuzzing).
 */
export function checkName(buf: Uint8Array, t: Tlv, what = 'Name'): void {
  if (t.tag !== TAG.SEQUENCE) throw new DerError(`${what} is not a SEQUENCE`, t.start);
  for (let r = t.contentStart; r < t.end; ) {
    const rdn = readTlv(buf, r, t.end);
    if (rdn.tag !== TAG.SET || rdn.end === rdn.contentStart) throw new DerError(`${what} has a RelativeDistinguishedName that is not a non-empty SET`, rdn.start);
    for (let a = rdn.contentStart; a < rdn.end; ) {
      const atv = readTlv(buf, a, rdn.end);
      if (atv.tag !== TAG.SEQUENCE) throw new DerError(`${what} has an attribute that is not a SEQUENCE`, atv.start);
      // exactly { type, value }: two TLVs filling the SEQUENCE
      const type = atv.contentStart < atv.end ? readTlv(buf, atv.contentStart, atv.end) : undefined;
      const value = type && type.end < atv.end ? readTlv(buf, type.end, atv.end) : undefined;
      if (!type || !value || value.end !== atv.end) throw new DerError(`${what} has an attribute that is not { type, value }`, atv.start);
      readOid(buf, type);
      a = atv.end;
    }
    r = rdn.end;
  }
}

/** Parses a whole buffer as exactly one TLV (no trailing bytes). */
export function readSingle(buf: Uint8Array, limits: ReadLimits = {}): Tlv {
  const t = readTlv(buf, 0, buf.length, limits);
  if (t.end !== buf.length) throw new DerError(`${buf.length - t.end} trailing bytes after the value`, t.end);
  return t;
}

/** The complete encoding (header + content) of a TLV, as a view. */
export function bytesOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.start, t.end);
}

/** The content octets of a TLV, as a view. */
export function contentOf(buf: Uint8Array, t: Tlv): Uint8Array {
  return buf.subarray(t.contentStart, t.end);
}

/** Dotted text of an OBJECT IDENTIFIER TLV. */
export function readOid(buf: Uint8Array, t: Tlv): string {
  if (t.tag !== TAG.OID) throw new DerError('expected an OBJECT IDENTIFIER', t.start);
  return smallArcsOid(buf, t) ?? bigArcsOid(buf, t);
}

/**
 * The common case in plain numbers (BigInt arithmetic made OIDs a visible part of reading a CMS): every arc
 * below 2^45, so no shift leaves the safe integers. Undefined for anything else, which bigArcsOid reads — and
 * rejects — exactly as before.
 */
function smallArcsOid(buf: Uint8Array, t: Tlv): string | undefined {
  let out = '';
  let v = 0;
  let started = false;
  let first = true;
  for (let i = t.contentStart; i < t.end; i++) {
    const b = buf[i]!;
    if (!started && b === 0x80) return undefined;
    started = true;
    if (v >= 2 ** 38) return undefined;
    v = v * 128 + (b & 0x7f);
    if ((b & 0x80) === 0) {
      if (first) out = v < 40 ? `0.${v}` : v < 80 ? `1.${v - 40}` : `2.${v - 80}`;
      else out += `.${v}`;
      first = false;
      v = 0;
      started = false;
    }
  }
  return started || first ? undefined : out;
}

function bigArcsOid(buf: Uint8Array, t: Tlv): string {
  const arcs: bigint[] = [];
  let v = 0n;
  let started = false;
  for (let i = t.contentStart; i < t.end; i++) {
    const b = buf[i]!;
    if (!started && b === 0x80) throw new DerError('OID arc has a leading 0x80 byte', i);
    started = true;
    v = (v << 7n) | BigInt(b & 0x7f);
    if ((b & 0x80) === 0) {
      arcs.push(v);
      v = 0n;
      started = false;
    }
  }
  if (started || arcs.length === 0) throw new DerError('truncated OBJECT IDENTIFIER', t.start);
  const first = arcs[0]!;
  const head = first < 40n ? [0n, first] : first < 80n ? [1n, first - 40n] : [2n, first - 80n];
  return [...head, ...arcs.slice(1)].join('.');
}

/** Non-negative INTEGER content as big-endian magnitude bytes (leading sign zero removed). */
export function readUnsignedInteger(buf: Uint8Array, t: Tlv): Uint8Array {
  if (t.tag !== TAG.INTEGER) throw new DerError('expected an INTEGER', t.start);
  const c = contentOf(buf, t);
  if (c.length === 0) throw new DerError('empty INTEGER', t.start);
  if (c[0]! & 0x80) throw new DerError('negative INTEGER where a non-negative one is required', t.start);
  if (c.length > 1 && c[0] === 0 && (c[1]! & 0x80) === 0) throw new DerError('INTEGER is not minimally encoded', t.start);
  return c[0] === 0 && c.length > 1 ? c.subarray(1) : c;
}

/** INTEGER (or ENUMERATED) as a bigint (any sign), minimal encoding required (X.690 §8.3.2). */
export function readInteger(buf: Uint8Array, t: Tlv): bigint {
  if (t.tag !== TAG.INTEGER && t.tag !== TAG.ENUMERATED) throw new DerError('expected an INTEGER', t.start);
  const c = contentOf(buf, t);
  if (c.length === 0) throw new DerError('empty INTEGER', t.start);
  if (c.length > 1 && ((c[0] === 0 && (c[1]! & 0x80) === 0) || (c[0] === 0xff && c[1]! & 0x80)))
    throw new DerError('INTEGER is not minimally encoded', t.start);
  let v = 0n;
  for (const b of c) v = (v << 8n) | BigInt(b);
  if (c[0]! & 0x80) v -= 1n << BigInt(8 * c.length);
  return v;
}

/** UTCTime or GeneralizedTime (Z form, whole seconds or fractions) as a Date. */
export function readTime(buf: Uint8Array, t: Tlv): Date {
  const quick = wholeSecondsTime(buf, t);
  if (quick) return quick;
  const s = Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart).toString('latin1');
  let m: RegExpMatchArray | null;
  if (t.tag === TAG.UTC_TIME) {
    m = s.match(/^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/);
    if (!m) throw new DerError(`malformed UTCTime ${JSON.stringify(s)}`, t.start);
    const yy = Number(m[1]);
    return utcDate(yy < 50 ? 2000 + yy : 1900 + yy, m, t.start);
  }
  if (t.tag === TAG.GENERALIZED_TIME) {
    // DER (X.690 §11.7): Z form, seconds present, a fraction only without trailing zeros
    m = s.match(/^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,3})\d*)?Z$/);
    if (!m || /\.\d*0Z$/.test(s)) throw new DerError(`malformed GeneralizedTime ${JSON.stringify(s)}`, t.start);
    const d = utcDate(Number(m[1]), m, t.start);
    if (m[7]) d.setUTCMilliseconds(Number(m[7].padEnd(3, '0')));
    return d;
  }
  throw new DerError('expected a UTCTime or GeneralizedTime', t.start);
}

/**
 * The forms every certificate, CRL and OCSP response of ours uses — UTCTime YYMMDDHHMMSSZ and GeneralizedTime
 * YYYYMMDDHHMMSSZ — read from the bytes without a string or a regular expression; undefined for anything
 * else (fractions, malformed values), which readTime's general path reads or refuses.
 */
function wholeSecondsTime(buf: Uint8Array, t: Tlv): Date | undefined {
  const n = t.end - t.contentStart;
  const yearDigits = t.tag === TAG.UTC_TIME && n === 13 ? 2 : t.tag === TAG.GENERALIZED_TIME && n === 15 ? 4 : 0;
  if (yearDigits === 0 || buf[t.end - 1] !== 0x5a) return undefined;
  for (let i = t.contentStart; i < t.end - 1; i++) if (buf[i]! < 0x30 || buf[i]! > 0x39) return undefined;
  const head = twoDigits(buf, t.contentStart);
  // UTCTime's two-digit year by RFC 5280's rule: 50–99 are 19xx
  const year = yearDigits === 2 ? head + (head < 50 ? 2000 : 1900) : head * 100 + twoDigits(buf, t.contentStart + 2);
  const i = t.contentStart + yearDigits;
  return calendarDate(year, twoDigits(buf, i), twoDigits(buf, i + 2), twoDigits(buf, i + 4), twoDigits(buf, i + 6), twoDigits(buf, i + 8), t.start);
}

/** The number two ASCII digits at `i` spell (the caller has checked they are digits). */
export function twoDigits(buf: Uint8Array, i: number): number {
  return (buf[i]! - 0x30) * 10 + (buf[i + 1]! - 0x30);
}

function utcDate(year: number, m: RegExpMatchArray, at: number): Date {
  const [mo, d, h, mi, se] = [m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number];
  return calendarDate(year, mo, d, h, mi, se, at);
}

/** A UTC date of whole seconds, refused when it is not a real one (31 April, 24:00, a leap second). */
function calendarDate(year: number, mo: number, d: number, h: number, mi: number, se: number, at: number): Date {
  const date = new Date(Date.UTC(2000, mo - 1, d, h, mi, se));
  date.setUTCFullYear(year, mo - 1, d); // Date.UTC maps years 0–99 to 1900–1999
  if (date.getUTCMonth() !== mo - 1 || date.getUTCDate() !== d || h > 23 || mi > 59 || se > 59)
    throw new DerError('time value is not a real date', at);
  return date;
}

/** Text of a string TLV (UTF8String, PrintableString, IA5String, BMPString). */
export function readString(buf: Uint8Array, t: Tlv): string {
  const c = Buffer.from(buf.buffer, buf.byteOffset + t.contentStart, t.end - t.contentStart); // a view: decoding copies anyway
  switch (t.tag) {
    case TAG.UTF8_STRING:
      return c.toString('utf8');
    case TAG.PRINTABLE_STRING:
    case TAG.IA5_STRING:
    case 0x14: // TeletexString, treated as Latin-1
      return c.toString('latin1');
    case 0x1e: {
      // BMPString: UTF-16 big-endian
      if (c.length % 2) throw new DerError('BMPString of an odd number of bytes', t.start);
      const swapped = Buffer.from(c);
      swapped.swap16();
      return swapped.toString('utf16le');
    }
    default:
      throw new DerError(`expected a string, found tag 0x${t.tag.toString(16)}`, t.start);
  }
}
