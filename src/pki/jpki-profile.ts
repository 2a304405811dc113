import { encodeTbsCertificate, type TbsCertificateParams } from './certificate-builder.js';
import {
  basicConstraints,
  certificatePolicies,
  extendedKeyUsage,
  issuerAltName,
  keyUsage,
  ocspNoCheck,
  policyMappings,
  subjectAltName,
} from './certificate-extensions.js';
import { authorityInfoAccess, authorityKeyIdentifier, crlDistributionPoints, freshestCrl, keyIdentifierOf, subjectKeyIdentifier } from './extensions.js';
import { encodeName, type NameAttribute } from './names.js';
import { OID_JPKI_POLICY_AUTH, OID_JPKI_POLICY_SIGN, OID_KP_OCSP_SIGNING } from './oids.js';
import { encodeResidentFactsSan, type ResidentFacts } from './resident-facts.js';
import type { SignatureAlgorithm } from './signer.js';

/**
 * The JPKI certificate profiles (jpki-profile.md §1–2): resident signing and user-authentication
 * certificates, self-signed CA certificates, cross-certificates between CAs, delegated OCSP responders.
 * Pure: each function returns the TBSCertificate DER; the CA signs it.
 */

/** The resident certificate kinds: 署名用 (signing) and 利用者証明用 (user authentication). */
export type ResidentCertificateKind = 'sign' | 'auth';

export const POLICY_OF: Record<ResidentCertificateKind, string> = { sign: OID_JPKI_POLICY_SIGN, auth: OID_JPKI_POLICY_AUTH };

/** What a certificate needs to know about its issuer. */
export interface IssuerIdentity {
  /** Subject Name DER of the issuing CA (becomes the issuer field). */
  subject: Uint8Array;
  /** The issuing CA's key identifier (becomes the authorityKeyIdentifier). */
  keyId: Uint8Array;
  /** Name DER for issuerAltName (C=JP, O=公的個人認証サービス, OU=<governor>), if the profile has one. */
  altName?: Uint8Array;
}

/** Where relying parties find revocation information and the issuer's certificate. */
export interface RevocationPointers {
  crlDistributionPoints: readonly string[];
  freshestCrl?: readonly string[];
  ocsp?: readonly string[];
  caIssuers?: readonly string[];
}

export interface ResidentCertificateParams {
  kind: ResidentCertificateKind;
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  issuer: IssuerIdentity;
  subjectPublicKeyInfo: Uint8Array;
  /** Subject Name DER (see residentSubject). */
  subject: Uint8Array;
  /** The four facts: required for 'sign', refused for 'auth' (which carries no personal facts, §1.3 e). */
  facts?: ResidentFacts;
  notBefore: Date;
  notAfter: Date;
  pointers: RevocationPointers;
}

/**
 * Subject Name of a resident certificate (§1.2): the signing certificate names the holder's locality
 * (C=JP, L=<prefecture>, L=<municipality>, CN=<opaque id>); the authentication certificate only C and CN.
 * The CN is an opaque identifier, never the holder's name.
 */
export function residentSubject(kind: ResidentCertificateKind, commonName: string, localities: readonly string[] = []): Buffer {
  const attrs: NameAttribute[] = [{ C: 'JP' }];
  if (kind === 'sign') for (const l of localities) attrs.push({ L: l });
  attrs.push({ CN: commonName });
  return encodeName(attrs);
}

export function residentCertificateTbs(p: ResidentCertificateParams): Buffer {
  if (p.kind === 'sign' && !p.facts) throw new Error('a signing certificate carries the four facts');
  if (p.kind === 'auth' && p.facts) throw new Error('a user-authentication certificate carries no personal facts');
  const extensions: Uint8Array[] = [...KIND_EXTENSIONS[p.kind]];
  if (p.facts) extensions.push(subjectAltName(encodeResidentFactsSan(p.facts)));
  extensions.push(...issuerExtensions(p.issuer, p.pointers));
  // The SKI goes last: JPKI verifiers resume a hash over the TBS after the key by appending only it (§1.3).
  extensions.push(subjectKeyIdentifier(keyIdentifierOf(p.subjectPublicKeyInfo)));
  return profileTbs(p, p.issuer.subject, extensions);
}

