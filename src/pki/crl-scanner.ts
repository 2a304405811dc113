/**
 * Reads a DER CRL without building an object per entry, for relying parties and tests that handle CRLs of
 * millions of entries (docs/crl.md). asn1js stops at its default limits above ~1k entries and, with raised
 * limits, needs ~10 s for 100k (notes/libraries.md §3); this scanner walks the bytes.
 *
 * `scanCrl` checks the whole structure once — every entry's framing, serial and time syntax, and the
 * criticality of every CRL and entry extension — and returns offsets plus the decoded CRL-level fields.
 * Entries are decoded only when asked for: `entries()` yields them lazily, `findRevoked` looks for one
 * serial by comparing bytes, `buildRevocationIndex` keeps one map slot per entry (serial → offset).
 *
 * Nothing here checks the signature or the CRL's scope and freshness: call `verifyCrlSignature` with the
 * issuer's key, and have the verifier reject a CRL whose `unknownCriticalExtensions` is not empty
 * (RFC 5280 §5.2: a CRL with an unrecognised critical extension MUST NOT be used).
 */
import type { KeyObject } from 'node:crypto';
import { loadPublicKey } from './public-key.js';
import {
  readSingle,
  readTlv,
  childList,
  readOid,
  readTime,
  twoDigits,
  bytesOf,
  contentOf,
  DerError,
  checkName,
  TAG,
  type Tlv,
} from './der.js';
import {
  readExtensions,
  decodeCrlNumber,
  decodeAuthorityKeyIdentifier,
  decodeIssuingDistributionPoint,
  isCrlReasonCode,
  type ExtensionView,
  type IssuingDistributionPointView,
} from './extensions.js';
import {
  OID_EXT_CRL_NUMBER,
  OID_EXT_DELTA_CRL_INDICATOR,
  OID_EXT_ISSUING_DISTRIBUTION_POINT,
  OID_EXT_AUTHORITY_KEY_IDENTIFIER,
  OID_EXT_FRESHEST_CRL,
  OID_EXT_AUTHORITY_INFO_ACCESS,
  OID_EXT_ISSUER_ALT_NAME,
} from './oids.js';
import { verifySignature } from './signed.js';
import { PkiError } from './errors.js';

export interface CrlEntry {
  /** The serial number as lower-case hex of its magnitude (no sign byte), e.g. "0a", "80ff"; "-…" if negative. */
  serialHex: string;
  revocationDate: Date;
  /** The reasonCode; undefined when absent (which means unspecified, RFC 5280 §5.3.1). */
  reason?: number;
  invalidityDate?: Date;
}

export interface CrlInfo {
  /** 2 for a v2 CRL, 1 when the version field is absent. */
  version: 1 | 2;
  /** The issuer Name, exactly as encoded (compare bytes with the CA certificate's subject). */
  issuer: Uint8Array;
  thisUpdate: Date;
  nextUpdate?: Date;
  crlNumber?: bigint;
  /** deltaCRLIndicator: the number of the base CRL, when this is a delta CRL. */
  deltaCrlIndicator?: bigint;
  /** The issuingDistributionPoint, decoded, with the extension value's DER. */
  issuingDistributionPoint?: IssuingDistributionPointView & { der: Uint8Array };
  /** The keyIdentifier of the authorityKeyIdentifier extension. */
  authorityKeyId?: Uint8Array;
  /** Every CRL extension, in order. */
  extensions: ExtensionView[];
  /**
   * Critical extensions we do not process, CRL-level and entry-level, each OID once. Entry-level
   * certificateIssuer (indirect CRLs) is listed here too: we do not implement indirect CRLs.
   */
  unknownCriticalExtensions: string[];
  signatureAlgorithmOid: string;
  /** The TBSCertList bytes (what the signature covers) and the signature, as views into the input. */
  tbs: Uint8Array;
  signature: Uint8Array;
  entryCount: number;
  /** Offsets of the revokedCertificates content in the input (empty range when there are none). */
  revoked: { start: number; end: number };
  /** Decodes the entries one at a time, in CRL order. */
  entries(): Generator<CrlEntry>;
}

const OID_BYTES_REASON = [0x55, 0x1d, 0x15];
const OID_BYTES_INVALIDITY = [0x55, 0x1d, 0x18];

