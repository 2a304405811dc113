/**
 * DER builders (and the few decoders the CRL scanner needs) for the extensions CRLs, OCSP and the CA use
 * around revocation: CRL number, delta CRL indicator, issuing distribution point, freshest CRL, CRL
 * distribution points, AKI/SKI, authority information access, and the CRL entry extensions reasonCode and
 * invalidityDate (RFC 5280 §4.2, §5.2, §5.3).
 *
 * Every builder returns one complete `Extension` TLV:
 *
 *   Extension ::= SEQUENCE { extnID OBJECT IDENTIFIER, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
 *
 * with `critical` omitted when false (DER leaves DEFAULT values out, X.690 §11.5). They are tested byte for
 * byte against @peculiar/x509 and @peculiar/asn1-x509 (extensions.test.ts). Certificate-only extensions
 * (key usage, basic constraints, policies, SAN) live in the certificate builder.
 */
import { createHash } from 'node:crypto';
import {
  sequence,
  oid,
  boolean,
  octetString,
  integer,
  enumerated,
  generalizedTime,
  implicit,
  explicit,
  namedBitString,
  readSingle,
  childList,
  children,
  readOid,
  readInteger,
  contentOf,
  bytesOf,
  readString,
  DerError,
  TAG,
  type Tlv,
} from './der.js';
import {
  OID_EXT_CRL_NUMBER,
  OID_EXT_DELTA_CRL_INDICATOR,
  OID_EXT_ISSUING_DISTRIBUTION_POINT,
  OID_EXT_FRESHEST_CRL,
  OID_EXT_CRL_DISTRIBUTION_POINTS,
  OID_EXT_AUTHORITY_KEY_IDENTIFIER,
  OID_EXT_SUBJECT_KEY_IDENTIFIER,
  OID_EXT_AUTHORITY_INFO_ACCESS,
  OID_EXT_CRL_REASON,
  OID_EXT_INVALIDITY_DATE,
  OID_AD_OCSP,
  OID_AD_CA_ISSUERS,
} from './oids.js';
import { PkiError } from './errors.js';

// ---- builders ------------------------------------------------------------------------------------------

/** Any extension: `valueDer` is the complete DER of the extension's value (what goes inside extnValue). */
export function extension(extnId: string, critical: boolean, valueDer: Uint8Array): Buffer {
  return critical ? sequence(oid(extnId), boolean(true), octetString(valueDer)) : sequence(oid(extnId), octetString(valueDer));
}

/** CRL numbers and base CRL numbers: non-negative, at most 20 octets (RFC 5280 §5.2.3). */
function crlNumberValue(n: bigint, what: string): Buffer {
  if (typeof n !== 'bigint' || n < 0n) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} must be a non-negative bigint, got ${String(n)}`);
  const enc = integer(n);
  if (enc.length - 2 > 20) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} ${n} is longer than 20 octets (RFC 5280 §5.2.3)`);
  return enc;
}

/** cRLNumber (2.5.29.20), non-critical: CRLNumber ::= INTEGER (0..MAX). */
export function crlNumber(n: bigint): Buffer {
  return extension(OID_EXT_CRL_NUMBER, false, crlNumberValue(n, 'CRL number'));
}

/** deltaCRLIndicator (2.5.29.27), critical: the number of the complete CRL this delta builds on (§5.2.4). */
export function deltaCrlIndicator(baseCrlNumber: bigint): Buffer {
  return extension(OID_EXT_DELTA_CRL_INDICATOR, true, crlNumberValue(baseCrlNumber, 'base CRL number'));
}

/**
 * A GeneralName: a plain string is a URI (uniformResourceIdentifier [6]); `directoryName` is the DER of a
 * Name (the JPKI CRL distribution points are directory names, jpki-profile.md §1.3).
 */
export type GeneralNameInput = string | { uri: string } | { directoryName: Uint8Array } | { dnsName: string };

export function generalName(g: GeneralNameInput): Buffer {
  if (typeof g === 'string') return uriName(g);
  if ('uri' in g) return uriName(g.uri);
  if ('dnsName' in g) return implicit(2, ia5(g.dnsName, 'DNS name'));
  const name = readSingleOr(g.directoryName, 'directoryName');
  if (name.tag !== TAG.SEQUENCE) throw new PkiError('EXTENSION_INPUT_INVALID', 'directoryName must be the DER of a Name (a SEQUENCE)');
  return explicit(4, g.directoryName); // Name is a CHOICE, so the [4] tag is explicit
}

