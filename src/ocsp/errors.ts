import { JpkiError, type ErrorKind } from '../common/errors.js';

/**
 * The failures an OCSP request can meet, each with the OCSPResponseStatus it is answered with
 * (RFC 6960 §4.2.1). The responder never lets anything else out: an unexpected failure is `internalError`.
 */
export type OcspErrorCode =
  /** The request is not a DER OCSPRequest we can read (bad framing, wrong tags, empty list, oversized nonce). */
  | 'OCSP_MALFORMED_REQUEST'
  /** The responder is not authoritative: an issuer that is not one of our CAs, or several issuers at once. */
  | 'OCSP_UNAUTHORIZED'
  /** The status cannot be given right now (database or key store unavailable). */
  | 'OCSP_TRY_LATER'
  | 'OCSP_INTERNAL';

const KIND: Record<OcspErrorCode, ErrorKind> = {
  OCSP_MALFORMED_REQUEST: 'malformed',
  OCSP_UNAUTHORIZED: 'forbidden',
  OCSP_TRY_LATER: 'unavailable',
  OCSP_INTERNAL: 'internal',
};

export class OcspError extends JpkiError {
  declare readonly code: OcspErrorCode;
  constructor(code: OcspErrorCode, message: string, params: Record<string, string | number> = {}, options?: { cause?: unknown }) {
    super(code, KIND[code], message, params, options);
  }
}

export function malformedRequest(message: string, cause?: unknown): OcspError {
  return new OcspError('OCSP_MALFORMED_REQUEST', `malformed OCSP request: ${message}`, {}, cause === undefined ? undefined : { cause });
}