const KNOWN_CRL_EXTENSIONS = new Set([
  OID_EXT_CRL_NUMBER,
  OID_EXT_DELTA_CRL_INDICATOR,
  OID_EXT_ISSUING_DISTRIBUTION_POINT,
  OID_EXT_AUTHORITY_KEY_IDENTIFIER,
  OID_EXT_FRESHEST_CRL,
  OID_EXT_AUTHORITY_INFO_ACCESS,
  OID_EXT_ISSUER_ALT_NAME,
]);

/** The input each CrlInfo was scanned from (findRevoked and the index walk it again). */
const inputs = new WeakMap<CrlInfo, Uint8Array>();

function malformed(message: string, offset: number, cause?: unknown): PkiError {
  return new PkiError('CRL_MALFORMED', `malformed CRL: ${message} at byte ${offset}`, { offset }, cause === undefined ? undefined : { cause });
}

/** Runs `f`, turning DER errors into PkiError CRL_MALFORMED with the offset in the whole CRL. */
function guard<T>(f: () => T, base = 0): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DerError) throw malformed(e.message.replace(/ at byte \d+$/, ''), base + e.offset, e);
    throw e;
  }
}

function isOidBytes(buf: Uint8Array, t: Tlv, oid: readonly number[]): boolean {
  if (t.end - t.contentStart !== oid.length) return false;
  for (let i = 0; i < oid.length; i++) if (buf[t.contentStart + i] !== oid[i]) return false;
  return true;
}

function checkTimeSyntax(buf: Uint8Array, t: Tlv): void {
  const len = t.end - t.contentStart;
  if (!((t.tag === TAG.UTC_TIME && len === 13) || (t.tag === TAG.GENERALIZED_TIME && len === 15)))
    throw new DerError('revocationDate is not a UTCTime or GeneralizedTime of whole seconds', t.start);
  for (let i = t.contentStart; i < t.end - 1; i++) {
    const c = buf[i]!;
    if (c < 0x30 || c > 0x39) throw new DerError('revocationDate has a non-digit', t.start);
  }
  if (buf[t.end - 1] !== 0x5a) throw new DerError('revocationDate does not end in Z', t.start);
  if (!calendarOk(buf, t)) throw new DerError('revocationDate is not a real date', t.start);
}

