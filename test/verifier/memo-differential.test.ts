import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createVerifier, type PathReport, type VerifierConfig } from '../../src/verifier/index.js';
import { der, FIXTURES, pemCertificate } from './conformance-support.js';

/**
 * The verifier's memos (parsed certificates, checked signatures, the time-independent path checks, the first
 * path of a search with its span of times, the checked OCSP responses) against no memo at all: for every
 * case of NIST path validation 1.07 and the OCSP cases, one verifier asked again and again, at the case's time
 * and at times that move certificates, CRLs and responses in and out of their validity, gives the report a
 * fresh verifier gives for that time.
 */
const YEAR = 365.25 * 24 * 3600_000;
const DAY = 24 * 3600_000;
const shifts = [0, 5 * YEAR, -5 * YEAR, 1000, 0, 8 * DAY, -DAY, 30 * YEAR, -30 * YEAR, 0];

interface Case {
  id: string;
  config: () => VerifierConfig;
  leaf: Buffer;
  untrusted: Buffer[];
  at: Date;
}

function nistCases(): Case[] {
  const dir = join(FIXTURES, 'nist-pathval-1.07');
  const cases: { id: string; root: string; intermediates: string[]; extra_certs?: string[]; leaf: string; crls: string[]; validation_time: string }[] = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  return cases.map((c) => ({
    id: `NIST ${c.id}`,
    config: () => ({ anchors: [der(join(dir, c.root))], revocation: { crls: c.crls.map((f) => der(join(dir, f))), mode: 'require', ocsp: false } }),
    leaf: der(join(dir, c.leaf)),
    untrusted: [...c.intermediates, ...(c.extra_certs ?? [])].map((f) => der(join(dir, f))),
    at: new Date(c.validation_time),
  }));
}

function ocspCases(): Case[] {
  const dir = join(FIXTURES, 'ocsp-cases');
  const cases: { id: string; root: string; intermediates: string[]; leaf: string; responses: string[]; validationTime: string }[] = JSON.parse(readFileSync(join(dir, 'cases.json'), 'utf8'));
  const response = (f: string) => Buffer.from(readFileSync(join(dir, f), 'latin1').replace(/\s+/g, ''), 'base64');
  return cases.map((c) => ({
    id: `OCSP ${c.id}`,
    config: () => ({ anchors: [pemCertificate(join(dir, c.root))], revocation: { ocspResponses: c.responses.map(response), mode: 'soft' } }),
    leaf: pemCertificate(join(dir, c.leaf)),
    untrusted: c.intermediates.map((f) => pemCertificate(join(dir, f))),
    at: new Date(c.validationTime),
  }));
}

describe('a verifier asked again gives the reports of a fresh one', () => {
  for (const [name, cases] of [
    ['NIST path validation 1.07', nistCases],
    ['OCSP cases', ocspCases],
  ] as const) {
    it(name, async () => {
      let moved = 0;
      const list = cases();
      for (const c of list) {
        let first: string | undefined;
        const warm = createVerifier(c.config());
        for (const shift of shifts) {
          const at = new Date(c.at.getTime() + shift);
          const fresh: PathReport = await createVerifier(c.config()).validateCertificate(c.leaf, { at, untrusted: c.untrusted });
          expect(await warm.validateCertificate(c.leaf, { at, untrusted: c.untrusted }), `${c.id} at ${at.toISOString()}`).toEqual(fresh);
          first ??= JSON.stringify(fresh.reasons);
          if (JSON.stringify(fresh.reasons) !== first) moved++;
        }
      }
      // the shifted times do change the reasons (the comparison is not of reports that are all alike)
      expect(moved).toBeGreaterThan(list.length);
    });
  }
});
