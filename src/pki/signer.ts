/**
 * What signs: a CA key in the key store (kms/), an HSM, a card. pki/ only ever sees this interface, so the
 * same builders serve software keys, PKCS#11 tokens and (later) the resident's card.
 */
export type SignatureAlgorithm = 'RSA-SHA256' | 'RSA-SHA384' | 'RSA-SHA512' | 'ECDSA-SHA256' | 'ECDSA-SHA384';

export interface Signer {
  /** The signature algorithm this signer produces (fixed per key). */
  readonly algorithm: SignatureAlgorithm;
  /** The signer's public key as DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array;
  /**
   * Sign `data` (the whole to-be-signed DER; the signer hashes it). RSA: PKCS#1 v1.5. ECDSA: the DER
   * Ecdsa-Sig-Value, as X.509 and CMS carry it.
   */
  sign(data: Uint8Array): Promise<Uint8Array>;
}

export type KeySpec = { type: 'RSA'; bits: 2048 | 3072 | 4096 } | { type: 'EC'; curve: 'P-256' | 'P-384' };

export const DEFAULT_KEY_SPEC: KeySpec = { type: 'RSA', bits: 2048 };

/** The signature algorithm a CA with this key uses by default (SHA-256 for RSA and P-256, SHA-384 for P-384). */
export function defaultSignatureAlgorithm(spec: KeySpec): SignatureAlgorithm {
  if (spec.type === 'RSA') return 'RSA-SHA256';
  return spec.curve === 'P-384' ? 'ECDSA-SHA384' : 'ECDSA-SHA256';
}

/** node:crypto digest name for a signature algorithm. */
export function digestOf(alg: SignatureAlgorithm): 'sha256' | 'sha384' | 'sha512' {
  return alg.endsWith('SHA512') ? 'sha512' : alg.endsWith('SHA384') ? 'sha384' : 'sha256';
}

/** Parse a key spec as the CLI writes it: rsa2048, rsa3072, rsa4096, p256, p384. */
export function parseKeySpec(text: string): KeySpec | undefined {
  switch (text.toLowerCase().replace(/[-_]/g, '')) {
    case 'rsa2048':
      return { type: 'RSA', bits: 2048 };
    case 'rsa3072':
      return { type: 'RSA', bits: 3072 };
    case 'rsa4096':
      return { type: 'RSA', bits: 4096 };
    case 'p256':
    case 'ecp256':
      return { type: 'EC', curve: 'P-256' };
    case 'p384':
    case 'ecp384':
      return { type: 'EC', curve: 'P-384' };
    default:
      return undefined;
  }
}