/** Month, day, hour, minute and second of a checked 13/15-digit time are in range (Feb 29 only in leap years). */
function calendarOk(buf: Uint8Array, t: Tlv): boolean {
  let i = t.contentStart;
  let year: number;
  if (t.tag === TAG.UTC_TIME) {
    const yy = twoDigits(buf, i);
    year = yy < 50 ? 2000 + yy : 1900 + yy;
    i += 2;
  } else {
    year = twoDigits(buf, i) * 100 + twoDigits(buf, i + 2);
    i += 4;
  }
  const month = twoDigits(buf, i);
  const day = twoDigits(buf, i + 2);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const dim = month === 2 ? (leap ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
  return month >= 1 && month <= 12 && day >= 1 && day <= dim && twoDigits(buf, i + 4) <= 23 && twoDigits(buf, i + 6) <= 59 && twoDigits(buf, i + 8) <= 59;
}

function checkReasonValue(buf: Uint8Array, v: Tlv): number {
  // CRLReason ::= ENUMERATED, one content octet for every defined code: 0A 01 code
  const code = buf[v.contentStart + 2]!;
  if (v.end - v.contentStart !== 3 || buf[v.contentStart] !== TAG.ENUMERATED || buf[v.contentStart + 1] !== 1 || !isCrlReasonCode(code))
    throw new DerError('reasonCode is not a CRLReason ENUMERATED (0–10 except 7)', v.contentStart);
  return code;
}

function readInvalidityDate(buf: Uint8Array, v: Tlv): Date {
  return inValue(buf, v, (value) => {
    const g = readSingle(value);
    if (g.tag !== TAG.GENERALIZED_TIME) throw new DerError('invalidityDate is not a GeneralizedTime', 0);
    return readTime(value, g);
  });
}

/**
 * One pass over revokedCertificates: framing, serial and time syntax, entry extensions. Returns the entry
 * count and adds unknown critical entry-extension OIDs to `unknown`.
 */
function walkEntries(buf: Uint8Array, start: number, end: number, unknown: Set<string>): number {
  let count = 0;
  let o = start;
  while (o < end) {
    const e = readTlv(buf, o, end);
    if (e.tag !== TAG.SEQUENCE) throw new DerError('revoked certificate entry is not a SEQUENCE', o);
    const serial = readTlv(buf, e.contentStart, e.end);
    if (serial.tag !== TAG.INTEGER) throw new DerError('entry serial number is not an INTEGER', serial.start);
    checkIntegerMinimal(buf, serial);
    const date = readTlv(buf, serial.end, e.end);
    checkTimeSyntax(buf, date);
    if (date.end < e.end) {
      const exts = readTlv(buf, date.end, e.end);
      if (exts.tag !== TAG.SEQUENCE || exts.end !== e.end) throw new DerError('unexpected data after revocationDate', date.end);
      // An empty crlEntryExtensions breaks SIZE (1..MAX), but @peculiar/x509's X509CrlGenerator writes one for
      // every entry without extensions; it means nothing, so it is read as absent.
      let x = exts.contentStart;
      while (x < exts.end) {
        const ext = readTlv(buf, x, exts.end);
        if (ext.tag !== TAG.SEQUENCE) throw new DerError('entry extension is not a SEQUENCE', x);
        const id = readTlv(buf, ext.contentStart, ext.end);
        if (id.tag !== TAG.OID) throw new DerError('entry extension without an extnID', ext.start);
        let v = readTlv(buf, id.end, ext.end);
        let critical = false;
        if (v.tag === TAG.BOOLEAN) {
          if (v.end - v.contentStart !== 1 || (buf[v.contentStart] !== 0 && buf[v.contentStart] !== 0xff)) throw new DerError('malformed BOOLEAN', v.start);
          critical = buf[v.contentStart] === 0xff;
          if (v.end >= ext.end) throw new DerError('entry extension without an extnValue', ext.start);
          v = readTlv(buf, v.end, ext.end);
        }
        if (v.tag !== TAG.OCTET_STRING || v.end !== ext.end) throw new DerError('entry extension without a single extnValue', ext.start);
        if (isOidBytes(buf, id, OID_BYTES_REASON)) checkReasonValue(buf, v);
        else if (isOidBytes(buf, id, OID_BYTES_INVALIDITY)) readInvalidityDate(buf, v);
        else if (critical) unknown.add(readOid(buf, id));
        x = ext.end;
      }
    }
    count++;
    o = e.end;
  }
  return count;
}

function checkIntegerMinimal(buf: Uint8Array, t: Tlv): void {
  const len = t.end - t.contentStart;
  if (len === 0) throw new DerError('empty INTEGER', t.start);
  if (len > 1) {
    const a = buf[t.contentStart]!;
    const b = buf[t.contentStart + 1]!;
    if ((a === 0 && (b & 0x80) === 0) || (a === 0xff && b & 0x80)) throw new DerError('INTEGER is not minimally encoded', t.start);
  }
}

/** Parses and checks a DER CRL; see the module comment. Throws PkiError CRL_MALFORMED with the byte offset. */
export function scanCrl(der: Uint8Array): CrlInfo {
  if (!(der instanceof Uint8Array)) throw malformed('input is not bytes', 0);
  return guard(() => {
    const outer = readSingle(der);
    if (outer.tag !== TAG.SEQUENCE) throw new DerError('CertificateList is not a SEQUENCE', 0);
    const parts = childList(der, outer);
    const [tbsT, algT, sigT] = parts;
    if (parts.length !== 3 || tbsT?.tag !== TAG.SEQUENCE || algT?.tag !== TAG.SEQUENCE || sigT?.tag !== TAG.BIT_STRING)
      throw new DerError('CertificateList is not SEQUENCE { tbsCertList, signatureAlgorithm, signatureValue }', outer.contentStart);
    const algOid = childList(der, algT)[0];
    if (!algOid) throw new DerError('empty AlgorithmIdentifier', algT.start);
    const signatureAlgorithmOid = readOid(der, algOid);
    const bits = contentOf(der, sigT);
    if (bits.length < 2 || bits[0] !== 0) throw new DerError('signatureValue is empty or has unused bits', sigT.start);

    // TBSCertList
    let o = tbsT.contentStart;
    const end = tbsT.end;
    let t = readTlv(der, o, end);
    let version: 1 | 2 = 1;
    if (t.tag === TAG.INTEGER) {
      checkIntegerMinimal(der, t);
      if (t.end - t.contentStart !== 1 || der[t.contentStart] !== 1) throw new DerError('CRL version is not v2 (1)', t.start);
      version = 2;
      t = readTlv(der, t.end, end);
    }
    if (t.tag !== TAG.SEQUENCE) throw new DerError('TBSCertList signature is not an AlgorithmIdentifier', t.start);
    if (!Buffer.from(bytesOf(der, t)).equals(bytesOf(der, algT)))
      throw new DerError('TBSCertList signature algorithm differs from signatureAlgorithm (RFC 5280 §5.1.1.2)', t.start);
    const issuerT = readTlv(der, t.end, end);
    checkName(der, issuerT, 'issuer');
    const thisT = readTlv(der, issuerT.end, end);
    const thisUpdate = readTime(der, thisT);
    o = thisT.end;
    let nextUpdate: Date | undefined;
    let revoked = { start: o, end: o };
    let extsT: Tlv | undefined;
    if (o < end) {
      t = readTlv(der, o, end);
      if (t.tag === TAG.UTC_TIME || t.tag === TAG.GENERALIZED_TIME) {
        nextUpdate = readTime(der, t);
        o = t.end;
        t = o < end ? readTlv(der, o, end) : t;
      }
      if (o < end && t.tag === TAG.SEQUENCE) {
        revoked = { start: t.contentStart, end: t.end };
        o = t.end;
        t = o < end ? readTlv(der, o, end) : t;
      } else revoked = { start: o, end: o };
      if (o < end && t.tag === 0xa0) {
        extsT = t;
        o = t.end;
      }
      if (o < end) throw new DerError(`unexpected field (tag 0x${der[o]!.toString(16)}) in TBSCertList`, o);
    }

    // CRL extensions
    const unknown = new Set<string>();
    let extensions: ExtensionView[] = [];
    let crlNumber: bigint | undefined;
    let deltaCrlIndicator: bigint | undefined;
    let issuingDistributionPoint: CrlInfo['issuingDistributionPoint'];
    let authorityKeyId: Uint8Array | undefined;
    if (extsT) {
      if (version !== 2) throw new DerError('a v1 CRL cannot carry extensions', extsT.start);
      const inner = childList(der, extsT);
      if (inner.length !== 1) throw new DerError('crlExtensions must hold one Extensions SEQUENCE', extsT.start);
      extensions = readExtensions(der, inner[0]!);
      for (const x of extensions) {
        const at = (f: () => void) => guard(f, x.value.byteOffset - der.byteOffset); // decoder offsets are within the value
        switch (x.oid) {
          case OID_EXT_CRL_NUMBER:
            at(() => (crlNumber = decodeCrlNumber(x.value)));
            break;
          case OID_EXT_DELTA_CRL_INDICATOR:
            at(() => (deltaCrlIndicator = decodeCrlNumber(x.value)));
            break;
          case OID_EXT_ISSUING_DISTRIBUTION_POINT:
            at(() => (issuingDistributionPoint = { ...decodeIssuingDistributionPoint(x.value), der: x.value }));
            break;
          case OID_EXT_AUTHORITY_KEY_IDENTIFIER:
            at(() => (authorityKeyId = decodeAuthorityKeyIdentifier(x.value).keyId));
            break;
        }
        if (x.critical && !KNOWN_CRL_EXTENSIONS.has(x.oid)) unknown.add(x.oid);
      }
    }

    const entryCount = walkEntries(der, revoked.start, revoked.end, unknown);
    const revokedRange = revoked;
    const info: CrlInfo = {
      version,
      issuer: bytesOf(der, issuerT),
      thisUpdate,
      ...(nextUpdate ? { nextUpdate } : {}),
      ...(crlNumber !== undefined ? { crlNumber } : {}),
      ...(deltaCrlIndicator !== undefined ? { deltaCrlIndicator } : {}),
      ...(issuingDistributionPoint ? { issuingDistributionPoint } : {}),
      ...(authorityKeyId ? { authorityKeyId } : {}),
      extensions,
      unknownCriticalExtensions: [...unknown],
      signatureAlgorithmOid,
      tbs: bytesOf(der, tbsT),
      signature: bits.subarray(1),
      entryCount,
      revoked: revokedRange,
      entries: () => decodeEntries(der, revokedRange.start, revokedRange.end),
    };
    inputs.set(info, der);
    return info;
  });
}

// ---- entry decoding ------------------------------------------------------------------------------------

function asBuffer(buf: Uint8Array): Buffer {
  return Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.length);
}

