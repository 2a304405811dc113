import { boolean, integer, namedBitString, NULL, oid, sequence } from './der.js';
import { extension, generalName } from './extensions.js';
import {
  OID_EXT_BASIC_CONSTRAINTS,
  OID_EXT_CERTIFICATE_POLICIES,
  OID_EXT_EXTENDED_KEY_USAGE,
  OID_EXT_ISSUER_ALT_NAME,
  OID_EXT_KEY_USAGE,
  OID_EXT_POLICY_MAPPINGS,
  OID_EXT_SUBJECT_ALT_NAME,
  OID_PKIX_OCSP_NOCHECK,
} from './oids.js';

/** KeyUsage bit numbers (RFC 5280 §4.2.1.3). */
export const KEY_USAGE = {
  digitalSignature: 0,
  nonRepudiation: 1,
  keyEncipherment: 2,
  dataEncipherment: 3,
  keyAgreement: 4,
  keyCertSign: 5,
  cRLSign: 6,
} as const;

export type KeyUsageName = keyof typeof KEY_USAGE;

/** keyUsage, critical (the profile: sign = digitalSignature + nonRepudiation, DER 03 02 06 C0). */
export function keyUsage(usages: readonly KeyUsageName[]): Buffer {
  return extension(OID_EXT_KEY_USAGE, true, namedBitString(usages.map((u) => KEY_USAGE[u])));
}

/** basicConstraints, critical: cA TRUE for CAs (pathLen optional); leaves carry none. */
export function basicConstraints(ca: boolean, pathLen?: number): Buffer {
  const parts: Buffer[] = [];
  if (ca) parts.push(boolean(true));
  if (ca && pathLen !== undefined) parts.push(integer(pathLen));
  return extension(OID_EXT_BASIC_CONSTRAINTS, true, sequence(...parts));
}

/** certificatePolicies: policy OIDs without qualifiers. */
export function certificatePolicies(policies: readonly string[], critical = false): Buffer {
  return extension(OID_EXT_CERTIFICATE_POLICIES, critical, sequence(...policies.map((p) => sequence(oid(p)))));
}

/**
 * policyMappings (critical, RFC 5280 §4.2.1.5): each issuer-domain policy is considered equivalent to the
 * subject-domain policy. This is how the bridge CAs connect the JPKI, bridge and GPKI policy spaces.
 */
export function policyMappings(mappings: readonly { issuerDomainPolicy: string; subjectDomainPolicy: string }[]): Buffer {
  return extension(
    OID_EXT_POLICY_MAPPINGS,
    true,
    sequence(...mappings.map((m) => sequence(oid(m.issuerDomainPolicy), oid(m.subjectDomainPolicy)))),
  );
}

/** subjectAltName from a ready GeneralNames DER (e.g. the resident's facts). */
export function subjectAltName(generalNames: Uint8Array, critical = false): Buffer {
  return extension(OID_EXT_SUBJECT_ALT_NAME, critical, generalNames);
}

/** issuerAltName holding one directoryName (the profile: C=JP, O=公的個人認証サービス, …). */
export function issuerAltName(nameDer: Uint8Array): Buffer {
  return extension(OID_EXT_ISSUER_ALT_NAME, false, sequence(generalName({ directoryName: nameDer })));
}

/** extendedKeyUsage with the given purposes. */
export function extendedKeyUsage(purposes: readonly string[], critical = false): Buffer {
  return extension(OID_EXT_EXTENDED_KEY_USAGE, critical, sequence(...purposes.map((p) => oid(p))));
}

/** id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): the delegated responder's certificate is not itself checked. */
export function ocspNoCheck(): Buffer {
  return extension(OID_PKIX_OCSP_NOCHECK, false, NULL);
}
