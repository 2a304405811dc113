import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVerifier } from '../../src/verifier/index.js';
import { FIXTURES, pemCertificate, Tally } from './conformance-support.js';

/**
 * OCSP response validation cases (test/fixtures/ocsp-cases/README.md, OpenSSL's ocsp-tests data): the
 * supplied responses are the only revocation information (no CRLs, no network); a certificate without a
 * response passes (certvalidator's soft-fail), a supplied response that fails any check refuses the path.
 */
const DIR = join(FIXTURES, 'ocsp-cases');
const tally = new Tally('OCSP cases');
interface Case {
  id: string;
  root: string;
  intermediates: string[];
  leaf: string;
  responses: string[];
  validationTime: string;
  expected: 'valid' | 'invalid';
}
const cases: Case[] = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));
const response = (f: string) => Buffer.from(readFileSync(join(DIR, f), 'latin1').replace(/\s+/g, ''), 'base64');
afterAll(() => tally.print());

describe('OCSP cases', () => {
  for (const c of cases) {
    it(`${c.id} → ${c.expected}`, async () => {
      const verifier = createVerifier({ anchors: [pemCertificate(join(DIR, c.root))], revocation: { ocspResponses: c.responses.map(response), mode: 'soft' } });
      const r = await verifier.validateCertificate(pemCertificate(join(DIR, c.leaf)), { at: new Date(c.validationTime), untrusted: c.intermediates.map((f) => pemCertificate(join(DIR, f))) });
      tally.record(c.id, c.expected, r.verdict, r.reasons.map((x) => `${x.code}: ${x.message}`).join('; '));
      if (c.expected === 'valid') {
        expect(r.verdict, JSON.stringify(r.reasons)).toBe('valid');
        // the leaf's status came from its OCSP response
        expect(r.path.at(-1)!.revocation).toMatchObject({ status: 'good', source: 'ocsp' });
      } else expect(r.verdict).not.toBe('valid');
    });
  }
});