/** keyUsage and certificatePolicies: the same for every certificate of a kind. */
const KIND_EXTENSIONS: Record<ResidentCertificateKind, readonly Uint8Array[]> = {
  sign: [keyUsage(['digitalSignature', 'nonRepudiation']), certificatePolicies([POLICY_OF.sign])],
  auth: [keyUsage(['digitalSignature']), certificatePolicies([POLICY_OF.auth])],
};

/**
 * issuerAltName, the revocation pointers and the AKI: the same for every certificate a CA issues into one
 * CRL partition, so encoded once per issuer key and pointers (a few thousand at most: one per municipality).
 * Keyed by the issuer's keyId object, which the CA reads once per process; a caller passing new bytes each
 * time only misses the cache.
 */
const issuerExtensionCache = new WeakMap<Uint8Array, Map<string, { altName: Uint8Array | undefined; extensions: readonly Uint8Array[] }>>();

function issuerExtensions(issuer: IssuerIdentity, pointers: RevocationPointers): readonly Uint8Array[] {
  let byPointers = issuerExtensionCache.get(issuer.keyId);
  if (!byPointers) issuerExtensionCache.set(issuer.keyId, (byPointers = new Map()));
  // newline-separated (no URL holds one or a NUL), a list per line pair; NUL for no list
  const urls = (list: readonly string[] | undefined) => (list ? list.join('\n') : '\u0000');
  const key = `${urls(pointers.crlDistributionPoints)}\n\n${urls(pointers.freshestCrl)}\n\n${urls(pointers.ocsp)}\n\n${urls(pointers.caIssuers)}`;
  const hit = byPointers.get(key);
  if (hit && hit.altName === issuer.altName) return hit.extensions;
  const extensions = [...(issuer.altName ? [issuerAltName(issuer.altName)] : []), ...revocationExtensions(pointers), authorityKeyIdentifier(issuer.keyId)];
  byPointers.set(key, { altName: issuer.altName, extensions });
  return extensions;
}

function revocationExtensions(p: RevocationPointers): Uint8Array[] {
  const out: Uint8Array[] = [];
  if (p.crlDistributionPoints.length) out.push(crlDistributionPoints(p.crlDistributionPoints));
  if (p.freshestCrl?.length) out.push(freshestCrl(p.freshestCrl));
  if (p.ocsp?.length || p.caIssuers?.length) out.push(authorityInfoAccess({ ocsp: p.ocsp ?? [], caIssuers: p.caIssuers ?? [] }));
  return out;
}

