import { JpkiError, type ErrorKind } from '../common/errors.js';

export type CaErrorCode =
  | 'CA_NOT_INITIALIZED'
  | 'CA_UNKNOWN'
  | 'CA_NOT_READY'
  | 'PREFECTURE_UNKNOWN'
  | 'CERTIFICATE_NOT_FOUND'
  | 'CERTIFICATE_ALREADY_REVOKED'
  | 'SERIAL_INVALID'
  | 'SERIAL_AMBIGUOUS'
  | 'REVOCATION_REASON_UNKNOWN'
  | 'ISSUANCE_REQUEST_INVALID'
  | 'LINT_FAILED'
  | 'SERIAL_COLLISION'
  | 'CRL_SCOPE_UNKNOWN'
  | 'CRL_BASE_MISSING'
  | 'CRL_NOT_PUBLISHED'
  | 'CA_INIT_RACE'
  | 'RESERVATION_UNKNOWN'
  | 'RESERVATION_EXPIRED'
  | 'LEDGER_MISMATCH'
  | 'OUTPUT_UNWRITABLE';

const KIND: Record<CaErrorCode, ErrorKind> = {
  CA_NOT_INITIALIZED: 'conflict',
  CA_UNKNOWN: 'not-found',
  CA_NOT_READY: 'unavailable',
  PREFECTURE_UNKNOWN: 'malformed',
  CERTIFICATE_NOT_FOUND: 'not-found',
  CERTIFICATE_ALREADY_REVOKED: 'conflict',
  SERIAL_INVALID: 'malformed',
  SERIAL_AMBIGUOUS: 'conflict',
  REVOCATION_REASON_UNKNOWN: 'malformed',
  ISSUANCE_REQUEST_INVALID: 'malformed',
  LINT_FAILED: 'internal',
  SERIAL_COLLISION: 'internal',
  CRL_SCOPE_UNKNOWN: 'malformed',
  CRL_BASE_MISSING: 'conflict',
  CRL_NOT_PUBLISHED: 'not-found',
  CA_INIT_RACE: 'conflict',
  RESERVATION_UNKNOWN: 'conflict',
  RESERVATION_EXPIRED: 'conflict',
  LEDGER_MISMATCH: 'internal',
  OUTPUT_UNWRITABLE: 'unavailable',
};

export class CaError extends JpkiError {
  declare readonly code: CaErrorCode;
  constructor(code: CaErrorCode, message: string, params: Record<string, string | number> = {}) {
    super(code, KIND[code], message, params);
  }
}
