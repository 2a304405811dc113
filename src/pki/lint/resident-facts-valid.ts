import { findExtension } from '../certificate-reader.js';
import { OID_EXT_SUBJECT_ALT_NAME } from '../oids.js';
import { residentFactsProblems } from '../resident-facts.js';
import { sanFacts } from './san-facts.js';
import type { Lint } from './types.js';

/**
 * The facts as they will be signed satisfy the register's own rules (issue 10, hole 5): no replacement or
 * bidirectional control characters, a date of birth from Meiji to today, an address in the issuing
 * governor's prefecture beginning with a municipality the register knows. The same function the register
 * uses (pki/resident-facts.ts), run on what the TBS carries.
 */
export const residentFactsValid: Lint = {
  id: 'resident-facts-valid',
  citation: 'jpki-profile.md §1.1 (the basic four facts as the resident register records them); issue 10 hole 5',
  check: (c, ctx) => {
    if (ctx.kind !== 'sign') return undefined;
    const san = findExtension(c, OID_EXT_SUBJECT_ALT_NAME);
    if (!san) return undefined; // resident-facts-match-kind reports it
    const facts = sanFacts(san.value);
    if (facts instanceof Error) return undefined; // resident-facts-match-kind reports it
    const problems = residentFactsProblems(facts, ctx.residentFacts ?? {});
    return problems.length ? problems.map((p) => `${p.field}: ${p.message}`).join('; ') : undefined;
  },
};
