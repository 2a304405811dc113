import type { Lint } from './types.js';

export const validityFitsProfile: Lint = {
  id: 'validity-fits-profile',
  citation: 'system.md §3 (3 years); jpki-profile.md §1.4 (ends 23:59:59 JST); RFC 5280 §6 (within the issuer)',
  check: (c, ctx) => {
    if (c.notAfter <= c.notBefore) return 'notAfter is not after notBefore';
    if (c.notAfter > ctx.issuerNotAfter) return 'the certificate outlives its issuer';
    const end = c.notAfter;
    const atJstMidnight = end.getUTCHours() === 14 && end.getUTCMinutes() === 59 && end.getUTCSeconds() === 59;
    if (!atJstMidnight && end.getTime() !== ctx.issuerNotAfter.getTime()) return `notAfter ${end.toISOString()} is not 23:59:59 JST`;
    const years = (end.getTime() - c.notBefore.getTime()) / (365.25 * 86400_000);
    return years > 3.01 ? `validity of ${years.toFixed(2)} years exceeds 3` : undefined;
  },
};
