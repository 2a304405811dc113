import { createHash, verify, type KeyObject } from 'node:crypto';
import { sequence, oid, NULL, bitString, readSingle, childList, bytesOf, readOid, contentOf, TAG, DerError } from './der.js';
import {
  OID_SHA256_WITH_RSA,
  OID_SHA384_WITH_RSA,
  OID_SHA512_WITH_RSA,
  OID_ECDSA_WITH_SHA256,
  OID_ECDSA_WITH_SHA384,
} from './oids.js';
import { digestOf, type Signer, type SignatureAlgorithm } from './signer.js';
import { PkiError } from './errors.js';

const ALGORITHM_OIDS: Record<SignatureAlgorithm, string> = {
  'RSA-SHA256': OID_SHA256_WITH_RSA,
  'RSA-SHA384': OID_SHA384_WITH_RSA,
  'RSA-SHA512': OID_SHA512_WITH_RSA,
  'ECDSA-SHA256': OID_ECDSA_WITH_SHA256,
  'ECDSA-SHA384': OID_ECDSA_WITH_SHA384,
};

const algorithmIdentifiers = new Map<SignatureAlgorithm, Buffer>();

/**
 * The signature AlgorithmIdentifier DER. RSA PKCS#1 v1.5 carries an explicit NULL parameter; ECDSA carries
 * none (RFC 4055 §5, RFC 5758 §3.2).
 */
export function algorithmIdentifier(alg: SignatureAlgorithm): Buffer {
  let enc = algorithmIdentifiers.get(alg);
  if (!enc) {
    const id = oid(ALGORITHM_OIDS[alg]);
    enc = alg.startsWith('RSA') ? sequence(id, NULL) : sequence(id);
    algorithmIdentifiers.set(alg, enc);
  }
  return enc;
}

/** The SignatureAlgorithm for a signature-algorithm OID, or undefined when we do not support it. */
export function signatureAlgorithmOf(dotted: string): SignatureAlgorithm | undefined {
  for (const [alg, o] of Object.entries(ALGORITHM_OIDS)) if (o === dotted) return alg as SignatureAlgorithm;
  return undefined;
}

/**
 * SIGNED{ToBeSigned} (X.509 certificates, CRLs, OCSP basic responses, PKCS#10):
 * SEQUENCE { tbs, signatureAlgorithm, BIT STRING signature }.
 */
export async function signTbs(tbs: Uint8Array, signer: Signer): Promise<Buffer> {
  return assembleSigned(tbs, signer.algorithm, await signer.sign(tbs));
}

/** SIGNED{ToBeSigned} from its parts (when the caller keeps the signature, e.g. for the audit log). */
export function assembleSigned(tbs: Uint8Array, algorithm: SignatureAlgorithm, signature: Uint8Array): Buffer {
  return sequence(tbs, algorithmIdentifier(algorithm), bitString(signature));
}

/** The three parts of a SIGNED{…} structure, as views into `der`. */
export interface SignedParts {
  tbs: Uint8Array;
  algorithmOid: string;
  signature: Uint8Array;
}

export function splitSigned(der: Uint8Array): SignedParts {
  const outer = readSingle(der);
  if (outer.tag !== TAG.SEQUENCE) throw new DerError('expected a SEQUENCE', 0);
  const parts = childList(der, outer);
  const [tbs, alg, sig] = parts;
  if (parts.length !== 3 || !tbs || !alg || !sig || tbs.tag !== TAG.SEQUENCE || alg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING)
    throw new DerError('not a signed structure (tbs, algorithm, signature)', 0);
  const algOid = childList(der, alg)[0];
  if (!algOid) throw new DerError('empty AlgorithmIdentifier', alg.start);
  const bits = contentOf(der, sig);
  if (bits.length === 0) throw new DerError('empty BIT STRING', sig.start);
  if (bits[0] !== 0) throw new DerError('signature BIT STRING has unused bits', sig.start);
  return { tbs: bytesOf(der, tbs), algorithmOid: readOid(der, algOid), signature: bits.subarray(1) };
}

/** Certificate fingerprint as the portal and the usage guide print it: upper-case hex, colon-separated. */
export function fingerprint(der: Uint8Array, hash: 'sha1' | 'sha256'): string {
  return createHash(hash)
    .update(der)
    .digest('hex')
    .toUpperCase()
    .replace(/(..)(?!$)/g, '$1:');
}

/**
 * Verifies `signature` over `data` with node:crypto for the signature algorithms we accept (signer.ts):
 * RSA PKCS#1 v1.5 with SHA-256/384/512, ECDSA with SHA-256/384 (DER Ecdsa-Sig-Value). Returns false when the
 * signature is wrong or the key's type does not fit the algorithm; throws PkiError
 * SIGNATURE_ALGORITHM_UNSUPPORTED for any other algorithm (RSA-PSS, SHA-1, …).
 */
export function verifySignature(algorithmOid: string, data: Uint8Array, signature: Uint8Array, publicKey: KeyObject): boolean {
  const digest = verificationDigest(algorithmOid, publicKey);
  if (!digest) return false;
  try {
    return verify(digest, data, publicKey, signature);
  } catch {
    return false; // e.g. an ECDSA signature that is not a DER Ecdsa-Sig-Value
  }
}

/** The digest to verify with, or undefined when the key's type does not fit the algorithm. */
function verificationDigest(algorithmOid: string, publicKey: KeyObject): string | undefined {
  const alg = signatureAlgorithmOf(algorithmOid);
  if (!alg) {
    const name = UNSUPPORTED_NAMES[algorithmOid];
    throw new PkiError(
      'SIGNATURE_ALGORITHM_UNSUPPORTED',
      `${name ?? `signature algorithm ${algorithmOid}`} is not supported: use sha256WithRSAEncryption (or SHA-384/512) or ecdsa-with-SHA256/384`,
      { algorithm: algorithmOid },
    );
  }
  const keyType = publicKey.asymmetricKeyType;
  if (alg.startsWith('RSA') ? keyType !== 'rsa' : keyType !== 'ec') return undefined;
  return digestOf(alg);
}

const UNSUPPORTED_NAMES: Record<string, string> = {
  '1.2.840.113549.1.1.10': 'RSA-PSS',
  '1.2.840.113549.1.1.5': 'sha1WithRSAEncryption (SHA-1)',
  '1.2.840.113549.1.1.4': 'md5WithRSAEncryption (MD5)',
  '1.2.840.10045.4.1': 'ecdsa-with-SHA1 (SHA-1)',
  '1.2.840.10045.4.3.4': 'ecdsa-with-SHA512',
  '1.3.101.112': 'Ed25519',
  '1.3.101.113': 'Ed448',
};
