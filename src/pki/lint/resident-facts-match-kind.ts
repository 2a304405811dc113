import { findExtension } from '../certificate-reader.js';
import { OID_EXT_SUBJECT_ALT_NAME } from '../oids.js';
import { sanFacts } from './san-facts.js';
import type { Lint } from './types.js';

export const residentFactsMatchKind: Lint = {
  id: 'resident-facts-match-kind',
  citation: 'jpki-profile.md §1.1 (exactly six UTF8String otherNames in the signing certificate), §1.3 e (none in the auth certificate)',
  check: (c, ctx) => {
    const san = findExtension(c, OID_EXT_SUBJECT_ALT_NAME);
    if (ctx.kind === 'auth') return san ? 'a user-authentication certificate carries subjectAltName facts' : undefined;
    if (!san) return 'the signing certificate has no subjectAltName facts';
    const facts = sanFacts(san.value);
    return facts instanceof Error ? facts.message : undefined;
  },
};
