import { JpkiError, type ErrorKind } from '../common/errors.js';

export type RegisterErrorCode =
  /** No resident with that id (or record code). */
  | 'RESIDENT_NOT_FOUND'
  /** A field of a resident or of a change is not acceptable; params.field names it. */
  | 'RESIDENT_INVALID'
  /** A municipality code not in the register's table. */
  | 'MUNICIPALITY_UNKNOWN'
  /** The address does not start with the municipality's prefecture and name. */
  | 'ADDRESS_OUTSIDE_MUNICIPALITY'
  /** The resident has died: the record takes no further change and no certificate. */
  | 'RESIDENT_DECEASED'
  /** The change would leave every recorded fact as it is. */
  | 'RESIDENT_UNCHANGED'
  /** Another change to the same resident was recorded first; read again and retry. */
  | 'RESIDENT_CHANGED_CONCURRENTLY'
  /** A resident-record code given explicitly is already used. */
  | 'RECORD_CODE_TAKEN'
  /** A line of an import file is not acceptable; params.line and params.field say where. */
  | 'REGISTER_IMPORT_INVALID';

const KIND: Record<RegisterErrorCode, ErrorKind> = {
  RESIDENT_NOT_FOUND: 'not-found',
  RESIDENT_INVALID: 'malformed',
  MUNICIPALITY_UNKNOWN: 'malformed',
  ADDRESS_OUTSIDE_MUNICIPALITY: 'malformed',
  RESIDENT_DECEASED: 'conflict',
  RESIDENT_UNCHANGED: 'conflict',
  RESIDENT_CHANGED_CONCURRENTLY: 'conflict',
  RECORD_CODE_TAKEN: 'conflict',
  REGISTER_IMPORT_INVALID: 'malformed',
};

/** The register's errors: a stable code, a coarse kind, an English message, parameters for translations. */
export class RegisterError extends JpkiError {
  declare readonly code: RegisterErrorCode;
  constructor(code: RegisterErrorCode, message: string, params: Record<string, string | number> = {}) {
    super(code, KIND[code], message, params);
  }
}
