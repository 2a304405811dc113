import { isJpkiError, JpkiError, type ErrorKind } from '../common/errors.js';

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
  if (isJpkiError(e)) return `${oneLine(e.message)} [${e.code}]`;
  if (process.env.JPKI_DEBUG) return e instanceof Error ? (e.stack ?? e.message) : String(e);
  return `internal error: ${oneLine(e instanceof Error ? e.message : String(e))}`;
}

/** An error is one line: a control character in it (a file name with a newline, say) is shown escaped. */
export function oneLine(text: string): string {
  const named: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };
  return text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => named[c] ?? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** What a file-system error on a path the user named says, by errno. */
const FILE_PROBLEMS: Record<string, [ErrorKind, string]> = {
  ENOENT: ['not-found', 'does not exist (or its folder does not)'],
  ENOTDIR: ['not-found', 'has a part that is not a folder'],
  EEXIST: ['conflict', 'already exists'],
  EISDIR: ['malformed', 'is a folder'],
  ENOTEMPTY: ['conflict', 'is a folder that is not empty'],
  EACCES: ['forbidden', 'is not accessible (permissions)'],
  EPERM: ['forbidden', 'is not accessible (permissions)'],
  EROFS: ['unavailable', 'is on a read-only file system'],
  ENOSPC: ['unavailable', 'cannot be written: the disk is full'],
  ENAMETOOLONG: ['malformed', 'is too long a name'],
};

/**
 * A Node file-system error about a path (a command's --out into a missing folder, an export onto a file —
 * found by fuzzing, they were "internal error") becomes a precise error naming the path.
 */
export function asCliError(e: unknown): unknown {
  const err = e as NodeJS.ErrnoException;
  const problem = !isJpkiError(e) && err instanceof Error && typeof err.path === 'string' && err.code ? FILE_PROBLEMS[err.code] : undefined;
  if (!problem) return e;
  return new JpkiError('FILE_UNUSABLE', problem[0], `${err.path} ${problem[1]} (${err.syscall ?? 'file'}: ${err.code})`, { path: err.path!, errno: err.code! }, { cause: e });
}
