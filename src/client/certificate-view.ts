import { createPublicKey } from 'node:crypto';
import { fingerprint } from '../pki/signed.js';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  GeneralName,
  GeneralNames,
  KeyUsage,
  KeyUsageFlags,
  Name,
  PolicyMappings,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import { Name as NameView } from '@peculiar/x509';
import { decodeDateOfBirth, formatDateOfBirth, formatJapaneseDate } from '../pki/era.js';
import { derFromPemOrDer } from '../pki/pem.js';
import { PREFECTURES } from '../pki/prefectures.js';
import { decodeResidentFactsSan } from '../pki/resident-facts.js';
import { OID_AT_COMMON_NAME, OID_AT_LOCALITY, OID_EXT_SUBJECT_ALT_NAME, OID_JPKI_POLICY_AUTH, OID_JPKI_POLICY_SIGN } from '../pki/oids.js';
import { ClientError } from './errors.js';
import {
  BASIC_LABELS,
  EXTENSION_LABELS,
  FIELD_LABELS,
  fillLabel,
  KEY_USAGE_LABELS,
  OTHER_NAME_LABELS,
  same,
  SEX_LABELS,
  WORDS,
  type BasicField,
  type Label,
} from './labels.js';

/**
 * The certificate viewer (証明書Viewer, guide §3) as data: the 基本 tab (the guide's seven facts, era dates)
 * and the 詳細 tab (every field and extension, decoded), each text in ja / en / ko. The CLI prints it, the
 * local web UI renders it, certificate-html.ts writes it as a standalone page. Pure: no card, no I/O.
 */
export interface BasicRow {
  field: BasicField;
  label: Label;
  value: Label;
  /** For dates: the instant (ISO), so a page can add the Gregorian date for English and Korean readers. */
  date?: string;
}

export interface DetailRow {
  label: Label;
  value?: Label;
  critical?: boolean;
  oid?: string;
  rows?: DetailRow[];
}

export type CertificateKind = 'sign' | 'auth' | 'ca' | 'other';

export interface CertificateView {
  kind: CertificateKind;
  basic: BasicRow[];
  details: DetailRow[];
  fingerprints: { sha1: string; sha256: string };
  subject: string;
  issuer: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

/** A certificate file as given (PEM or DER) → its DER; anything else is CLIENT_NOT_A_CERTIFICATE. */
export function certificateFromFile(bytes: Uint8Array, what = 'the file'): Buffer {
  const der = derFromPemOrDer(bytes, ['CERTIFICATE', 'X509 CERTIFICATE', 'TRUSTED CERTIFICATE']);
  if (!der || der.length === 0) throw notCertificate(what);
  parseCertificate(der, what);
  return der;
}

function notCertificate(what: string, cause?: unknown): ClientError {
  return new ClientError('CLIENT_NOT_A_CERTIFICATE', 'malformed', `${what} is not an X.509 certificate (PEM or DER)`, {}, cause);
}

function parseCertificate(der: Uint8Array, what = 'the certificate'): Certificate {
  try {
    const cert = AsnConvert.parse(der, Certificate);
    // A DER that parses but carries trailing bytes or a different length is not one certificate.
    if (Buffer.compare(Buffer.from(AsnConvert.serialize(cert)), Buffer.from(der)) !== 0 && der[0] !== 0x30) throw new Error('trailing data');
    return cert;
  } catch (e) {
    throw notCertificate(what, e);
  }
}

export function fingerprints(der: Uint8Array): { sha1: string; sha256: string } {
  return { sha1: fingerprint(der, 'sha1'), sha256: fingerprint(der, 'sha256') };
}

function attributes(name: Name, type: string): string[] {
  const out: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === type) out.push(atv.value.toString());
  return out;
}

/**
 * The issuer as residents know it: the governor of the CA's prefecture (東京都知事), found from the
 * prefecture the issuer's DN names (L=Tokyo-to), else the issuer's common name.
 */
export function issuerTitle(issuer: Name): string {
  for (const locality of attributes(issuer, OID_AT_LOCALITY)) {
    const p = PREFECTURES.find((x) => x.romaji === locality || x.name === locality);
    if (p) return p.governor;
  }
  return attributes(issuer, OID_AT_COMMON_NAME)[0] ?? new NameView(AsnConvert.serialize(issuer)).toString();
}