function uriName(uri: string): Buffer {
  if (uri.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', 'a URI GeneralName must not be empty');
  return implicit(6, ia5(uri, 'URI'));
}

function ia5(s: string, what: string): Buffer {
  if (!/^[\x00-\x7f]*$/.test(s)) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} ${JSON.stringify(s)} is not ASCII (IA5String)`);
  return Buffer.from(s, 'latin1');
}

function readSingleOr(der: Uint8Array, what: string): Tlv {
  try {
    return readSingle(der);
  } catch (e) {
    throw new PkiError('EXTENSION_INPUT_INVALID', `${what} is not one DER value: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** GeneralNames ::= SEQUENCE SIZE (1..MAX) OF GeneralName, content only (for the IMPLICIT [0] fullName). */
function generalNamesContent(names: readonly GeneralNameInput[], what: string): Buffer {
  if (names.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} needs at least one name`);
  return Buffer.concat(names.map(generalName));
}

/** DistributionPointName ::= CHOICE { fullName [0] GeneralNames, … } — a CHOICE, so [0] of the outer field is explicit. */
function distributionPointName(names: readonly GeneralNameInput[], what: string): Buffer {
  return explicit(0, implicit(0, generalNamesContent(names, what), true));
}

/**
 * CRLDistributionPoints ::= SEQUENCE SIZE (1..MAX) OF DistributionPoint — one DistributionPoint per entry,
 * each with a one-name fullName (as @peculiar/x509's CRLDistributionPointsExtension writes URL lists).
 */
function distributionPoints(points: readonly GeneralNameInput[], what: string): Buffer {
  if (points.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} needs at least one distribution point`);
  return sequence(...points.map((p) => sequence(distributionPointName([p], what))));
}

/** cRLDistributionPoints (2.5.29.31), non-critical. Strings are URIs; `{ directoryName }` for JPKI's DirName DPs. */
export function crlDistributionPoints(points: readonly GeneralNameInput[]): Buffer {
  return extension(OID_EXT_CRL_DISTRIBUTION_POINTS, false, distributionPoints(points, 'cRLDistributionPoints'));
}

/** freshestCRL (2.5.29.46), where the delta CRLs are; MUST be non-critical (§5.2.6). */
export function freshestCrl(points: readonly GeneralNameInput[]): Buffer {
  return extension(OID_EXT_FRESHEST_CRL, false, distributionPoints(points, 'freshestCRL'));
}

/** ReasonFlags bit numbers (RFC 5280 §4.2.1.13), for onlySomeReasons. */
export const REASON_FLAG = {
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  privilegeWithdrawn: 7,
  aACompromise: 8,
} as const;

export interface IssuingDistributionPointInput {
  /** The distribution point's URIs (the same ones the certificates' CRL DP carries). */
  fullNameUris?: readonly string[];
  /** Any other names for the distribution point, e.g. `{ directoryName }` (appended after the URIs). */
  fullName?: readonly GeneralNameInput[];
  onlyContainsUserCerts?: boolean;
  onlyContainsCACerts?: boolean;
  /** ReasonFlags bit numbers (see REASON_FLAG): a CRL partitioned by reason. */
  onlySomeReasons?: readonly number[];
  indirect?: boolean;
}

/**
 * issuingDistributionPoint (2.5.29.28), critical (§5.2.5). Refuses the combinations RFC 5280 forbids: an
 * empty IDP, and more than one of the onlyContains… flags.
 */
