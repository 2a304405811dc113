import type { Clock } from '../common/clock.js';
import type { CertificationAuthorities } from '../ca/certification-authorities.js';
import { Agency, type AgencyApplicationStore, type SignatureVerification } from '../agency/index.js';
import type { Verifier } from '../verifier/index.js';
import { relyingPartyVerifier } from './verifier.js';

/**
 * The agency's wiring (composition root): its own table, and the relying party's verifier (compose/verifier.ts)
 * set up the way an agency in the government's PKI has it — the agency CA as the only trust anchor, the CA
 * certificates and every cross-certificate as the pool a path may go through, the GPKI signing policy
 * required (so a user-authentication certificate cannot sign an application), revocation from the OCSP
 * responders and CRLs the certificates name, over HTTP.
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

/**
 * One verifier per set of CAs and cross-certificates (its revocation cache lives as long as it does): a new one
 * only when a cross-certificate is added (a CA key rollover) — a revoked one stays in the pool and the ARL says so.
 */
export function agencyVerification(w: AgencyWiring): SignatureVerification {
  const source = { authorities: { list: () => w.authorities.list() }, certificates: { list: (f: { kind: 'cross' }) => w.authorities.certificates(f) } };
  let current: { key: string; verifier: Promise<Verifier> } | undefined;
  const verifier = async (): Promise<Verifier> => {
    const [authorities, crosses] = await Promise.all([w.authorities.list(), w.authorities.certificates({ kind: 'cross' })]);
    const key = `${authorities.map((a) => a.id).join(',')}|${crosses.map((c) => `${c.caId}:${c.serial}`).join(',')}`;
    if (current?.key !== key) current = { key, verifier: relyingPartyVerifier(source, { clock: w.clock, ...(w.timeoutMs ? { timeoutMs: w.timeoutMs } : {}) }) };
    return current.verifier;
  };
  return { verify: async (signature, content, at) => (await verifier()).verify({ signature, content, at }) };
}

export function createAgency(w: AgencyWiring): Agency {
  return new Agency({ applications: w.applications, verifier: agencyVerification(w), clock: w.clock });
}