function nameText(name: Name): string {
  return new NameView(AsnConvert.serialize(name)).toString();
}

function hex(bytes: ArrayBuffer | Uint8Array, sep = ''): string {
  return Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes))
    .toString('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, `$1${sep}`);
}

function eraDateLabel(d: Date): Label {
  return same(formatJapaneseDate(d));
}

export function viewCertificate(der: Uint8Array): CertificateView {
  const cert = parseCertificate(der);
  const tbs = cert.tbsCertificate;
  const notBefore = tbs.validity.notBefore.getTime();
  const notAfter = tbs.validity.notAfter.getTime();
  const extensions = tbs.extensions ?? [];
  const policies = extensions.filter((e) => e.extnID === '2.5.29.32').flatMap((e) => AsnConvert.parse(e.extnValue, CertificatePolicies).map((p) => p.policyIdentifier));
  const isCa = extensions.some((e) => e.extnID === '2.5.29.19' && AsnConvert.parse(e.extnValue, BasicConstraints).cA);
  const san = extensions.find((e) => e.extnID === OID_EXT_SUBJECT_ALT_NAME);
  let facts: ReturnType<typeof decodeResidentFactsSan> | null = null;
  if (san) {
    try {
      facts = decodeResidentFactsSan(new Uint8Array(san.extnValue.buffer));
    } catch {
      facts = null; // not JPKI facts: shown decoded in 詳細 only
    }
  }
  const kind: CertificateKind = isCa ? 'ca' : facts || policies.includes(OID_JPKI_POLICY_SIGN) ? 'sign' : policies.includes(OID_JPKI_POLICY_AUTH) ? 'auth' : 'other';

  const basic: BasicRow[] = [];
  if (facts) {
    basic.push({ field: 'name', label: BASIC_LABELS.name, value: same(facts.name) });
    basic.push({ field: 'dateOfBirth', label: BASIC_LABELS.dateOfBirth, value: same(formatDateOfBirth(facts.dateOfBirthCode) ?? facts.dateOfBirth), date: `${facts.dateOfBirth}T00:00:00+09:00` });
    basic.push({ field: 'sex', label: BASIC_LABELS.sex, value: SEX_LABELS[facts.sex] ?? same(facts.sex) });
    basic.push({ field: 'address', label: BASIC_LABELS.address, value: same(facts.address) });
  }
  basic.push({ field: 'issuedOn', label: BASIC_LABELS.issuedOn, value: eraDateLabel(notBefore), date: notBefore.toISOString() });
  basic.push({ field: 'expiresOn', label: BASIC_LABELS.expiresOn, value: eraDateLabel(notAfter), date: notAfter.toISOString() });
  basic.push({ field: 'issuer', label: BASIC_LABELS.issuer, value: same(issuerTitle(tbs.issuer)) });

  const fp = fingerprints(der);
  const spki = tbs.subjectPublicKeyInfo;
  const details: DetailRow[] = [
    { label: FIELD_LABELS.version, value: same(`V${tbs.version + 1}`) },
    { label: FIELD_LABELS.serial, value: same(hex(tbs.serialNumber, ' ')) },
    { label: FIELD_LABELS.signatureAlgorithm, value: same(algorithmName(cert.signatureAlgorithm.algorithm)) },
    { label: FIELD_LABELS.issuer, value: same(nameText(tbs.issuer)) },
    { label: FIELD_LABELS.notBefore, value: same(`${formatJapaneseDate(notBefore)} (${notBefore.toISOString()})`) },
    { label: FIELD_LABELS.notAfter, value: same(`${formatJapaneseDate(notAfter)} (${notAfter.toISOString()})`) },
    { label: FIELD_LABELS.subject, value: same(nameText(tbs.subject)) },
    { label: FIELD_LABELS.publicKey, value: publicKeyText(new Uint8Array(AsnConvert.serialize(spki))) },
    ...extensions.map((e) => extensionRow(e.extnID, e.critical, new Uint8Array(e.extnValue.buffer))),
    { label: FIELD_LABELS.fingerprintSha1, value: same(fp.sha1) },
    { label: FIELD_LABELS.fingerprintSha256, value: same(fp.sha256) },
  ];
  return {
    kind,
    basic,
    details,
    fingerprints: fp,
    subject: nameText(tbs.subject),
    issuer: nameText(tbs.issuer),
    serial: hex(tbs.serialNumber).toLowerCase().replace(/^(00)+(?=.)/, ''),
    notBefore: notBefore.toISOString(),
    notAfter: notAfter.toISOString(),
  };
}

