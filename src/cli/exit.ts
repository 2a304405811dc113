import { isJpkiError, type ErrorKind } from '../common/errors.js';

/** Exit codes by error kind: the one place the CLI translates errors (sysexits-like numbers). */
const EXIT_CODES: Record<ErrorKind, number> = {
  malformed: 65, // EX_DATAERR
  unauthenticated: 77, // EX_NOPERM
  forbidden: 77,
  'not-found': 66, // EX_NOINPUT
  conflict: 75, // EX_TEMPFAIL-ish: the state forbids it
  locked: 77,
  unavailable: 69, // EX_UNAVAILABLE
  internal: 70, // EX_SOFTWARE
};

export const EXIT_USAGE = 64;

export function exitCodeFor(e: unknown): number {
  return isJpkiError(e) ? EXIT_CODES[e.kind] : EXIT_CODES.internal;
}

/** One line for the user: the error's message, never a stack trace (unless JPKI_DEBUG is set). */
export function describeError(e: unknown): string {
  if (isJpkiError(e)) return `${e.message} [${e.code}]`;
  if (process.env.JPKI_DEBUG) return e instanceof Error ? (e.stack ?? e.message) : String(e);
  return `internal error: ${e instanceof Error ? e.message : String(e)}`;
}
