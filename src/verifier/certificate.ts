import { createHash, createPublicKey, hash, type KeyObject } from 'node:crypto';
import { AsnConvert, BitString } from '@peculiar/asn1-schema';
import {
  AlgorithmIdentifier,
  AuthorityInfoAccessSyntax,
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  CertificatePolicies,
  CRLDistributionPoints,
  ExtendedKeyUsage,
  FreshestCRL,
  InhibitAnyPolicy,
  KeyUsage,
  NameConstraints,
  PolicyConstraints,
  PolicyMappings,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
  SubjectPublicKeyInfo,
  type DistributionPoint,
  type GeneralName,
  type Name,
} from '@peculiar/asn1-x509';
import { BoundedMap } from './memo.js';
import { formatName, nameKey } from './names.js';

/**
 * One certificate as the verifier uses it: parsed once with the typed @peculiar/asn1-x509 schema (the TBS
 * bytes kept as read, for the signature), its extensions decoded on demand. Anything that does not parse
 * throws a MalformedCertificate, which the verifier turns into reason `malformed`.
 */
export class MalformedCertificate extends Error {}

export const OID = {
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectKeyIdentifier: '2.5.29.14',
  authorityKeyIdentifier: '2.5.29.35',
  subjectAltName: '2.5.29.17',
  issuerAltName: '2.5.29.18',
  certificatePolicies: '2.5.29.32',
  policyMappings: '2.5.29.33',
  policyConstraints: '2.5.29.36',
  inhibitAnyPolicy: '2.5.29.54',
  nameConstraints: '2.5.29.30',
  crlDistributionPoints: '2.5.29.31',
  freshestCrl: '2.5.29.46',
  authorityInfoAccess: '1.3.6.1.5.5.7.1.1',
  subjectInfoAccess: '1.3.6.1.5.5.7.1.11',
  ocspNoCheck: '1.3.6.1.5.5.7.48.1.5',
  anyPolicy: '2.5.29.32.0',
  adOcsp: '1.3.6.1.5.5.7.48.1',
  kpOcspSigning: '1.3.6.1.5.5.7.3.9',
  dsa: '1.2.840.10040.4.1',
} as const;

/** Extensions §6 processes (anything else critical makes the certificate unusable). */
export const KNOWN_EXTENSIONS = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectKeyIdentifier,
  OID.authorityKeyIdentifier,
  OID.subjectAltName,
  OID.issuerAltName,
  OID.certificatePolicies,
  OID.policyMappings,
  OID.policyConstraints,
  OID.inhibitAnyPolicy,
  OID.nameConstraints,
  OID.crlDistributionPoints,
  OID.freshestCrl,
  OID.authorityInfoAccess,
  OID.subjectInfoAccess,
  OID.ocspNoCheck,
]);

export const KEY_USAGE = {
  digitalSignature: 1,
  nonRepudiation: 2,
  keyEncipherment: 4,
  dataEncipherment: 8,
  keyAgreement: 16,
  keyCertSign: 32,
  cRLSign: 64,
} as const;

export interface PolicyInfo {
  policy: string;
}

function ab(u: Uint8Array): ArrayBuffer {
  return u.buffer.slice(u.byteOffset, u.byteOffset + u.byteLength) as ArrayBuffer;
}

function serialHexOf(serial: ArrayBuffer): string {
  return Buffer.from(serial).toString('hex').toUpperCase();
}

let certificatesParsed = 0;

export class ParsedCertificate {
  /** Unique to this object in the process: a short key for the verifier's memos (its DER never changes). */
  readonly id = ++certificatesParsed;
  readonly der: Buffer;
  readonly cert: Certificate;
  readonly tbs: Buffer;
  readonly subject: Name;
  readonly issuer: Name;
  readonly subjectKey: string;
  readonly issuerKey: string;
  readonly serialHex: string;
  /** The serial's DER content bytes (two's complement, as encoded). */
  readonly serialBytes: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly spkiDer: Buffer;
  readonly fingerprint: string;
  readonly extensions = new Map<string, { critical: boolean; value: Buffer }>();
  private decoded = new Map<string, unknown>();
  private key: KeyObject | undefined;
  // Display forms, made once: every report and every reason names certificates, and formatting a Name is slow.
  private texts: { subject?: string; issuer?: string; notBefore?: string; notAfter?: string } = {};
  /** Key usage, key identifiers and OCSP URLs, derived once: path search and revocation ask on every verification. */
  private derived: { keyUsage?: number | null; ski?: Buffer | null; aki?: Buffer | null; ocspUrls?: readonly string[] } = {};