const ALGORITHMS: Record<string, string> = {
  '1.2.840.113549.1.1.1': 'RSA',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption',
  '1.2.840.113549.1.1.11': 'sha256WithRSAEncryption',
  '1.2.840.113549.1.1.12': 'sha384WithRSAEncryption',
  '1.2.840.113549.1.1.13': 'sha512WithRSAEncryption',
  '1.2.840.10045.2.1': 'EC',
  '1.2.840.10045.4.3.2': 'ecdsa-with-SHA256',
  '1.2.840.10045.4.3.3': 'ecdsa-with-SHA384',
};

function algorithmName(oid: string): string {
  return ALGORITHMS[oid] ? `${ALGORITHMS[oid]} (${oid})` : oid;
}

function publicKeyText(spkiDer: Uint8Array): Label {
  try {
    const key = createPublicKey({ key: Buffer.from(spkiDer), format: 'der', type: 'spki' });
    const details = key.asymmetricKeyDetails ?? {};
    const size = details.modulusLength ? fillLabel(WORDS.bits, { n: details.modulusLength }) : same(details.namedCurve ?? '');
    const type = (key.asymmetricKeyType ?? '?').toUpperCase();
    return { ja: `${type} ${size.ja}`, en: `${type} ${size.en}`, ko: `${type} ${size.ko}` };
  } catch {
    return same(hex(spkiDer, ' '));
  }
}

function generalNameText(g: GeneralName): string {
  if (g.uniformResourceIdentifier) return g.uniformResourceIdentifier;
  if (g.directoryName) return nameText(g.directoryName);
  if (g.dNSName) return g.dNSName;
  if (g.rfc822Name) return g.rfc822Name;
  if (g.iPAddress) return g.iPAddress;
  if (g.registeredID) return g.registeredID;
  if (g.otherName) return `${g.otherName.typeId}: ${hex(g.otherName.value)}`;
  return '?';
}

function listRow(items: string[]): Label {
  return same(items.join('\n'));
}

/** One extension decoded to rows; anything we cannot decode is shown as hex, never hidden. */
function extensionRow(oid: string, critical: boolean, value: Uint8Array): DetailRow {
  const label = EXTENSION_LABELS[oid] ?? fillLabel(same(`${FIELD_LABELS.extension.ja} {oid}`), { oid });
  const row: DetailRow = { label, oid, critical };
  try {
    switch (oid) {
      case '2.5.29.17':
        row.rows = otherNameRows(value);
        break;
      case '2.5.29.18':
        row.value = listRow(AsnConvert.parse(value, GeneralNames).map(generalNameText));
        break;
      case '2.5.29.15': {
        const flags = AsnConvert.parse(value, KeyUsage).toNumber();
        const names = Object.keys(KEY_USAGE_LABELS).filter((n) => flags & KeyUsageFlags[n as keyof typeof KeyUsageFlags]);
        row.value = joinLabels(names.map((n) => KEY_USAGE_LABELS[n]!));
        break;
      }
      case '2.5.29.19': {
        const bc = AsnConvert.parse(value, BasicConstraints);
        const base = bc.cA ? WORDS.ca : WORDS.endEntity;
        row.value = bc.pathLenConstraint === undefined ? base : joinLabels([base, fillLabel(WORDS.pathLength, { n: bc.pathLenConstraint })]);
        break;
      }
      case '2.5.29.32':
        row.value = listRow(AsnConvert.parse(value, CertificatePolicies).map((p) => p.policyIdentifier));
        break;
      case '2.5.29.33':
        row.value = listRow(AsnConvert.parse(value, PolicyMappings).map((m) => `${m.issuerDomainPolicy} → ${m.subjectDomainPolicy}`));
        break;
      case '2.5.29.37':
        row.value = listRow(AsnConvert.parse(value, ExtendedKeyUsage).map(String));
        break;
      case '2.5.29.31':
      case '2.5.29.46':
        row.value = listRow(
          AsnConvert.parse(value, CRLDistributionPoints).flatMap((dp) => (dp.distributionPoint?.fullName ?? []).map(generalNameText)),
        );
        break;
      case '1.3.6.1.5.5.7.1.1':
        row.value = listRow(
          AsnConvert.parse(value, AuthorityInfoAccessSyntax).map((ad) => `${ad.accessMethod === '1.3.6.1.5.5.7.48.1' ? 'OCSP' : ad.accessMethod === '1.3.6.1.5.5.7.48.2' ? 'CA Issuers' : ad.accessMethod}: ${generalNameText(ad.accessLocation)}`),
        );
        break;
      case '2.5.29.35': {
        const aki = AsnConvert.parse(value, AuthorityKeyIdentifier);
        row.value = same(aki.keyIdentifier ? hex(aki.keyIdentifier.buffer, ' ') : '—');
        break;
      }
      case '2.5.29.14':
        row.value = same(hex(AsnConvert.parse(value, SubjectKeyIdentifier).buffer, ' '));
        break;
      default:
        row.value = same(hex(value, ' '));
    }
  } catch {
    row.value = same(hex(value, ' '));
  }
  return row;
}

