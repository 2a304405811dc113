import { OcspError } from './errors.js';
import type { IssuerIndex } from './issuers.js';
import type { ResponseSource } from './source.js';

/**
 * Answers only for our CAs (Boulder's filter_source.go): a CertID whose issuer hashes name no CA of this
 * installation — or use a hash algorithm we do not compute — is `unauthorized` (RFC 6960 §2.3), before any
 * storage or signing work is done.
 */
export function filterIssuers(inner: ResponseSource, issuers: IssuerIndex): ResponseSource {
  return {
    async answer(request) {
      for (const c of request.certIds)
        if (!(await issuers.resolve(c))) throw new OcspError('OCSP_UNAUTHORIZED', 'the request names an issuer this responder does not serve');
      return inner.answer(request);
    },
  };
}
