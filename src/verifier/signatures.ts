import { constants, verify, type KeyObject } from 'node:crypto';
import { RsaSaPssParams } from '@peculiar/asn1-rsa';
import { AsnConvert } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier } from '@peculiar/asn1-x509';

/**
 * Signature checks for everything the verifier meets: RSA PKCS#1 v1.5 (SHA-1/224/256/384/512, MD5 only for
 * old test data), RSA-PSS (RFC 4055 parameters), ECDSA and DSA. node:crypto does the mathematics.
 * Returns false for a wrong signature, a key that does not fit the algorithm, or an algorithm we do not know.
 */

const RSA_PKCS1: Record<string, string> = {
  '1.2.840.113549.1.1.4': 'md5',
  '1.2.840.113549.1.1.5': 'sha1',
  '1.2.840.113549.1.1.14': 'sha224',
  '1.2.840.113549.1.1.11': 'sha256',
  '1.2.840.113549.1.1.12': 'sha384',
  '1.2.840.113549.1.1.13': 'sha512',
};
const ECDSA: Record<string, string> = {
  '1.2.840.10045.4.1': 'sha1',
  '1.2.840.10045.4.3.1': 'sha224',
  '1.2.840.10045.4.3.2': 'sha256',
  '1.2.840.10045.4.3.3': 'sha384',
  '1.2.840.10045.4.3.4': 'sha512',
};
const DSA: Record<string, string> = {
  '1.2.840.10040.4.3': 'sha1',
  '2.16.840.1.101.3.4.3.1': 'sha224',
  '2.16.840.1.101.3.4.3.2': 'sha256',
};
const HASH_OIDS: Record<string, string> = {
  '1.3.14.3.2.26': 'sha1',
  '2.16.840.1.101.3.4.2.4': 'sha224',
  '2.16.840.1.101.3.4.2.1': 'sha256',
  '2.16.840.1.101.3.4.2.2': 'sha384',
  '2.16.840.1.101.3.4.2.3': 'sha512',
};
export const OID_RSA_ENCRYPTION = '1.2.840.113549.1.1.1';
export const OID_RSA_PSS = '1.2.840.113549.1.1.10';


export function hashName(digestOid: string): string | undefined {
  return HASH_OIDS[digestOid];
}

/** A readable algorithm name for reports. */
export function algorithmName(alg: AlgorithmIdentifier, digestOid?: string): string {
  const o = alg.algorithm;
  if (RSA_PKCS1[o]) return `RSA-PKCS1-v1_5/${RSA_PKCS1[o]!.toUpperCase()}`;
  if (o === OID_RSA_ENCRYPTION) return `RSA-PKCS1-v1_5/${(digestOid && HASH_OIDS[digestOid]?.toUpperCase()) ?? '?'}`;
  if (o === OID_RSA_PSS) return `RSA-PSS/${pssParams(alg)?.hash.toUpperCase() ?? '?'}`;
  if (ECDSA[o]) return `ECDSA/${ECDSA[o]!.toUpperCase()}`;
  if (DSA[o]) return `DSA/${DSA[o]!.toUpperCase()}`;
  return o;
}

function pssParams(alg: AlgorithmIdentifier): { hash: string; saltLength: number } | undefined {
  let hash = 'sha1';
  let saltLength = 20;
  if (alg.parameters && alg.parameters.byteLength > 2) {
    // RFC 4055 §3.1 RSASSA-PSS-params; absent fields take their DEFAULTs (SHA-1, MGF1-SHA-1, 20, 1)
    const p = AsnConvert.parse(alg.parameters, RsaSaPssParams);
    const h = p.hashAlgorithm ? HASH_OIDS[p.hashAlgorithm.algorithm] : 'sha1';
    if (!h) return undefined;
    const mgfHash = p.maskGenAlgorithm?.parameters ? AsnConvert.parse(p.maskGenAlgorithm.parameters, AlgorithmIdentifier) : undefined;
    if ((mgfHash ? HASH_OIDS[mgfHash.algorithm] : 'sha1') !== h) return undefined; // MGF1's hash must be the hash (node:crypto uses one)
    if (p.trailerField !== undefined && p.trailerField !== 1) return undefined;
    hash = h;
    saltLength = p.saltLength ?? 20;
  }
  return { hash, saltLength };
}

/**
 * Checks `signature` over `data`. `digestOid` is the CMS digest algorithm when `alg` is plain rsaEncryption
 * (or ecPublicKey) as CMS signers often write.
 */
export function verifySignatureWith(alg: AlgorithmIdentifier, data: Uint8Array, signature: Uint8Array, key: KeyObject, digestOid?: string): boolean {
  try {
    const o = alg.algorithm;
    const type = key.asymmetricKeyType;
    if (RSA_PKCS1[o] || o === OID_RSA_ENCRYPTION) {
      const hash = RSA_PKCS1[o] ?? (digestOid ? HASH_OIDS[digestOid] : undefined);
      if (!hash || type !== 'rsa') return false;
      return verify(hash, data, { key, padding: constants.RSA_PKCS1_PADDING }, signature);
    }
    if (o === OID_RSA_PSS) {
      const p = pssParams(alg);
      if (!p || (type !== 'rsa' && type !== 'rsa-pss')) return false;
      return verify(p.hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: p.saltLength }, signature);
    }
    if (ECDSA[o] || o === '1.2.840.10045.2.1') {
      const hash = ECDSA[o] ?? (digestOid ? HASH_OIDS[digestOid] : undefined);
      if (!hash || type !== 'ec') return false;
      return verify(hash, data, key, signature);
    }
    if (DSA[o]) {
      if (type !== 'dsa') return false;
      return verify(DSA[o]!, data, key, signature);
    }
    return false;
  } catch {
    return false;
  }
}
