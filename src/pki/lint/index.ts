import { readTbsCertificate } from '../certificate-reader.js';
import { keyIdentifiersMatch } from './key-identifiers-match.js';
import { keyUsageMatchesKind } from './key-usage-matches-kind.js';
import { publicKeyIsStrong } from './public-key-is-strong.js';
import { residentFactsMatchKind } from './resident-facts-match-kind.js';
import { residentFactsValid } from './resident-facts-valid.js';
import { serialIsPositiveWith64RandomBits } from './serial-is-positive-with-64-random-bits.js';
import type { Lint, LintContext } from './types.js';
import { validityFitsProfile } from './validity-fits-profile.js';

export type { Lint, LintContext } from './types.js';

/** Every lint the CA runs on a resident certificate before signing it. */
export const RESIDENT_CERTIFICATE_LINTS: readonly Lint[] = [
  serialIsPositiveWith64RandomBits,
  keyUsageMatchesKind,
  residentFactsMatchKind,
  residentFactsValid,
  keyIdentifiersMatch,
  validityFitsProfile,
  publicKeyIsStrong,
];

export interface LintProblem {
  lint: string;
  citation: string;
  message: string;
}

/** Runs the lints on a TBSCertificate; an empty list means it may be signed. */
export function lintCertificate(tbs: Uint8Array, ctx: LintContext, lints: readonly Lint[] = RESIDENT_CERTIFICATE_LINTS): LintProblem[] {
  const view = readTbsCertificate(tbs);
  const problems: LintProblem[] = [];
  for (const l of lints) {
    const message = l.check(view, ctx);
    if (message) problems.push({ lint: l.id, citation: l.citation, message });
  }
  return problems;
}