export function issuingDistributionPoint(p: IssuingDistributionPointInput): Buffer {
  const names: GeneralNameInput[] = [...(p.fullNameUris ?? []), ...(p.fullName ?? [])];
  if (p.onlyContainsUserCerts && p.onlyContainsCACerts)
    throw new PkiError('EXTENSION_INPUT_INVALID', 'an issuing distribution point cannot be both onlyContainsUserCerts and onlyContainsCACerts');
  const parts: Buffer[] = [];
  if (names.length) parts.push(distributionPointName(names, 'issuingDistributionPoint'));
  if (p.onlyContainsUserCerts) parts.push(implicit(1, Buffer.from([0xff])));
  if (p.onlyContainsCACerts) parts.push(implicit(2, Buffer.from([0xff])));
  if (p.onlySomeReasons) {
    for (const b of p.onlySomeReasons)
      if (!Number.isInteger(b) || b < 1 || b > 8) throw new PkiError('EXTENSION_INPUT_INVALID', `onlySomeReasons bit ${b} is not a ReasonFlags bit (1–8)`);
    if (p.onlySomeReasons.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', 'onlySomeReasons must name at least one reason');
    parts.push(implicit(3, namedBitString(p.onlySomeReasons).subarray(2)));
  }
  if (p.indirect) parts.push(implicit(4, Buffer.from([0xff])));
  if (parts.length === 0)
    throw new PkiError('EXTENSION_INPUT_INVALID', 'an issuing distribution point must not be an empty SEQUENCE (RFC 5280 §5.2.5)');
  return extension(OID_EXT_ISSUING_DISTRIBUTION_POINT, true, sequence(...parts));
}

function keyIdBytes(keyId: Uint8Array, what: string): Uint8Array {
  if (!(keyId instanceof Uint8Array) || keyId.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', `${what} key identifier must be non-empty bytes`);
  return keyId;
}

/** authorityKeyIdentifier (2.5.29.35), non-critical: SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING }. */
export function authorityKeyIdentifier(keyId: Uint8Array): Buffer {
  return extension(OID_EXT_AUTHORITY_KEY_IDENTIFIER, false, sequence(implicit(0, keyIdBytes(keyId, 'authority'))));
}

/** subjectKeyIdentifier (2.5.29.14), non-critical: KeyIdentifier ::= OCTET STRING. */
export function subjectKeyIdentifier(keyId: Uint8Array): Buffer {
  return extension(OID_EXT_SUBJECT_KEY_IDENTIFIER, false, octetString(keyIdBytes(keyId, 'subject')));
}

/**
 * The key identifier of RFC 5280 §4.2.1.2 method (1): SHA-1 of the subjectPublicKey BIT STRING's value
 * (without tag, length and unused-bits octet) — how the JPKI CA certificates compute their SKI.
 */
export function keyIdentifierOf(spki: Uint8Array): Buffer {
  try {
    const outer = readSingle(spki);
    const [alg, key] = childList(spki, outer);
    if (outer.tag !== TAG.SEQUENCE || alg?.tag !== TAG.SEQUENCE || key?.tag !== TAG.BIT_STRING || key.end - key.contentStart < 1)
      throw new DerError('not a SubjectPublicKeyInfo', 0);
    return createHash('sha1').update(spki.subarray(key.contentStart + 1, key.end)).digest();
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw new PkiError('KEY_MALFORMED', `not a DER SubjectPublicKeyInfo: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** authorityInfoAccess (1.3.6.1.5.5.7.1.1), non-critical: OCSP entries first, then caIssuers (as @peculiar/x509). */
export function authorityInfoAccess(p: { ocsp?: readonly GeneralNameInput[]; caIssuers?: readonly GeneralNameInput[] }): Buffer {
  const descriptions = [
    ...(p.ocsp ?? []).map((g) => sequence(oid(OID_AD_OCSP), generalName(g))),
    ...(p.caIssuers ?? []).map((g) => sequence(oid(OID_AD_CA_ISSUERS), generalName(g))),
  ];
  if (descriptions.length === 0) throw new PkiError('EXTENSION_INPUT_INVALID', 'authorityInfoAccess needs at least one access description');
  return extension(OID_EXT_AUTHORITY_INFO_ACCESS, false, sequence(...descriptions));
}

/** CRLReason codes (RFC 5280 §5.3.1); 7 is not used. JPKI meanings in jpki-profile.md §1.5. */
export const CRL_REASON = {
  unspecified: 0,
  keyCompromise: 1,
  cACompromise: 2,
  affiliationChanged: 3,
  superseded: 4,
  cessationOfOperation: 5,
  certificateHold: 6,
  removeFromCRL: 8,
  privilegeWithdrawn: 9,
  aACompromise: 10,
} as const;
export type CrlReasonCode = (typeof CRL_REASON)[keyof typeof CRL_REASON];

export function isCrlReasonCode(code: number): code is CrlReasonCode {
  return Number.isInteger(code) && code >= 0 && code <= 10 && code !== 7;
}

const reasonCodeCache: Buffer[] = [];

/**
 * reasonCode (2.5.29.21), the CRL entry extension, non-critical: CRLReason ::= ENUMERATED. The encodings
 * are cached (there are ten of them and a CRL may use them millions of times); treat the result as read-only.
 */
export function reasonCode(code: number): Buffer {
  if (!isCrlReasonCode(code)) throw new PkiError('EXTENSION_INPUT_INVALID', `${code} is not a CRLReason code (0–10 except 7)`);
  return (reasonCodeCache[code] ??= extension(OID_EXT_CRL_REASON, false, enumerated(code)));
}

/** invalidityDate (2.5.29.24), the CRL entry extension, non-critical: always GeneralizedTime (§5.3.2), whole seconds. */
export function invalidityDate(date: Date): Buffer {
  try {
    return extension(OID_EXT_INVALIDITY_DATE, false, generalizedTime(date));
  } catch (e) {
    throw new PkiError('EXTENSION_INPUT_INVALID', `invalidity date: ${(e as Error).message}`, {}, { cause: e });
  }
}

// ---- readers -------------------------------------------------------------------------------------------

/** One Extension located in a buffer. `value` is the content of extnValue (the extension's own DER). */
export interface ExtensionView {
  oid: string;
  critical: boolean;
  value: Uint8Array;
  /** Offset of the Extension SEQUENCE in the buffer it was read from. */
  start: number;
}

/**
 * Reads one Extension TLV. Throws DerError when it is not SEQUENCE { OID, [BOOLEAN], OCTET STRING }. An
 * explicit `critical FALSE` (BER, not DER) is tolerated, as OpenSSL does.
 */
export function readExtension(buf: Uint8Array, t: Tlv): ExtensionView {
  if (t.tag !== TAG.SEQUENCE) throw new DerError('expected an Extension (SEQUENCE)', t.start);
  const kids = childList(buf, t);
  const id = kids[0];
  if (!id || id.tag !== TAG.OID) throw new DerError('Extension without an extnID', t.start);
  let i = 1;
  let critical = false;
  if (kids[i]?.tag === TAG.BOOLEAN) {
    const b = kids[i]!;
    if (b.end - b.contentStart !== 1 || (buf[b.contentStart] !== 0 && buf[b.contentStart] !== 0xff))
      throw new DerError('malformed BOOLEAN', b.start);
    critical = buf[b.contentStart] === 0xff;
    i++;
  }
  const v = kids[i];
  if (!v || v.tag !== TAG.OCTET_STRING || kids.length !== i + 1) throw new DerError('Extension without a single extnValue', t.start);
  return { oid: readOid(buf, id), critical, value: contentOf(buf, v), start: t.start };
}

/** The Extensions of an `Extensions ::= SEQUENCE SIZE (1..MAX) OF Extension` TLV; refuses duplicates (§4.2). */
export function readExtensions(buf: Uint8Array, seq: Tlv): ExtensionView[] {
  if (seq.tag !== TAG.SEQUENCE) throw new DerError('expected Extensions (SEQUENCE)', seq.start);
  const out: ExtensionView[] = [];
  const seen = new Set<string>();
  for (const t of children(buf, seq)) {
    const e = readExtension(buf, t);
    if (seen.has(e.oid)) throw new DerError(`extension ${e.oid} appears twice`, t.start);
    seen.add(e.oid);
    out.push(e);
  }
  if (out.length === 0) throw new DerError('empty Extensions (SIZE (1..MAX))', seq.start);
  return out;
}

/** A decoded GeneralName, as far as revocation cares: URIs and directory names, the rest by tag. */
export type GeneralNameView = { uri: string } | { directoryName: Uint8Array } | { dnsName: string } | { other: number; der: Uint8Array };

function readGeneralName(buf: Uint8Array, t: Tlv): GeneralNameView {
  switch (t.tag) {
    case 0x86:
      return { uri: readString(buf, { ...t, tag: TAG.IA5_STRING }) };
    case 0x82:
      return { dnsName: readString(buf, { ...t, tag: TAG.IA5_STRING }) };
    case 0xa4: {
      const kids = childList(buf, t);
      if (kids.length !== 1 || kids[0]!.tag !== TAG.SEQUENCE) throw new DerError('malformed directoryName', t.start);
      return { directoryName: bytesOf(buf, kids[0]!) };
    }
    default:
      return { other: t.tag & 0x1f, der: bytesOf(buf, t) };
  }
}

/** INTEGER extension values: cRLNumber and deltaCRLIndicator. */
export function decodeCrlNumber(value: Uint8Array): bigint {
  const t = readSingle(value);
  const n = readInteger(value, t);
  if (t.tag !== TAG.INTEGER || n < 0n) throw new DerError('a CRL number must be a non-negative INTEGER', 0);
  return n;
}

/** The keyIdentifier of an AuthorityKeyIdentifier value, if it has one. */
export function decodeAuthorityKeyIdentifier(value: Uint8Array): { keyId?: Uint8Array } {
  const seq = readSingle(value);
  if (seq.tag !== TAG.SEQUENCE) throw new DerError('AuthorityKeyIdentifier is not a SEQUENCE', 0);
  for (const t of children(value, seq)) if (t.tag === 0x80) return { keyId: contentOf(value, t) };
  return {};
}

export interface IssuingDistributionPointView {
  /** The fullName entries, when the distribution point is given by full name. */
  fullName: GeneralNameView[];
  /** The URIs among them, for convenience. */
  uris: string[];
  /** nameRelativeToCRLIssuer, as its DER, when used instead of a full name. */
  nameRelativeToCrlIssuer?: Uint8Array;
  onlyContainsUserCerts: boolean;
  onlyContainsCACerts: boolean;
  /** ReasonFlags bit numbers, when the CRL covers only some reasons. */
  onlySomeReasons?: number[];
  indirectCrl: boolean;
  onlyContainsAttributeCerts: boolean;
}

function implicitBoolean(buf: Uint8Array, t: Tlv): boolean {
  if (t.end - t.contentStart !== 1 || (buf[t.contentStart] !== 0 && buf[t.contentStart] !== 0xff)) throw new DerError('malformed BOOLEAN', t.start);
  return buf[t.contentStart] === 0xff;
}

/** Decodes an IssuingDistributionPoint value (§5.2.5). */
export function decodeIssuingDistributionPoint(value: Uint8Array): IssuingDistributionPointView {
  const seq = readSingle(value);
  if (seq.tag !== TAG.SEQUENCE) throw new DerError('IssuingDistributionPoint is not a SEQUENCE', 0);
  const out: IssuingDistributionPointView = {
    fullName: [],
    uris: [],
    onlyContainsUserCerts: false,
    onlyContainsCACerts: false,
    indirectCrl: false,
    onlyContainsAttributeCerts: false,
  };
  let lastTag = -1;
  for (const t of children(value, seq)) {
    const n = t.tag & 0x1f;
    if ((t.tag & 0xc0) !== 0x80 || n <= lastTag || n > 5) throw new DerError(`unexpected field tag 0x${t.tag.toString(16)} in IssuingDistributionPoint`, t.start);
    lastTag = n;
    switch (t.tag) {
      case 0xa0: {
        const [dpn] = childList(value, t);
        if (!dpn) throw new DerError('empty distributionPoint', t.start);
        if (dpn.tag === 0xa0) {
          for (const g of children(value, dpn)) {
            const gn = readGeneralName(value, g);
            out.fullName.push(gn);
            if ('uri' in gn) out.uris.push(gn.uri);
          }
        } else if (dpn.tag === 0xa1) out.nameRelativeToCrlIssuer = bytesOf(value, dpn);
        else throw new DerError('malformed DistributionPointName', dpn.start);
        break;
      }
      case 0x81:
        out.onlyContainsUserCerts = implicitBoolean(value, t);
        break;
      case 0x82:
        out.onlyContainsCACerts = implicitBoolean(value, t);
        break;
      case 0x83: {
        const c = contentOf(value, t);
        if (c.length < 1 || c[0]! > 7) throw new DerError('malformed ReasonFlags', t.start);
        const bits: number[] = [];
        for (let i = 0; i < (c.length - 1) * 8; i++) if (c[1 + (i >> 3)]! & (0x80 >> (i & 7))) bits.push(i);
        out.onlySomeReasons = bits;
        break;
      }
      case 0x84:
        out.indirectCrl = implicitBoolean(value, t);
        break;
      case 0x85:
        out.onlyContainsAttributeCerts = implicitBoolean(value, t);
        break;
      default:
        throw new DerError(`unexpected field tag 0x${t.tag.toString(16)} in IssuingDistributionPoint`, t.start);
    }
  }
  return out;
}
