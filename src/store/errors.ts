import { JpkiError, type ErrorKind } from '../common/errors.js';

export class StoreError extends JpkiError {
  constructor(code: string, kind: ErrorKind, message: string, params: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(code, kind, message, params, options);
  }
}

/** True when `e` is a unique-constraint violation in either database. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}
