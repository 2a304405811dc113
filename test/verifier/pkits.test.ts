import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createVerifier, type PolicyOptions } from '../../src/verifier/index.js';
import { der, FIXTURES, Tally } from './conformance-support.js';

/**
 * NIST PKITS (test/fixtures/pkits/README.md): the 174 cases of cases.json, then the 50 it leaves out —
 * the 38 name-constraint tests (4.13) and the policy runs with non-default settings (4.8.x, 4.10.x) — with
 * PKITS's expected results as the README transcribes them. Every certificate on the path needs a current
 * CRL (revocation mode `require`, CRLs only: the data has no OCSP).
 */
const DIR = join(FIXTURES, 'pkits');
const cert = (f: string) => der(join(DIR, 'certs', f));
const crl = (f: string) => der(join(DIR, 'crls', f));
const tally = new Tally('NIST PKITS');

interface Case {
  id: string;
  section: string;
  title: string;
  leaf: string;
  intermediates: string[];
  crls: string[];
  trustAnchor: string;
  settings: { initialPolicySet: string[]; initialExplicitPolicy: boolean; initialPolicyMappingInhibit: boolean; initialAnyPolicyInhibit: boolean; validationTime: string };
  expected: 'valid' | 'invalid';
}
const cases: Case[] = JSON.parse(readFileSync(join(DIR, 'cases.json'), 'utf8'));

async function run(leaf: string, intermediates: string[], crls: string[], policy: PolicyOptions, at = new Date('2020-01-01T00:00:00Z')) {
  const verifier = createVerifier({
    anchors: [cert('TrustAnchorRootCertificate.crt')],
    policy,
    revocation: { crls: crls.map(crl), mode: 'require', ocsp: false },
  });
  return verifier.validateCertificate(cert(leaf), { at, untrusted: intermediates.map(cert) });
}

afterAll(() => tally.print());

describe('NIST PKITS: the 174 cases of cases.json', () => {
  for (const c of cases) {
    it(`${c.section} ${c.title} → ${c.expected}`, async () => {
      const r = await run(c.leaf, c.intermediates, c.crls, c.settings, new Date(c.settings.validationTime));
      tally.record(c.section, c.expected, r.verdict, r.reasons.map((x) => `${x.code}: ${x.message}`).join('; '));
      if (c.expected === 'valid') expect(r.verdict, JSON.stringify(r.reasons)).toBe('valid');
      else expect(r.verdict).not.toBe('valid');
    });
  }
});

const P = (n: number) => `2.16.840.1.101.3.2.1.48.${n}`;
const ANY = '2.5.29.32.0';
const allCrls = readdirSync(join(DIR, 'crls'));

describe('NIST PKITS 4.13: name constraints (38 tests, default settings)', () => {
  const valid = new Set([1, 4, 5, 6, 11, 14, 18, 19, 21, 23, 25, 27, 30, 32, 34, 36]);
  const files = readdirSync(join(DIR, 'certs'));
  const pool = files.filter((f) => f.startsWith('nameConstraints'));
  const crls = allCrls.filter((f) => f.startsWith('nameConstraints') || f === 'TrustAnchorRootCRL.crl');
  for (let t = 1; t <= 38; t++) {
    const leaf = files.find((f) => new RegExp(`^(Valid|Invalid)(DN|RFC822|DNS|URI|DNandRFC822)nameConstraintsTest${t}EE\\.crt$`).test(f));
    const expected = valid.has(t) ? 'valid' : 'invalid';
    it(`4.13.${t} ${leaf} → ${expected}`, async () => {
      expect(leaf).toBeDefined();
      const r = await run(leaf!, pool, crls, {});
      tally.record(`4.13.${t}`, expected, r.verdict, r.reasons.map((x) => `${x.code}: ${x.message}`).join('; '));
      if (expected === 'valid') expect(r.verdict, JSON.stringify(r.reasons)).toBe('valid');
      else expect(r.verdict).not.toBe('valid');
    });
  }
});

