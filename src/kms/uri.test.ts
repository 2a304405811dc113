import { describe, expect, it } from 'vitest';
import { isKmsError } from './errors.js';
import { checkLabel, formatPkcs11Uri, formatSoftUri, keyUriScheme, parsePkcs11Uri, parseSoftUri, requireScheme } from './uri.js';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (e) {
    return isKmsError(e) ? e.code : String(e);
  }
  return 'no error';
};

describe('key URIs', () => {
  it('formats the RFC 7512 form with the id percent-encoded byte by byte', () => {
    const uri = formatPkcs11Uri({ token: 'jpki-ca', object: 'pref-13', id: Buffer.from([0x01, 0xab, 0x3e]) });
    expect(uri).toBe('pkcs11:token=jpki-ca;object=pref-13;id=%01%AB%3E');
    expect(parsePkcs11Uri(uri)).toEqual({ token: 'jpki-ca', object: 'pref-13', id: Buffer.from([0x01, 0xab, 0x3e]) });
  });

  it('percent-encodes what a path value may not hold, and round-trips UTF-8', () => {
    const token = 'My CA; 東京/#1?%';
    const uri = formatPkcs11Uri({ token, object: 'a' });
    expect(uri).toBe('pkcs11:token=My%20CA%3B%20%E6%9D%B1%E4%BA%AC%2F%231%3F%25;object=a');
    expect(parsePkcs11Uri(uri).token).toBe(token);
  });

  it('parses the RFC 7512 §3 example, ignoring attributes it does not match on', () => {
    const u = parsePkcs11Uri(
      'pkcs11:token=The%20Software%20PKCS%2311%20softtoken;manufacturer=Snake%20Oil,%20Inc.;model=1.0;object=my-certificate;type=cert;id=%69%95%3E%5C%F4%BD%EC%91;serial=',
    );
    expect(u).toEqual({
      token: 'The Software PKCS#11 softtoken',
      object: 'my-certificate',
      type: 'cert',
      id: Buffer.from([0x69, 0x95, 0x3e, 0x5c, 0xf4, 0xbd, 0xec, 0x91]),
    });
    // The query (pin-value, module-path) never chooses the PIN or module: they come from the config.
    expect(parsePkcs11Uri('pkcs11:object=k?pin-value=1234&module-path=/tmp/evil.so')).toEqual({ object: 'k' });
  });

  it('refuses unknown attributes, bad escapes, repeats and URIs naming no key', () => {
    expect(codeOf(() => parsePkcs11Uri('pkcs11:object=k;colour=red'))).toBe('KMS_URI_INVALID');
    expect(codeOf(() => parsePkcs11Uri('pkcs11:object=k%4'))).toBe('KMS_URI_INVALID');
    expect(codeOf(() => parsePkcs11Uri('pkcs11:object=k%zz'))).toBe('KMS_URI_INVALID');
    expect(codeOf(() => parsePkcs11Uri('pkcs11:object=a;object=b'))).toBe('KMS_URI_INVALID');
    expect(codeOf(() => parsePkcs11Uri('pkcs11:token=t'))).toBe('KMS_URI_INVALID');
    expect(codeOf(() => parsePkcs11Uri('pkcs11:object=k;type=secret'))).toBe('KMS_URI_INVALID');
  });

  it('tells the stores apart by scheme', () => {
    expect(keyUriScheme('soft:pref-13')).toBe('soft');
    expect(keyUriScheme('pkcs11:object=x')).toBe('pkcs11');
    expect(keyUriScheme('awskms:x')).toBeUndefined();
    expect(codeOf(() => requireScheme('soft:x', 'pkcs11'))).toBe('KMS_URI_SCHEME_MISMATCH');
    expect(codeOf(() => parsePkcs11Uri('soft:x'))).toBe('KMS_URI_SCHEME_MISMATCH');
    expect(codeOf(() => parseSoftUri('pkcs11:object=x'))).toBe('KMS_URI_SCHEME_MISMATCH');
    expect(parseSoftUri(formatSoftUri('jpki-bridge'))).toBe('jpki-bridge');
  });

  it('accepts only file-name-safe labels', () => {
    for (const ok of ['pref-13', 'jpki-bridge', 'A.b_c-1', 'x'.repeat(64)]) expect(checkLabel(ok)).toBe(ok);
    for (const bad of ['', '.hidden', '-x', 'a/b', '..', 'a b', 'x'.repeat(65), 'é'])
      expect(codeOf(() => checkLabel(bad))).toBe('KMS_LABEL_INVALID');
  });
});