export interface CaCertificateParams {
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

/**
 * A self-signed CA certificate, as J-LIS's (§2.1): basicConstraints cA critical, keyUsage keyCertSign +
 * cRLSign critical, the SKI; no AKI (issuer = subject, one key).
 */
export function selfSignedCaTbs(p: CaCertificateParams): Buffer {
  return profileTbs(p, p.subject, [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign']), subjectKeyIdentifier(keyIdentifierOf(p.subjectPublicKeyInfo))]);
}

export interface PolicyMapping {
  issuerDomainPolicy: string;
  subjectDomainPolicy: string;
}

export interface CrossCertificateParams {
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  issuer: IssuerIdentity;
  /** The certified CA's subject Name and key (from its self-signed certificate). */
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  notBefore: Date;
  notAfter: Date;
  /** Policies of the issuer's domain that the issuer vouches for in the subject's domain. */
  policies: readonly string[];
  /** Issuer-domain policy → subject-domain policy equivalences; empty when both sides share a policy space. */
  mappings: readonly PolicyMapping[];
  /** The issuer's ARL (the CRL covering the CA certificates it issued). */
  pointers: RevocationPointers;
}

/**
 * A cross-certificate: CA X certifies CA Y's key under Y's name, with X's policies mapped onto Y's, so a
 * relying party anchored at X can build a path into Y's domain (X → Y → … → leaf).
 */
export function crossCertificateTbs(p: CrossCertificateParams): Buffer {
  const extensions: Uint8Array[] = [basicConstraints(true), keyUsage(['keyCertSign', 'cRLSign']), certificatePolicies(p.policies)];
  if (p.mappings.length) extensions.push(policyMappings(p.mappings));
  extensions.push(...revocationExtensions(p.pointers), authorityKeyIdentifier(p.issuer.keyId), subjectKeyIdentifier(keyIdentifierOf(p.subjectPublicKeyInfo)));
  return profileTbs(p, p.issuer.subject, extensions);
}

export interface OcspResponderCertificateParams {
  serial: Uint8Array;
  signatureAlgorithm: SignatureAlgorithm;
  issuer: IssuerIdentity;
  subject: Uint8Array;
  subjectPublicKeyInfo: Uint8Array;
  notBefore: Date;
  notAfter: Date;
}

/** A delegated OCSP responder certificate (RFC 6960 §4.2.2.2): id-kp-OCSPSigning, id-pkix-ocsp-nocheck. */
export function ocspResponderTbs(p: OcspResponderCertificateParams): Buffer {
  return profileTbs(p, p.issuer.subject, [
    keyUsage(['digitalSignature']),
    extendedKeyUsage([OID_KP_OCSP_SIGNING]),
    ocspNoCheck(),
    authorityKeyIdentifier(p.issuer.keyId),
    subjectKeyIdentifier(keyIdentifierOf(p.subjectPublicKeyInfo)),
  ]);
}

/** The TBS of any profile: the fields every params type carries as they are, plus issuer and extensions. */
function profileTbs(
  p: Pick<TbsCertificateParams, 'serial' | 'signatureAlgorithm' | 'notBefore' | 'notAfter' | 'subject' | 'subjectPublicKeyInfo'>,
  issuer: Uint8Array,
  extensions: readonly Uint8Array[],
): Buffer {
  const { serial, signatureAlgorithm, notBefore, notAfter, subject, subjectPublicKeyInfo } = p;
  return encodeTbsCertificate({ serial, signatureAlgorithm, issuer, notBefore, notAfter, subject, subjectPublicKeyInfo, extensions });
}

// ---- validity ----------------------------------------------------------------------------------------

const JST_OFFSET_MS = 9 * 3600_000;

/** The JST calendar date (year, month 1–12, day) of an instant. */
function jstDate(at: Date): { y: number; m: number; d: number } {
  const j = new Date(at.getTime() + JST_OFFSET_MS);
  return { y: j.getUTCFullYear(), m: j.getUTCMonth() + 1, d: j.getUTCDate() };
}

/** 23:59:59 JST (14:59:59Z) of the JST calendar day given. */
function endOfJstDay(y: number, m: number, d: number): Date {
  return new Date(Date.UTC(y, m - 1, d, 14, 59, 59));
}

/**
 * Validity of a resident certificate: from the moment of issue for `years` years (the guide: 3), ending at
 * 23:59:59 JST of the day before the anniversary — the guide's sample runs 2004-04-01 to 2007-03-31.
 */
export function residentValidity(issuedAt: Date, years = 3): { notBefore: Date; notAfter: Date } {
  const { y, m, d } = jstDate(issuedAt);
  // Day before the anniversary; Date.UTC normalises day 0 and Feb 29 → Mar 1 properly.
  const anniversaryEve = new Date(Date.UTC(y + years, m - 1, d - 1));
  return {
    notBefore: new Date(Math.floor(issuedAt.getTime() / 1000) * 1000),
    notAfter: endOfJstDay(anniversaryEve.getUTCFullYear(), anniversaryEve.getUTCMonth() + 1, anniversaryEve.getUTCDate()),
  };
}

/** Validity of a CA certificate: from 00:00:00 JST of the creation day, ending 23:59:59 JST after `years` years. */
export function caValidity(createdAt: Date, years: number): { notBefore: Date; notAfter: Date } {
  const { y, m, d } = jstDate(createdAt);
  const start = new Date(Date.UTC(y, m - 1, d, -9, 0, 0));
  const eve = new Date(Date.UTC(y + years, m - 1, d - 1));
  return { notBefore: start, notAfter: endOfJstDay(eve.getUTCFullYear(), eve.getUTCMonth() + 1, eve.getUTCDate()) };
}
