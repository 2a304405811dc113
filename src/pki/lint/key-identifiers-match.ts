import { findExtension } from '../certificate-reader.js';
import { decodeAuthorityKeyIdentifier, keyIdentifierOf } from '../extensions.js';
import { OID_EXT_AUTHORITY_KEY_IDENTIFIER, OID_EXT_SUBJECT_KEY_IDENTIFIER } from '../oids.js';
import type { Lint } from './types.js';

export const keyIdentifiersMatch: Lint = {
  id: 'key-identifiers-match',
  citation: 'RFC 5280 §4.2.1.1–2; jpki-profile.md §1.3 (SKI = SHA-1 of the key, the last extension)',
  check: (c, ctx) => {
    const ski = findExtension(c, OID_EXT_SUBJECT_KEY_IDENTIFIER);
    if (!ski) return 'subjectKeyIdentifier is missing';
    if (c.extensions[c.extensions.length - 1] !== ski) return 'subjectKeyIdentifier is not the last extension';
    const expected = keyIdentifierOf(c.subjectPublicKeyInfo);
    if (!Buffer.from(ski.value).subarray(2).equals(expected)) return 'subjectKeyIdentifier does not match the public key';
    const aki = findExtension(c, OID_EXT_AUTHORITY_KEY_IDENTIFIER);
    if (!aki) return 'authorityKeyIdentifier is missing';
    const keyId = decodeAuthorityKeyIdentifier(aki.value).keyId;
    return keyId && Buffer.from(keyId).equals(Buffer.from(ctx.issuerKeyId)) ? undefined : "authorityKeyIdentifier does not name the issuer's key";
  },
};