/** Lower-case hex of the INTEGER's magnitude; `hexView` is a Buffer over the same bytes as the input. */
function serialHexOf(hexView: Buffer, t: Tlv): string {
  const first = hexView[t.contentStart]!;
  if (first & 0x80) return '-' + hexView.toString('hex', t.contentStart, t.end);
  const from = first === 0 && t.end - t.contentStart > 1 ? t.contentStart + 1 : t.contentStart;
  return hexView.toString('hex', from, t.end);
}

/** Decodes the entry at `offset` (a RevokedCertificate SEQUENCE already checked by walkEntries). */
function decodeEntryAt(buf: Buffer, offset: number, end: number): { entry: CrlEntry; next: number } {
  const e = readTlv(buf, offset, end);
  const serial = readTlv(buf, e.contentStart, e.end);
  const date = readTlv(buf, serial.end, e.end);
  const entry: CrlEntry = { serialHex: serialHexOf(buf, serial), revocationDate: readTime(buf, date) };
  if (date.end < e.end) {
    const exts = readTlv(buf, date.end, e.end);
    let xo = exts.contentStart;
    while (xo < exts.end) {
      const x = readTlv(buf, xo, exts.end);
      xo = x.end;
      const id = readTlv(buf, x.contentStart, x.end);
      let v = readTlv(buf, id.end, x.end);
      if (v.tag === TAG.BOOLEAN) v = readTlv(buf, v.end, x.end);
      if (isOidBytes(buf, id, OID_BYTES_REASON)) entry.reason = checkReasonValue(buf, v);
      else if (isOidBytes(buf, id, OID_BYTES_INVALIDITY)) entry.invalidityDate = readInvalidityDate(buf, v);
    }
  }
  return { entry, next: e.end };
}

