import { createHash } from 'node:crypto';
import { JpkiError } from '../common/errors.js';

/**
 * DigestInfo (RFC 8017 §9.2 note 1): the fixed DER prefix of each hash algorithm followed by the hash. This is
 * what COMPUTE DIGITAL SIGNATURE takes; the card adds the PKCS#1 v1.5 padding (card-protocol §3.5).
 */
const PREFIXES = {
  sha1: '3021300906052b0e03021a05000414',
  sha256: '3031300d060960864801650304020105000420',
  sha384: '3041300d060960864801650304020205000430',
  sha512: '3051300d060960864801650304020305000440',
} as const;

export type DigestAlgorithm = keyof typeof PREFIXES;

const LENGTHS: Record<DigestAlgorithm, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

export function digestInfo(algorithm: DigestAlgorithm, digest: Uint8Array): Buffer {
  if (digest.length !== LENGTHS[algorithm]) {
    throw new JpkiError('card.digest-length', 'malformed', `a ${algorithm} digest is ${LENGTHS[algorithm]} bytes, got ${digest.length}`);
  }
  return Buffer.concat([Buffer.from(PREFIXES[algorithm], 'hex'), digest]);
}

/** Hash `data` and wrap it: the input for `JpkiClient.sign` (matches CKM_SHA256_RSA_PKCS and friends). */
export function digestInfoOf(algorithm: DigestAlgorithm, data: Uint8Array): Buffer {
  return digestInfo(algorithm, createHash(algorithm).update(data).digest());
}
