import { X509Certificate } from 'node:crypto';
import { authorityView } from '../ca/authority-view.js';
import { JPKI_BRIDGE_ID } from '../ca/hierarchy.js';
import type { CertificationAuthorities } from '../ca/certification-authorities.js';
import { PINS, pinFormatRule } from '../card/index.js';
import { findExtension, readCertificate } from '../pki/certificate-reader.js';
import { formatDateOfBirth, formatJapaneseDate } from '../pki/era.js';
import { OID_EXT_SUBJECT_ALT_NAME } from '../pki/oids.js';
import { toPem } from '../pki/pem.js';
import { decodeResidentFactsSan } from '../pki/resident-facts.js';
import { fingerprint } from '../pki/signed.js';
import type { AuthorityRecord, CertificateRecord } from '../store/index.js';

/**
 * What the resident takes home besides the card (guide §4(3) ⑤): a copy of the certificate (電子証明書の写し)
 * and the usage guide (利用のご案内) with the fingerprints of the prefectural CA and the bridge CA (§4(10)).
 * Plain data: the web counter terminal prints it. The facts are decoded from the certificate itself, not
 * copied from the register, so the paper shows what the card really holds.
 */
export interface CertificateCopy {
  kind: 'sign' | 'auth';
  caId: string;
  /** 東京都知事 */
  issuer: string;
  issuerEn: string;
  serial: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  /** 平成16年4月1日 style, in Japan time. */
  notBeforeJa: string;
  notAfterJa: string;
  /** The certificate's own fingerprints (upper-case hex, colon-separated, as `jpki ca list` prints). */
  sha1: string;
  sha256: string;
  pem: string;
  /** The four facts of a signing certificate; absent for the user-authentication certificate. */
  facts?: {
    name: string;
    nameSubstitute: string;
    dateOfBirth: string;
    dateOfBirthCode: string;
    dateOfBirthJa: string;
    sex: string;
    sexJa: string;
    address: string;
    addressSubstitute: string;
  };
}

export interface CaFingerprint {
  id: string;
  name: string;
  nameEn: string;
  subject: string;
  notAfter: string;
  sha1: string;
  sha256: string;
}

export interface UsageGuide {
  prefecturalCa: CaFingerprint;
  bridgeCa: CaFingerprint;
  /** Where the fingerprints are also published (guide §4(10)) and the online window lives. */
  portalUrl: string;
  pinRules: Record<'sign' | 'auth', { rule: string; maxTries: number }>;
  /** When the certificates expire, and what ends them earlier (guide §3). */
  validUntil: string;
  validUntilJa: string;
  invalidatedBy: string[];
}

const SEX_JA: Record<string, string> = { '1': '男', '2': '女', '3': '不明', '9': '適用不能' };

export function certificateCopy(c: CertificateRecord, issuer: AuthorityRecord): CertificateCopy {
  const x = new X509Certificate(c.der);
  const copy: CertificateCopy = {
    kind: c.kind as 'sign' | 'auth',
    caId: c.caId,
    issuer: issuer.name,
    issuerEn: issuer.nameEn,
    serial: c.serial,
    subject: x.subject.split('\n').join(', '),
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    notBeforeJa: formatJapaneseDate(new Date(c.notBefore)),
    notAfterJa: formatJapaneseDate(new Date(c.notAfter)),
    sha1: fingerprint(c.der, 'sha1'),
    sha256: fingerprint(c.der, 'sha256'),
    pem: toPem(c.der, 'CERTIFICATE'),
  };
  const san = findExtension(readCertificate(c.der), OID_EXT_SUBJECT_ALT_NAME);
  if (c.kind === 'sign' && san) {
    const f = decodeResidentFactsSan(san.value);
    copy.facts = {
      name: f.name,
      nameSubstitute: f.nameSubstitute,
      dateOfBirth: f.dateOfBirth,
      dateOfBirthCode: f.dateOfBirthCode,
      dateOfBirthJa: formatDateOfBirth(f.dateOfBirthCode) ?? f.dateOfBirth,
      sex: f.sex,
      sexJa: SEX_JA[f.sex] ?? f.sex,
      address: f.address,
      addressSubstitute: f.addressSubstitute,
    };
  }
  return copy;
}

export function caFingerprint(a: AuthorityRecord): CaFingerprint {
  const { id, name, nameEn, subject, notAfter, sha1, sha256 } = authorityView(a);
  return { id, name, nameEn, subject, notAfter, sha1, sha256 };
}

export async function usageGuide(ca: Pick<CertificationAuthorities, 'get'>, issuerId: string, validUntil: number, portalUrl: string): Promise<UsageGuide> {
  const [prefectural, bridge] = await Promise.all([ca.get(issuerId), ca.get(JPKI_BRIDGE_ID)]);
  return {
    prefecturalCa: caFingerprint(prefectural),
    bridgeCa: caFingerprint(bridge),
    portalUrl,
    pinRules: {
      sign: { rule: pinFormatRule('sign'), maxTries: PINS.sign.maxTries },
      auth: { rule: pinFormatRule('auth'), maxTries: PINS.auth.maxTries },
    },
    validUntil: new Date(validUntil).toISOString(),
    validUntilJa: formatJapaneseDate(new Date(validUntil)),
    invalidatedBy: ['move', 'name-change', 'correction', 'death', 'revocation'],
  };
}
