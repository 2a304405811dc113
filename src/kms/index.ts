/**
 * CA key custody, the step-ca way: one small KeyManager interface, back ends chosen by config and named by
 * key-URI scheme — `soft:` (software keys encrypted at rest, the default) and `pkcs11:` (any PKCS#11 token;
 * tested on SoftHSM2). A signer is the pki/ `Signer`: algorithm, SPKI public key, sign(data).
 * Extra abilities (describe, delete) are separate interfaces, found with the `has…` guards below.
 */
import type { KeySpec, SignatureAlgorithm, Signer } from '../pki/signer.js';
import { KmsError } from './errors.js';
import type { KeyPairsAhead } from './key-pairs-ahead.js';

export interface KeyManager {
  /** Creates a new key pair in this store. `label` is a stable human name (e.g. 'pref-13', 'jpki-bridge'); returns its URI and public key. */
  createKey(label: string, spec: KeySpec): Promise<{ uri: string; publicKey: Uint8Array /* SPKI DER */ }>;
  /** A signer for the key at `uri` (algorithm defaults to defaultSignatureAlgorithm of the key). */
  getSigner(uri: string, algorithm?: SignatureAlgorithm): Promise<Signer>;
  getPublicKey(uri: string): Promise<Uint8Array>;
  /** Releases sessions and cached keys; signers obtained from this manager fail with KMS_CLOSED afterwards. */
  close(): Promise<void>;
}

export interface KeyDescription {
  keyType: 'RSA' | 'EC';
  /** RSA modulus bits, or the EC curve's field bits. */
  bits: number;
  curve?: 'P-256' | 'P-384';
  /** CKA_EXTRACTABLE: whether the private key may leave the store (wrapped). Always true for software keys. */
  extractable: boolean;
  /** CKA_SENSITIVE: whether the private value is hidden from reads. Always false for software keys. */
  sensitive: boolean;
  /** CKA_NEVER_EXTRACTABLE: the key has never been extractable since it was created. */
  neverExtractable: boolean;
  /** CKA_ALWAYS_SENSITIVE: the key has been sensitive since it was created. */
  alwaysSensitive: boolean;
  /** CKA_TOKEN: the key lives on a token (hardware or SoftHSM), not in a file of ours. */
  onToken: boolean;
}

/** What the store itself reports about a key (for a PKCS#11 key, read from the token's attributes). */
export interface KeyAttributes {
  describeKey(uri: string): Promise<KeyDescription>;
}

export interface KeyDeleter {
  /** Destroys the key pair; a later getSigner for the URI fails with KMS_KEY_NOT_FOUND. */
  deleteKey(uri: string): Promise<void>;
}

/**
 * Secret (symmetric) keys that never leave the store, used for HMAC-SHA256 only: the card issuer's master
 * key lives here (docs/kms.md). Software store: sealed like the private keys; PKCS#11: a CKK_GENERIC_SECRET
 * object, sensitive and not extractable, and the HMAC is computed on the token (CKM_SHA256_HMAC).
 */
export interface SecretKeys {
  /** The URI of the secret labelled `label`, or undefined when the store holds none. */
  findSecret(label: string): Promise<string | undefined>;
  /**
   * Creates a 32-byte secret labelled `label`: random, or `value` when given (importing a secret that an older
   * installation kept elsewhere, once). Returns its URI; the value itself is never returned.
   */
  createSecret(label: string, value?: Uint8Array): Promise<string>;
  /** HMAC-SHA256(secret, data), computed inside the store. */
  hmacSha256(uri: string, data: Uint8Array): Promise<Buffer>;
}

export function hasSecretKeys(km: KeyManager): km is KeyManager & SecretKeys {
  return typeof (km as Partial<SecretKeys>).hmacSha256 === 'function';
}

export function hasKeyAttributes(km: KeyManager): km is KeyManager & KeyAttributes {
  return typeof (km as Partial<KeyAttributes>).describeKey === 'function';
}

export function hasKeyDeleter(km: KeyManager): km is KeyManager & KeyDeleter {
  return typeof (km as Partial<KeyDeleter>).deleteKey === 'function';
}

export type KmsConfig =
  | {
      type: 'soft';
      dir: string;
      /** Default: env JPKI_KEY_PASSPHRASE, else a generated passphrase file <dir>/passphrase, mode 0600. */
      passphrase?: string;
    }
  | {
      type: 'pkcs11';
      /** Path of the PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so. */
      module: string;
      /** Token label (slot ids change when tokens are added, labels do not). */
      token: string;
      /** User PIN. */
      pin: string;
      /** Sessions kept open for concurrent signing (default 4). */
      sessions?: number;
    };

/** Back ends register by config type, which is also the key-URI scheme they own. Loaded lazily: `soft` never loads the PKCS#11 addon. */
const BACKENDS: { [T in KmsConfig['type']]: (config: Extract<KmsConfig, { type: T }>, ahead?: KeyPairsAhead) => Promise<KeyManager> } = {
  soft: async (config, ahead) => (await import('./soft.js')).openSoftKeyManager(config, ahead),
  pkcs11: async (config) => (await loadPkcs11()).openPkcs11KeyManager(config),
};

/** Like step-ca's no-cgo stub: a missing or unbuilt pkcs11js addon becomes one clear sentence, not a loader trace. */
async function loadPkcs11(): Promise<typeof import('./pkcs11.js')> {
  try {
    return await import('./pkcs11.js');
  } catch (e) {
    throw new KmsError('KMS_PKCS11_MODULE_MISSING', 'unavailable', `the pkcs11js addon cannot be loaded (${(e as Error).message}); run npm rebuild pkcs11js`, {}, { cause: e });
  }
}

/** Initialises a new token on a PKCS#11 module (`jpki init --pkcs11-init-token`); see pkcs11-session.ts. */
export async function initPkcs11Token(options: import('./pkcs11-session.js').TokenInitOptions): Promise<void> {
  await loadPkcs11(); // the addon, with its clear error when it is missing
  return (await import('./pkcs11-session.js')).initPkcs11Token(options);
}

/** `ahead`: key pairs already being generated for keys about to be created; only the software store uses them (a token generates its own). */
export async function openKeyManager(config: KmsConfig, ahead?: KeyPairsAhead): Promise<KeyManager> {
  switch (config?.type) {
    case 'soft':
      return BACKENDS.soft(config, ahead);
    case 'pkcs11':
      return BACKENDS.pkcs11(config);
    default:
      throw new KmsError('KMS_CONFIG_INVALID', 'malformed', `unknown key store type ${JSON.stringify((config as { type?: unknown })?.type)}; use soft or pkcs11`);
  }
}

export { KmsError, isKmsError, type KmsErrorCode } from './errors.js';
export { keyUriScheme, formatPkcs11Uri, parsePkcs11Uri, formatSoftUri, parseSoftUri, type Pkcs11Uri, type KeyUriScheme } from './uri.js';
