import type { Clock } from '../common/clock.js';
import type { CertificationAuthorities } from '../ca/certification-authorities.js';
import { Agency, type AgencyApplicationStore, type SignatureVerification } from '../agency/index.js';
import { OID_GPKI_POLICY_SIGN } from '../pki/oids.js';
import { createVerifier, type RevocationFetcher, type Verifier } from '../verifier/index.js';

/**
 * The agency's wiring (composition root): its own table, and a verifier set up the way a relying party in the
 * government's PKI would — the agency CA as the only trust anchor, the bridges' cross-certificates as the
 * pool a path may go through, the GPKI signing policy required (so a user-authentication certificate cannot
 * sign an application), revocation from the OCSP responders and CRLs the certificates name, over HTTP.
 */
export interface AgencyWiring {
  applications: AgencyApplicationStore;
  authorities: Pick<CertificationAuthorities, 'list' | 'certificates'>;
  clock: Clock;
  /** Per revocation request (default 5 s). */
  timeoutMs?: number;
}

/** The sample site's staff password when JPKI_AGENCY_STAFF_PASSWORD is not set (a demo, like the counter's). */
export const DEMO_AGENCY_STAFF_PASSWORD = 'demo-agency-2004';

/** The verifier's network port: plain HTTP GET (CRLs, OCSP GET) and POST (OCSP requests). */
export const httpRevocationFetcher: RevocationFetcher = {
  async fetch(url, request) {
    const response = await fetch(url, {
      method: request.body ? 'POST' : 'GET',
      ...(request.body ? { body: Buffer.from(request.body), headers: { 'content-type': request.contentType ?? 'application/ocsp-request' } } : {}),
      signal: request.signal,
      redirect: 'error',
    });
    if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
    return new Uint8Array(await response.arrayBuffer());
  },
};

/**
 * One verifier per set of cross-certificates (its revocation cache lives as long as it does): a new one only
 * when a cross-certificate is added (a CA key rollover) — a revoked one stays in the pool and the ARL says so.
 */
export function agencyVerification(w: AgencyWiring): SignatureVerification {
  let current: { key: string; verifier: Verifier } | undefined;
  const verifier = async (): Promise<Verifier> => {
    const [authorities, crosses] = await Promise.all([w.authorities.list(), w.authorities.certificates({ kind: 'cross' })]);
    const anchors = authorities.filter((a) => a.kind === 'agency').map((a) => a.certificate);
    const pool = [...authorities.filter((a) => a.kind !== 'agency').map((a) => a.certificate), ...crosses.map((c) => c.der)];
    const key = `${authorities.map((a) => a.id).join(',')}|${crosses.map((c) => `${c.caId}:${c.serial}`).join(',')}`;
    if (current?.key !== key) {
      current = {
        key,
        verifier: createVerifier({
          anchors,
          intermediates: pool,
          revocation: { fetcher: httpRevocationFetcher, timeoutMs: w.timeoutMs ?? 5000, mode: 'require' },
          policy: { initialPolicySet: [OID_GPKI_POLICY_SIGN], initialExplicitPolicy: true },
          clock: w.clock,
        }),
      };
    }
    return current.verifier;
  };
  return { verify: async (signature, content, at) => (await verifier()).verify({ signature, content, at }) };
}

export function createAgency(w: AgencyWiring): Agency {
  return new Agency({ applications: w.applications, verifier: agencyVerification(w), clock: w.clock });
}