describe('NIST PKITS 4.8 and 4.10: the runs with policy inputs (12 tests)', () => {
  const runs: { test: string; cas: string[]; leaf: string; settings: PolicyOptions; expected: 'valid' | 'invalid' }[] = [
    { test: '4.8.1', cas: ['GoodCACert.crt'], leaf: 'ValidCertificatePathTest1EE.crt', settings: { initialExplicitPolicy: true }, expected: 'valid' },
    { test: '4.8.1', cas: ['GoodCACert.crt'], leaf: 'ValidCertificatePathTest1EE.crt', settings: { initialExplicitPolicy: true, initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.8.1', cas: ['GoodCACert.crt'], leaf: 'ValidCertificatePathTest1EE.crt', settings: { initialExplicitPolicy: true, initialPolicySet: [P(2)] }, expected: 'invalid' },
    { test: '4.8.1', cas: ['GoodCACert.crt'], leaf: 'ValidCertificatePathTest1EE.crt', settings: { initialExplicitPolicy: true, initialPolicySet: [P(1), P(2)] }, expected: 'valid' },
    { test: '4.8.15', cas: [], leaf: 'UserNoticeQualifierTest15EE.crt', settings: {}, expected: 'valid' },
    { test: '4.8.16', cas: ['GoodCACert.crt'], leaf: 'UserNoticeQualifierTest16EE.crt', settings: {}, expected: 'valid' },
    { test: '4.8.17', cas: ['GoodCACert.crt'], leaf: 'UserNoticeQualifierTest17EE.crt', settings: {}, expected: 'valid' },
    { test: '4.8.18', cas: ['PoliciesP12CACert.crt'], leaf: 'UserNoticeQualifierTest18EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.8.18', cas: ['PoliciesP12CACert.crt'], leaf: 'UserNoticeQualifierTest18EE.crt', settings: { initialPolicySet: [P(2)] }, expected: 'valid' },
    { test: '4.8.19', cas: [], leaf: 'UserNoticeQualifierTest19EE.crt', settings: {}, expected: 'valid' },
    { test: '4.8.20', cas: ['GoodCACert.crt'], leaf: 'CPSPointerQualifierTest20EE.crt', settings: { initialExplicitPolicy: true, initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.10.1', cas: ['Mapping1to2CACert.crt'], leaf: 'ValidPolicyMappingTest1EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.10.1', cas: ['Mapping1to2CACert.crt'], leaf: 'ValidPolicyMappingTest1EE.crt', settings: { initialPolicySet: [P(2)] }, expected: 'invalid' },
    { test: '4.10.1', cas: ['Mapping1to2CACert.crt'], leaf: 'ValidPolicyMappingTest1EE.crt', settings: { initialPolicyMappingInhibit: true }, expected: 'invalid' },
    { test: '4.10.3', cas: ['P12Mapping1to3CACert.crt', 'P12Mapping1to3subCACert.crt', 'P12Mapping1to3subsubCACert.crt'], leaf: 'ValidPolicyMappingTest3EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'invalid' },
    { test: '4.10.3', cas: ['P12Mapping1to3CACert.crt', 'P12Mapping1to3subCACert.crt', 'P12Mapping1to3subsubCACert.crt'], leaf: 'ValidPolicyMappingTest3EE.crt', settings: { initialPolicySet: [P(2)] }, expected: 'valid' },
    { test: '4.10.5', cas: ['P1Mapping1to234CACert.crt', 'P1Mapping1to234subCACert.crt'], leaf: 'ValidPolicyMappingTest5EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.10.5', cas: ['P1Mapping1to234CACert.crt', 'P1Mapping1to234subCACert.crt'], leaf: 'ValidPolicyMappingTest5EE.crt', settings: { initialPolicySet: [P(6)] }, expected: 'invalid' },
    { test: '4.10.6', cas: ['P1Mapping1to234CACert.crt', 'P1Mapping1to234subCACert.crt'], leaf: 'ValidPolicyMappingTest6EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.10.6', cas: ['P1Mapping1to234CACert.crt', 'P1Mapping1to234subCACert.crt'], leaf: 'ValidPolicyMappingTest6EE.crt', settings: { initialPolicySet: [P(6)] }, expected: 'invalid' },
    { test: '4.10.12', cas: ['P12Mapping1to3CACert.crt'], leaf: 'ValidPolicyMappingTest12EE.crt', settings: { initialPolicySet: [P(1)] }, expected: 'valid' },
    { test: '4.10.12', cas: ['P12Mapping1to3CACert.crt'], leaf: 'ValidPolicyMappingTest12EE.crt', settings: { initialPolicySet: [P(2)] }, expected: 'valid' },
  ];
  for (const r of runs) {
    const label = `${r.test} ${JSON.stringify({ ...r.settings, initialPolicySet: r.settings.initialPolicySet ?? [ANY] })}`;
    it(`${label} → ${r.expected}`, async () => {
      const out = await run(r.leaf, r.cas, allCrls, r.settings);
      tally.record(label, r.expected, out.verdict, out.reasons.map((x) => `${x.code}: ${x.message}`).join('; '));
      if (r.expected === 'valid') expect(out.verdict, JSON.stringify(out.reasons)).toBe('valid');
      else expect(out.verdict).not.toBe('valid');
    });
  }
});
