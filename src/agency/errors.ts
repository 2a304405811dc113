import { JpkiError, type ErrorKind } from '../common/errors.js';

/** The agency site's errors (AGENCY_*): a bad request, an unknown application, a replayed document. */
export class AgencyError extends JpkiError {
  constructor(code: string, kind: ErrorKind, message: string, params: Record<string, string | number> = {}) {
    super(code, kind, message, params);
  }
}