/** Parses an extension value (an OCTET STRING's content) as its own DER, with errors at offsets in `buf`. */
function inValue<T>(buf: Uint8Array, v: Tlv, f: (value: Uint8Array) => T): T {
  try {
    return f(contentOf(buf, v));
  } catch (e) {
    if (e instanceof DerError) throw new DerError(e.message.replace(/ at byte \d+$/, ''), v.contentStart + e.offset);
    throw e;
  }
}

function* decodeEntries(input: Uint8Array, start: number, end: number): Generator<CrlEntry> {
  const buf = asBuffer(input);
  let o = start;
  while (o < end) {
    const at = o;
    const { entry, next } = guard(() => decodeEntryAt(buf, at, end));
    yield entry;
    o = next;
  }
}

// ---- look-ups ------------------------------------------------------------------------------------------

/** Serial hex (any case, leading zeros, optional colons) → magnitude bytes without leading zeros. */
function serialBytes(serialHex: string): Buffer {
  const clean = serialHex.replace(/:/g, '');
  if (!/^[0-9a-fA-F]+$/.test(clean)) throw new PkiError('CRL_INPUT_INVALID', `serial ${JSON.stringify(serialHex)} is not hex`);
  const b = Buffer.from(clean.length % 2 ? '0' + clean : clean, 'hex');
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** The normalised key used by findRevoked and the index: lower-case hex of the magnitude, "0a" for 10. */
export function normalizeSerialHex(serialHex: string): string {
  return serialBytes(serialHex).toString('hex');
}

function infoOf(crl: Uint8Array | CrlInfo): { buf: Uint8Array; start: number; end: number } {
  const info = crl instanceof Uint8Array ? scanCrl(crl) : crl;
  const buf = inputs.get(info);
  if (!buf) throw new PkiError('CRL_INPUT_INVALID', 'this CrlInfo was not produced by scanCrl');
  return { buf, start: info.revoked.start, end: info.revoked.end };
}

/**
 * The entry for `serialHex`, or undefined when the serial is not on the CRL. Compares serial bytes in
 * place; nothing is decoded except the matching entry. Does not verify the CRL (see verifyCrlSignature).
 */
export function findRevoked(crl: Uint8Array | CrlInfo, serialHex: string): CrlEntry | undefined {
  const { buf: input, start, end } = infoOf(crl);
  const buf = asBuffer(input);
  const target = serialBytes(serialHex);
  const tlen = target.length;
  const tNeedsSign = target[0]! & 0x80 ? 1 : 0;
  return guard(() => {
    let o = start;
    while (o < end) {
      const e = readTlv(buf, o, end);
      const s = readTlv(buf, e.contentStart, e.end);
      const len = s.end - s.contentStart;
      if (len === tlen + tNeedsSign && (!tNeedsSign || buf[s.contentStart] === 0)) {
        let k = 0;
        const from = s.contentStart + tNeedsSign;
        while (k < tlen && buf[from + k] === target[k]) k++;
        if (k === tlen) return decodeEntryAt(buf, o, end).entry;
      }
      o = e.end;
    }
    return undefined;
  });
}

/** A serial-number index over one CRL: one map slot per entry (serial → offset); entries decoded on look-up. */
export interface RevocationIndex {
  readonly size: number;
  has(serialHex: string): boolean;
  get(serialHex: string): CrlEntry | undefined;
}

/**
 * Builds a RevocationIndex (about 100 bytes per entry; a 1M-entry CRL costs ~100 MB, so a relying party
 * checking a handful of serials is better served by findRevoked).
 */
export function buildRevocationIndex(crl: Uint8Array | CrlInfo): RevocationIndex {
  const { buf: input, start, end } = infoOf(crl);
  const buf = asBuffer(input);
  const offsets = new Map<string, number>();
  guard(() => {
    let o = start;
    while (o < end) {
      const e = readTlv(buf, o, end);
      const s = readTlv(buf, e.contentStart, e.end);
      const key = serialHexOf(buf, s);
      if (!offsets.has(key)) offsets.set(key, o);
      o = e.end;
    }
  });
  return {
    size: offsets.size,
    has: (serialHex) => offsets.has(normalizeSerialHex(serialHex)),
    get: (serialHex) => {
      const o = offsets.get(normalizeSerialHex(serialHex));
      return o === undefined ? undefined : guard(() => decodeEntryAt(buf, o, end).entry);
    },
  };
}

// ---- signature -----------------------------------------------------------------------------------------

function publicKeyOf(issuerSpki: Uint8Array | KeyObject): KeyObject {
  if (!(issuerSpki instanceof Uint8Array)) return issuerSpki;
  try {
    return loadPublicKey(issuerSpki);
  } catch (e) {
    throw new PkiError('KEY_MALFORMED', `the issuer key is not a DER SubjectPublicKeyInfo: ${(e as Error).message}`, {}, { cause: e });
  }
}

/**
 * Whether the CRL's signature verifies with the issuer's public key (DER SPKI or a KeyObject). Checks the
 * structure first (scanCrl: CRL_MALFORMED); an unsupported signature algorithm throws
 * SIGNATURE_ALGORITHM_UNSUPPORTED; a wrong signature or a key of the wrong type returns false.
 */
export function verifyCrlSignature(crl: Uint8Array | CrlInfo, issuerSpki: Uint8Array | KeyObject): boolean {
  const info = crl instanceof Uint8Array ? scanCrl(crl) : crl;
  return verifySignature(info.signatureAlgorithmOid, info.tbs, info.signature, publicKeyOf(issuerSpki));
}

/** verifyCrlSignature that throws PkiError CRL_SIGNATURE_INVALID instead of returning false. */
export function assertCrlSignature(crl: Uint8Array | CrlInfo, issuerSpki: Uint8Array | KeyObject): void {
  if (!verifyCrlSignature(crl, issuerSpki)) throw new PkiError('CRL_SIGNATURE_INVALID', 'the CRL signature does not verify with the issuer key');
}