  constructor(der: Uint8Array) {
    this.der = Buffer.from(der);
    try {
      this.cert = AsnConvert.parse(this.der, Certificate);
      const tbs = this.cert.tbsCertificate;
      if (!this.cert.tbsCertificateRaw) throw new Error('no TBS');
      this.tbs = Buffer.from(this.cert.tbsCertificateRaw);
      this.subject = tbs.subject;
      this.issuer = tbs.issuer;
      this.subjectKey = nameKey(tbs.subject);
      this.issuerKey = nameKey(tbs.issuer);
      this.serialBytes = Buffer.from(tbs.serialNumber);
      this.serialHex = serialHexOf(tbs.serialNumber);
      this.notBefore = tbs.validity.notBefore.getTime();
      this.notAfter = tbs.validity.notAfter.getTime();
      this.spkiDer = Buffer.from(AsnConvert.serialize(tbs.subjectPublicKeyInfo));
      for (const e of tbs.extensions ?? []) {
        if (this.extensions.has(e.extnID)) throw new Error(`extension ${e.extnID} appears twice`);
        this.extensions.set(e.extnID, { critical: e.critical, value: Buffer.from(e.extnValue.buffer) });
      }
    } catch (e) {
      throw new MalformedCertificate(`not an X.509 certificate: ${(e as Error).message}`);
    }
    this.fingerprint = createHash('sha256').update(this.der).digest('hex').toUpperCase();
  }

  get subjectText(): string {
    return (this.texts.subject ??= formatName(this.subject));
  }
  get issuerText(): string {
    return (this.texts.issuer ??= formatName(this.issuer));
  }
  /** notBefore / notAfter as ISO 8601 (the reports' form). */
  get notBeforeIso(): string {
    return (this.texts.notBefore ??= this.notBefore.toISOString());
  }
  get notAfterIso(): string {
    return (this.texts.notAfter ??= this.notAfter.toISOString());
  }
  get version(): number {
    return this.cert.tbsCertificate.version;
  }
  get selfIssued(): boolean {
    return this.subjectKey === this.issuerKey;
  }
  get signatureAlgorithm() {
    return this.cert.signatureAlgorithm;
  }
  get signatureValue(): Buffer {
    return Buffer.from(this.cert.signatureValue);
  }
  get spki(): SubjectPublicKeyInfo {
    return this.cert.tbsCertificate.subjectPublicKeyInfo;
  }

  private ext<T>(oid: string, type: new () => T): T | undefined {
    if (this.decoded.has(oid)) return this.decoded.get(oid) as T | undefined;
    const e = this.extensions.get(oid);
    let v: T | undefined;
    if (e) {
      try {
        v = AsnConvert.parse(e.value, type);
      } catch (err) {
        throw new MalformedCertificate(`extension ${oid} of ${this.subjectText} cannot be read: ${(err as Error).message}`);
      }
    }
    this.decoded.set(oid, v);
    return v;
  }

