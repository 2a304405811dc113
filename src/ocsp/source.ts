import type { OcspRequest } from './request.js';

/**
 * Where answers come from, the Boulder way (ocsp/responder/source.go): one small interface, implemented by
 * the storage of pre-signed responses and by live signing, and wrapped by small decorators — the issuer
 * filter, the freshness check, sign-on-miss. `undefined` means "not here": the next wrapper decides.
 */
export interface ResponseSource {
  answer(request: OcspRequest): Promise<OcspAnswer | undefined>;
}

/** A complete DER OCSPResponse, with what HTTP caches may know about it. */
export interface OcspAnswer {
  der: Buffer;
  /** Absent for answers no cache may keep (a nonce was echoed, several certificates, error statuses). */
  http?: HttpCaching;
}

/** RFC 5019 §6: the caching headers of a pre-signed response, computed once when it is stored. */
export interface HttpCaching {
  thisUpdate: number;
  nextUpdate: number;
  /** Strong validator: a digest of the response bytes, quoted. */
  etag: string;
  /** thisUpdate and nextUpdate as HTTP dates. */
  lastModified: string;
  expires: string;
}

/** True for requests a stored response can answer: one certificate, no nonce. */
export function isCacheable(request: OcspRequest): boolean {
  return request.certIds.length === 1 && request.nonce === undefined;
}
