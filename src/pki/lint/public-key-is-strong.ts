import { loadPublicKey } from '../public-key.js';
import type { Lint } from './types.js';

export const publicKeyIsStrong: Lint = {
  id: 'public-key-is-strong',
  citation: 'jpki-profile.md §1.4 (RSA-2048, e = 65537 since the My Number era)',
  check: (c, ctx) => {
    const k = ctx.subjectPublicKey ?? loadPublicKey(c.subjectPublicKeyInfo);
    const d = k.asymmetricKeyDetails ?? {};
    if (k.asymmetricKeyType === 'rsa') {
      if ((d.modulusLength ?? 0) < 2048) return `RSA key of ${d.modulusLength} bits is below 2048`;
      if (d.publicExponent !== undefined && d.publicExponent < 65537n) return `RSA public exponent ${d.publicExponent} is below 65537`;
      return undefined;
    }
    if (k.asymmetricKeyType === 'ec') return d.namedCurve === 'prime256v1' || d.namedCurve === 'secp384r1' ? undefined : `EC curve ${d.namedCurve} is not allowed`;
    return `key type ${k.asymmetricKeyType} is not allowed`;
  },
};
