import type { KeyObject } from 'node:crypto';
import type { TbsCertificateView } from '../certificate-reader.js';
import type { ResidentFactsContext } from '../resident-facts.js';

/** What a lint knows besides the certificate: what it is meant to be and who issues it. */
export interface LintContext {
  kind: 'sign' | 'auth';
  issuerKeyId: Uint8Array;
  issuerNotAfter: Date;
  /** The subject key already loaded by the caller (saves decoding it again); else read from the TBS. */
  subjectPublicKey?: KeyObject;
  /** What the certified facts are checked against: today, the CA's prefecture, the municipality. */
  residentFacts?: ResidentFactsContext;
}

/** One profile rule, checked on the TBS before the CA signs (Boulder's lint-before-sign, zlint style). */
export interface Lint {
  id: string;
  /** Where the rule comes from. */
  citation: string;
  /** A problem description, or undefined when the certificate passes. */
  check(cert: TbsCertificateView, ctx: LintContext): string | undefined;
}