  get basicConstraints(): BasicConstraints | undefined {
    return this.ext(OID.basicConstraints, BasicConstraints);
  }
  get isCa(): boolean {
    return this.basicConstraints?.cA === true;
  }
  /** keyUsage bits (KEY_USAGE flags), or undefined when the extension is absent. */
  get keyUsage(): number | undefined {
    if (this.derived.keyUsage === undefined) {
      const ku = this.ext(OID.keyUsage, KeyUsage as unknown as new () => BitString);
      this.derived.keyUsage = ku ? ku.toNumber() : null;
    }
    return this.derived.keyUsage ?? undefined;
  }
  get extKeyUsage(): string[] | undefined {
    return this.ext(OID.extKeyUsage, ExtendedKeyUsage)?.map(String);
  }
  get subjectKeyId(): Buffer | undefined {
    if (this.derived.ski === undefined) {
      const v = this.ext(OID.subjectKeyIdentifier, SubjectKeyIdentifier);
      this.derived.ski = v ? Buffer.from(v.buffer) : null;
    }
    return this.derived.ski ?? undefined;
  }
  get authorityKeyId(): Buffer | undefined {
    if (this.derived.aki === undefined) {
      const v = this.ext(OID.authorityKeyIdentifier, AuthorityKeyIdentifier);
      this.derived.aki = v?.keyIdentifier ? Buffer.from(v.keyIdentifier.buffer) : null;
    }
    return this.derived.aki ?? undefined;
  }
  get subjectAltNames(): GeneralName[] {
    return this.ext(OID.subjectAltName, SubjectAlternativeName) ?? [];
  }
  get policies(): CertificatePolicies | undefined {
    return this.ext(OID.certificatePolicies, CertificatePolicies);
  }
  get policyMappings(): PolicyMappings | undefined {
    return this.ext(OID.policyMappings, PolicyMappings);
  }
  get policyConstraints(): { requireExplicitPolicy?: number; inhibitPolicyMapping?: number } | undefined {
    const v = this.ext(OID.policyConstraints, PolicyConstraints);
    if (!v) return undefined;
    const n = (b?: ArrayBuffer) => (b === undefined ? undefined : Number(BigInt(`0x${Buffer.from(b).toString('hex') || '0'}`)));
    return { requireExplicitPolicy: n(v.requireExplicitPolicy), inhibitPolicyMapping: n(v.inhibitPolicyMapping) };
  }
  get inhibitAnyPolicy(): number | undefined {
    const v = this.ext(OID.inhibitAnyPolicy, InhibitAnyPolicy);
    if (!v) return undefined;
    return Number(BigInt(`0x${Buffer.from(v.value).toString('hex') || '0'}`));
  }
  get nameConstraints(): NameConstraints | undefined {
    return this.ext(OID.nameConstraints, NameConstraints);
  }
  get crlDistributionPoints(): DistributionPoint[] | undefined {
    return this.ext(OID.crlDistributionPoints, CRLDistributionPoints);
  }
  get freshestCrl(): DistributionPoint[] | undefined {
    return this.ext(OID.freshestCrl, FreshestCRL);
  }
  /** The OCSP URLs of authorityInfoAccess, each once. */
  get ocspUrls(): readonly string[] {
    if (!this.derived.ocspUrls) {
      const aia = this.ext(OID.authorityInfoAccess, AuthorityInfoAccessSyntax) ?? [];
      this.derived.ocspUrls = Object.freeze([...new Set(aia.filter((a) => a.accessMethod === OID.adOcsp && a.accessLocation.uniformResourceIdentifier).map((a) => a.accessLocation.uniformResourceIdentifier!))]);
    }
    return this.derived.ocspUrls;
  }

  /** The public key; a DSA key without parameters takes its issuer's (RFC 3279 §2.3.2) via `inherit`. */
  publicKey(inherit?: ParsedCertificate): KeyObject {
    if (this.key && !inherit) return this.key;
    const spki = this.spki;
    let der: Buffer = this.spkiDer;
    if (spki.algorithm.algorithm === OID.dsa && !spki.algorithm.parameters) {
      const params = inherit?.inheritedDsaParameters();
      if (!params) throw new MalformedCertificate(`the DSA key of ${this.subjectText} has no parameters to inherit`);
      der = Buffer.from(AsnConvert.serialize(new SubjectPublicKeyInfo({ algorithm: new AlgorithmIdentifier({ algorithm: spki.algorithm.algorithm, parameters: params }), subjectPublicKey: spki.subjectPublicKey })));
      return createPublicKey({ key: der, format: 'der', type: 'spki' });
    }
    try {
      this.key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    } catch (e) {
      throw new MalformedCertificate(`the public key of ${this.subjectText} cannot be loaded: ${(e as Error).message}`);
    }
    return this.key;
  }

  /** DSA parameters of this key (for a child that inherits them). */
  inheritedDsaParameters(): ArrayBuffer | undefined {
    const a = this.spki.algorithm;
    return a.algorithm === OID.dsa && a.parameters ? a.parameters : undefined;
  }

  get hasDsaKeyWithoutParameters(): boolean {
    return this.spki.algorithm.algorithm === OID.dsa && !this.spki.algorithm.parameters;
  }

  /** Critical extensions §6 does not process. */
  unknownCriticalExtensions(): string[] {
    return [...this.extensions].filter(([oid, e]) => e.critical && !KNOWN_EXTENSIONS.has(oid)).map(([oid]) => oid);
  }
}

/** Parsed certificates by DER (one parse per certificate per process; the bridge path is parsed once). */
const cache = new BoundedMap<string, ParsedCertificate>(5000);

export function parseCertificate(der: Uint8Array): ParsedCertificate {
  return cache.get(hash('sha256', der, 'base64'), () => new ParsedCertificate(der));
}

export function toArrayBuffer(u: Uint8Array): ArrayBuffer {
  return ab(u);
}
