/**
 * Where everything a CA publishes lives under the service's public base URL (`--public-url`, env
 * JPKI_PUBLIC_URL). Certificates carry these URLs, and server/ serves exactly these paths.
 */
export const DEFAULT_PUBLIC_URL = 'http://127.0.0.1:8080';

export interface PublicationUrls {
  /** The CA's self-signed certificate (DER). */
  caCertificate(caId: string): string;
  /** The CA's full CRL: every certificate it revoked. */
  fullCrl(caId: string): string;
  /** The CA's ARL: the CA certificates (cross-certificates) it revoked. */
  arl(caId: string): string;
  /** The partition CRL of one municipality's residents. */
  partitionCrl(caId: string, municipality: string): string;
  /** The delta CRL on top of the full CRL. */
  deltaCrl(caId: string): string;
  /** The delta CRL on top of one municipality's partition CRL (same scope, so the same IDP). */
  partitionDeltaCrl(caId: string, municipality: string): string;
  /** The OCSP responder. */
  ocsp(): string;
}

export function publicationUrls(publicUrl: string = DEFAULT_PUBLIC_URL): PublicationUrls {
  const base = publicUrl.replace(/\/+$/, '');
  return {
    caCertificate: (id) => `${base}/ca/${id}.cer`,
    fullCrl: (id) => `${base}/crl/${id}.crl`,
    arl: (id) => `${base}/arl/${id}.crl`,
    partitionCrl: (id, m) => `${base}/crl/${id}/${m}.crl`,
    deltaCrl: (id) => `${base}/crl/${id}/delta.crl`,
    partitionDeltaCrl: (id, m) => `${base}/crl/${id}/${m}/delta.crl`,
    ocsp: () => `${base}/ocsp`,
  };
}
