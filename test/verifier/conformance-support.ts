import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../../src/common/project-root.js';
import type { Verdict } from '../../src/verifier/index.js';

/** The conformance data copied from shared/testdata (READMEs with provenance and licences beside it). */
export const FIXTURES = join(PROJECT_ROOT, 'test', 'fixtures');

export function der(path: string): Buffer {
  return readFileSync(path);
}

/** PEM file → DER of its first certificate. */
export function pemCertificate(path: string): Buffer {
  const m = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(readFileSync(path, 'latin1'));
  if (!m) throw new Error(`${path}: no certificate`);
  return Buffer.from(m[1]!.replace(/\s+/g, ''), 'base64');
}

/** Tally of a harness: printed as `NAME: P passed, F failed of N` at the end of the file. */
export class Tally {
  passed = 0;
  failed: string[] = [];
  notApplicable: string[] = [];
  constructor(readonly name: string) {}
  /** `valid` must be valid; `invalid` must be anything else (invalid, or indeterminate: both refuse the path). */
  record(id: string, expected: 'valid' | 'invalid', got: Verdict, detail: string): boolean {
    const ok = expected === 'valid' ? got === 'valid' : got !== 'valid';
    if (ok) this.passed++;
    else this.failed.push(`${id}: expected ${expected}, got ${got} (${detail})`);
    return ok;
  }
  print(): void {
    const total = this.passed + this.failed.length;
    console.log(`${this.name}: ${this.passed} passed, ${this.failed.length} failed of ${total}${this.notApplicable.length ? `; not applicable: ${this.notApplicable.join(', ')}` : ''}`);
    for (const f of this.failed) console.log(`  FAIL ${f}`);
  }
}
