import { MAX_CRL_BYTES, MAX_OCSP_RESPONSE_BYTES, readResponseBounded } from '../common/bounded-read.js';
import type { Clock } from '../common/clock.js';
import { JpkiError } from '../common/errors.js';
import { OID_GPKI_POLICY_SIGN } from '../pki/oids.js';
import type { AuthorityRecord, CertificateRecord } from '../store/index.js';
import { createVerifier, type RevocationFetcher, type Verifier } from '../verifier/index.js';

/**
 * The relying party's verifier, wired (composition root): the trust anchor (the agency CA by default, or a
 * certificate the relying party names), the CA certificates and cross-certificates of the installation as
 * the pool a path may go through, and revocation over HTTP from the URLs the certificates carry.
 */

/** What the wiring reads: the CAs and their cross-certificates (the CA's read side, nothing else). */
export interface HierarchySource {
  authorities: { list(): Promise<AuthorityRecord[]> };
  certificates: { list(filter: { kind: 'cross' }): Promise<CertificateRecord[]> };
}

/** The verifier's network port over HTTP: GET for CRLs, POST for OCSP requests; no redirects; bounded answers. */
export const httpFetcher: RevocationFetcher = {
  async fetch(url, request) {
    const response = await fetch(url, {
      method: request.body ? 'POST' : 'GET',
      ...(request.body ? { body: new Uint8Array(request.body), headers: { 'content-type': request.contentType ?? 'application/ocsp-request' } } : {}),
      signal: request.signal,
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    return new Uint8Array(await readResponseBounded(response, request.body ? MAX_OCSP_RESPONSE_BYTES : MAX_CRL_BYTES));
  },
};

export interface RelyingPartyOptions {
  /** `agency` (default): the installation's agency CA. Otherwise the DER of the anchor certificate. */
  anchor?: 'agency' | Uint8Array;
  clock: Clock;
  /** Per revocation request, ms (default 5000). */
  timeoutMs?: number;
  fetcher?: RevocationFetcher;
}

export async function relyingPartyVerifier(source: HierarchySource, o: RelyingPartyOptions): Promise<Verifier> {
  const [authorities, crosses] = await Promise.all([source.authorities.list(), source.certificates.list({ kind: 'cross' })]);
  let anchors: Uint8Array[];
  if (o.anchor === undefined || o.anchor === 'agency') {
    anchors = authorities.filter((a) => a.kind === 'agency').map((a) => a.certificate);
    if (anchors.length === 0) throw new JpkiError('CA_NOT_INITIALIZED', 'not-found', 'this installation has no agency CA to trust: run `jpki init` first, or give --anchor CERT.pem');
  } else anchors = [o.anchor];
  return createVerifier({
    anchors,
    intermediates: [...authorities.map((a) => a.certificate), ...crosses.map((c) => c.der)],
    revocation: { fetcher: o.fetcher ?? httpFetcher, timeoutMs: o.timeoutMs ?? 5000, mode: 'require' },
    // From the agency CA a signature must carry the government's signing policy (mapped through the bridges
    // onto the JPKI signing policy), so an authentication certificate cannot sign an application.
    policy: o.anchor === undefined || o.anchor === 'agency' ? { initialPolicySet: [OID_GPKI_POLICY_SIGN], initialExplicitPolicy: true } : {},
    clock: o.clock,
  });
}