function joinLabels(labels: Label[]): Label {
  return { ja: labels.map((x) => x.ja).join('、'), en: labels.map((x) => x.en).join(', '), ko: labels.map((x) => x.ko).join(', ') };
}

/** The six otherNames by name, in the certificate's order; substitute flags explained; the era date read. */
function otherNameRows(value: Uint8Array): DetailRow[] {
  const names = AsnConvert.parse(value, GeneralNames);
  return names.map((g) => {
    if (!g.otherName) return { label: same('GeneralName'), value: same(generalNameText(g)) };
    const oid = g.otherName.typeId;
    // value [0] EXPLICIT UTF8String: the library keeps the [0]'s content, a UTF8String TLV.
    const raw = Buffer.from(g.otherName.value);
    const text = utf8Of(raw);
    const label = OTHER_NAME_LABELS[oid] ?? same(oid);
    let shown: Label = same(text);
    if (oid.endsWith('.5.5.2') || oid.endsWith('.5.5.6')) {
      const positions = [...text].flatMap((c, i) => (c === '1' ? [i + 1] : []));
      const explained = positions.length === 0 ? WORDS.noSubstitutes : fillLabel(WORDS.substitutesAt, { positions: positions.join(', ') });
      shown = { ja: `${text}（${explained.ja}）`, en: `${text} (${explained.en})`, ko: `${text} (${explained.ko})` };
    } else if (oid.endsWith('.5.5.4')) {
      const dob = decodeDateOfBirth(text);
      const formatted = formatDateOfBirth(text);
      if (dob && formatted) {
        const era = fillLabel(WORDS.eraCode, { code: dob.eraCode, era: dob.era?.name ?? '?' });
        shown = { ja: `${text}（${era.ja}）= ${formatted}`, en: `${text} (${era.en}) = ${formatted}`, ko: `${text} (${era.ko}) = ${formatted}` };
      }
    } else if (oid.endsWith('.5.5.3')) {
      const sex = SEX_LABELS[text];
      if (sex) shown = { ja: `${text}（${sex.ja}）`, en: `${text} (${sex.en})`, ko: `${text} (${sex.ko})` };
    }
    return { label, value: shown, oid };
  });
}

/** The UTF8String inside an otherName value (tag 0x0C, short or long length). */
function utf8Of(tlv: Buffer): string {
  let i = tlv[0] === 0xa0 ? 2 + (tlv[1]! & 0x80 ? tlv[1]! & 0x7f : 0) : 0;
  if (tlv[i] !== 0x0c) return tlv.toString('hex');
  const first = tlv[i + 1]!;
  i += 2;
  if (first & 0x80) i += first & 0x7f;
  return tlv.subarray(i).toString('utf8');
}
