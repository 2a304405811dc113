import { createHash } from 'node:crypto';
import { sequence, oid, NULL, bitString, readSingle, childList, bytesOf, readOid, contentOf, TAG, DerError } from './der.js';
import {
  OID_SHA256_WITH_RSA,
  OID_SHA384_WITH_RSA,
  OID_SHA512_WITH_RSA,
  OID_ECDSA_WITH_SHA256,
  OID_ECDSA_WITH_SHA384,
} from './oids.js';
import type { Signer, SignatureAlgorithm } from './signer.js';

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
  const signature = await signer.sign(tbs);
  return sequence(tbs, algorithmIdentifier(signer.algorithm), bitString(signature));
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
  const [tbs, alg, sig] = childList(der, outer);
  if (!tbs || !alg || !sig || tbs.tag !== TAG.SEQUENCE || alg.tag !== TAG.SEQUENCE || sig.tag !== TAG.BIT_STRING)
    throw new DerError('not a signed structure (tbs, algorithm, signature)', 0);
  const algOid = childList(der, alg)[0];
  if (!algOid) throw new DerError('empty AlgorithmIdentifier', alg.start);
  const bits = contentOf(der, sig);
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
