/**
 * The one error base of the project. Every module throws a JpkiError (or a subclass named for the module:
 * CaError, CardError, CounterError…) with a stable `code` and a coarse `kind`, the way Boulder's berrors do.
 * Each boundary translates kinds once: HTTP status in server/errors.ts, exit codes in cli/exit.ts.
 */
export type ErrorKind =
  | 'malformed' // the input is not what the interface accepts (bad DER, bad field, bad option)
  | 'unauthenticated' // who is asking is not established (no session, wrong password)
  | 'forbidden' // the actor is known but may not do this (another municipality)
  | 'not-found' // the thing named does not exist
  | 'conflict' // the state forbids it (already revoked, already initialised)
  | 'locked' // too many failures (PIN, login)
  | 'unavailable' // a system part is missing or down (database, HSM, card reader)
  | 'internal'; // a bug or an unexpected failure; details are never shown to users

export class JpkiError extends Error {
  constructor(
    readonly code: string,
    readonly kind: ErrorKind,
    message: string,
    /** Values for the message templates of the translations (counter UI), and for machine readers. */
    readonly params: Record<string, string | number> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export function isJpkiError(e: unknown): e is JpkiError {
  return e instanceof JpkiError;
}
