import { JpkiError, type ErrorKind } from '../common/errors.js';

/**
 * Every failure of the key store is a KmsError with a stable code. Token (PKCS#11) return values are
 * translated once, in pkcs11-session.ts; callers never see a raw CKR_* error.
 */
export type KmsErrorCode =
  | 'KMS_CONFIG_INVALID' // the KmsConfig is incomplete or contradictory
  | 'KMS_LABEL_INVALID' // a key label outside [A-Za-z0-9._-], or too long
  | 'KMS_URI_INVALID' // a key URI we cannot parse
  | 'KMS_URI_SCHEME_MISMATCH' // a soft: URI given to the PKCS#11 store, or the reverse
  | 'KMS_WRONG_TOKEN' // a pkcs11: URI naming another token than the one this store opened
  | 'KMS_KEY_NOT_FOUND'
  | 'KMS_KEY_EXISTS' // createKey with a label already in use
  | 'KMS_KEY_AMBIGUOUS' // several token objects match one URI
  | 'KMS_KEY_SPEC_UNSUPPORTED'
  | 'KMS_ALGORITHM_MISMATCH' // e.g. an ECDSA signer asked for an RSA key
  | 'KMS_KEY_PASSPHRASE_WRONG' // the passphrase does not decrypt a software key
  | 'KMS_KEY_FILE_CORRUPT' // a software key file that is not ours, or was altered
  | 'KMS_PASSPHRASE_FILE_INSECURE' // <dir>/passphrase readable by group or others
  | 'KMS_PKCS11_MODULE_MISSING' // the PKCS#11 module file is absent or not loadable
  | 'KMS_TOKEN_NOT_FOUND' // no token with that label
  | 'KMS_TOKEN_AMBIGUOUS' // several tokens share the label
  | 'KMS_TOKEN_EXISTS' // initialising a token with a label already in use
  | 'KMS_NO_FREE_SLOT' // no slot with an uninitialised token to initialise
  | 'KMS_PIN_INCORRECT'
  | 'KMS_PIN_LOCKED'
  | 'KMS_MECHANISM_UNSUPPORTED' // the token lacks a mechanism we need
  | 'KMS_TOKEN_ERROR' // any other token failure (message names the CKR_* value and the call)
  | 'KMS_CLOSED' // the key manager (or the signer's manager) has been closed
  | 'KMS_INTERNAL';

export class KmsError extends JpkiError {
  declare readonly code: KmsErrorCode;
  constructor(
    code: KmsErrorCode,
    kind: ErrorKind,
    message: string,
    params: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(code, kind, message, params, options);
  }
}

export function isKmsError(e: unknown, code?: KmsErrorCode): e is KmsError {
  return e instanceof KmsError && (code === undefined || e.code === code);
}

export function closedError(): KmsError {
  return new KmsError('KMS_CLOSED', 'unavailable', 'the key manager has been closed');
}
