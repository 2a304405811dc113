import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.js';
import { der, FIXTURES, Tally } from './conformance-support.js';

/**
 * NIST X.509 Path Validation Test Suite 1.07 (test/fixtures/nist-pathval-1.07/README.md): 76 cases, CRLs
 * required for every certificate on the path, default policy inputs, at 2018-04-01T09:30:33Z.
 */
const DIR = join(FIXTURES, 'nist-pathval-1.07');
const tally = new Tally('NIST path validation 1.07');
interface Case {
  id: string;
  title: string;
  root: string;
  intermediates: string[];
  extra_certs?: string[];
  leaf: string;
  crls: string[];
  expected: 'valid' | 'invalid';
  validation_time: string;
}
const cases: Case[] = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));
afterAll(() => tally.print());

describe('NIST path validation 1.07', () => {
  for (const c of cases) {
    it(`${c.id} ${c.title} → ${c.expected}`, async () => {
      const verifier = createVerifier({ anchors: [der(join(DIR, c.root))], revocation: { crls: c.crls.map((f) => der(join(DIR, f))), mode: 'require', ocsp: false } });
      const r = await verifier.validateCertificate(der(join(DIR, c.leaf)), {
        at: new Date(c.validation_time),
        untrusted: [...c.intermediates, ...(c.extra_certs ?? [])].map((f) => der(join(DIR, f))),
      });
      tally.record(c.id, c.expected, r.verdict, r.reasons.map((x) => `${x.code}: ${x.message}`).join('; '));
      if (c.expected === 'valid') expect(r.verdict, JSON.stringify(r.reasons)).toBe('valid');
      else expect(r.verdict).not.toBe('valid');
    });
  }
});
