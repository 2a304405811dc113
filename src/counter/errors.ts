import { JpkiError, type ErrorKind } from '../common/errors.js';

/** The counter's stable error codes and their kinds; messages in every language are in messages.ts. */
const KIND = {
  /** The resident (or application, paper, device) belongs to another municipality than the operator's. */
  COUNTER_OUT_OF_SCOPE: 'forbidden',
  /** Only a supervisor may do this (operator management, register changes, everyone's ledger). */
  COUNTER_SUPERVISOR_ONLY: 'forbidden',
  /** Unknown operator, wrong password or an account in a lock-out (the three are not told apart). */
  COUNTER_LOGIN_FAILED: 'unauthenticated',
  /** No session, or it ended (logout, expiry, idle time-out). */
  COUNTER_SESSION_REQUIRED: 'unauthenticated',
  /** A state-changing request authenticated by the session cookie lacks the right X-CSRF-Token header. */
  COUNTER_CSRF_TOKEN_INVALID: 'forbidden',
  COUNTER_OPERATOR_EXISTS: 'conflict',
  COUNTER_OPERATOR_NOT_FOUND: 'not-found',
  COUNTER_OPERATOR_NOT_LOCKED: 'conflict',
  /** A supervisor locked the account already. */
  COUNTER_OPERATOR_ALREADY_LOCKED: 'conflict',
  /** A supervisor may not lock themselves, nor take their own supervisor role (someone must stay able to manage). */
  COUNTER_OPERATOR_SELF: 'conflict',
  COUNTER_PASSWORD_TOO_WEAK: 'malformed',
  /** A field of the request is missing or not acceptable; params.field names it, params.problem says how. */
  COUNTER_REQUEST_INVALID: 'malformed',
  COUNTER_IDEMPOTENCY_KEY_REQUIRED: 'malformed',
  /** The Idempotency-Key was already used for a different request. */
  COUNTER_IDEMPOTENCY_KEY_REUSED: 'conflict',
  /** A request with the same Idempotency-Key is still being processed. */
  COUNTER_SUBMISSION_IN_PROGRESS: 'conflict',
  COUNTER_APPLICATION_NOT_FOUND: 'not-found',
  /** The application is completed or cancelled. */
  COUNTER_APPLICATION_CLOSED: 'conflict',
  /** A wizard step out of order (params.step is where the application stands). */
  COUNTER_STEP_OUT_OF_ORDER: 'conflict',
  COUNTER_APPLICATION_NOT_COMPLETED: 'conflict',
  /** The application form does not match the register (params.field). */
  COUNTER_FORM_MISMATCH: 'malformed',
  COUNTER_FEE_INCORRECT: 'malformed',
  /** A PIN the profile allows but that is guessable from the date of birth or all one digit. */
  COUNTER_PIN_GUESSABLE: 'malformed',
  COUNTER_DEVICE_NOT_FOUND: 'not-found',
  COUNTER_DEVICE_URI_INVALID: 'malformed',
  /** Another card session is running for the same application. */
  COUNTER_DEVICE_BUSY: 'conflict',
  /** The device holds no card. */
  COUNTER_DEVICE_NO_CARD: 'unavailable',
  /** The card in the device holds live certificates of another resident. */
  COUNTER_CARD_OF_ANOTHER_RESIDENT: 'conflict',
  /** The card in the device holds no live certificate of this resident. */
  COUNTER_CARD_NOT_RESIDENTS: 'conflict',
  /** The card does not accept this installation's issuer key (made elsewhere), or its issuer interface is locked. */
  COUNTER_CARD_ISSUER_REFUSED: 'conflict',
  /** Wrong current PIN at a PIN change (params.triesLeft). */
  COUNTER_PIN_INCORRECT: 'conflict',
  /** The PIN is locked: a lock-release application is needed. */
  COUNTER_PIN_LOCKED: 'locked',
  /** A lock-release application for a PIN that is not locked (an initialisation is what is wanted). */
  COUNTER_PIN_NOT_LOCKED: 'conflict',
  /** Card writing failed after the certificates were signed: nothing was issued, stored or charged. */
  COUNTER_ISSUANCE_ABORTED: 'unavailable',
  COUNTER_NOTHING_TO_REVOKE: 'conflict',
  COUNTER_DOCUMENT_NOT_FOUND: 'not-found',
} as const satisfies Record<string, ErrorKind>;

export type CounterErrorCode = keyof typeof KIND;

export class CounterError extends JpkiError {
  declare readonly code: CounterErrorCode;
  constructor(code: CounterErrorCode, message: string, params: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(code, KIND[code], message, params, options);
  }
}

export const COUNTER_ERROR_CODES = Object.keys(KIND) as CounterErrorCode[];
