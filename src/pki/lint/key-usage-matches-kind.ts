import { findExtension } from '../certificate-reader.js';
import { OID_EXT_KEY_USAGE } from '../oids.js';
import type { Lint } from './types.js';

const EXPECTED = { sign: '030206c0', auth: '03020780' };

export const keyUsageMatchesKind: Lint = {
  id: 'key-usage-matches-kind',
  citation: 'jpki-profile.md §1.3: keyUsage critical; sign = digitalSignature + nonRepudiation (03 02 06 C0), auth = digitalSignature',
  check: (c, ctx) => {
    const ku = findExtension(c, OID_EXT_KEY_USAGE);
    if (!ku) return 'keyUsage is missing';
    if (!ku.critical) return 'keyUsage is not critical';
    const hex = Buffer.from(ku.value).toString('hex');
    return hex === EXPECTED[ctx.kind] ? undefined : `keyUsage is ${hex}, expected ${EXPECTED[ctx.kind]} for a ${ctx.kind} certificate`;
  },
};
