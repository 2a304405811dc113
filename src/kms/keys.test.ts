import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { octetString } from '../pki/der.js';
import { chooseAlgorithm, curveOfParams, ecdsaRawToDer, ecParams, ecSpki, rsaSpki } from './keys.js';

const b = (s: string) => Buffer.from(s, 'base64url');

describe('token attribute conversions', () => {
  it('turns CKA_MODULUS / CKA_PUBLIC_EXPONENT into the same SPKI node:crypto writes', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const jwk = publicKey.export({ format: 'jwk' });
    const spki = publicKey.export({ type: 'spki', format: 'der' });
    expect(rsaSpki(b(jwk.n!), b(jwk.e!))).toEqual(spki);
    // A leading zero byte (some tokens keep one) changes nothing.
    expect(rsaSpki(Buffer.concat([Buffer.from([0]), b(jwk.n!)]), Buffer.from([0, 1, 0, 1]))).toEqual(spki);
  });

  it('turns CKA_EC_POINT (DER OCTET STRING or bare) into SPKI, for both curves', () => {
    for (const [curve, name] of [
      ['P-256', 'prime256v1'],
      ['P-384', 'secp384r1'],
    ] as const) {
      const { publicKey } = generateKeyPairSync('ec', { namedCurve: name });
      const jwk = publicKey.export({ format: 'jwk' });
      const point = Buffer.concat([Buffer.from([4]), b(jwk.x!), b(jwk.y!)]);
      const spki = publicKey.export({ type: 'spki', format: 'der' });
      expect(ecSpki(curve, octetString(point))).toEqual(spki);
      expect(ecSpki(curve, point)).toEqual(spki);
      expect(curveOfParams(ecParams(curve))).toBe(curve);
    }
    expect(ecParams('P-256').toString('hex')).toBe('06082a8648ce3d030107');
    expect(ecParams('P-384').toString('hex')).toBe('06052b81040022');
  });

  it('converts raw r‖s ECDSA signatures to the DER node:crypto and OpenSSL verify', () => {
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
    for (let i = 0; i < 200; i++) {
      const data = Buffer.from(`message ${i}`);
      const raw = sign('sha256', data, { key: privateKey, dsaEncoding: 'ieee-p1363' });
      const der = ecdsaRawToDer(raw);
      // OpenSSL re-encodes the parsed signature and compares, so this also proves the DER is canonical
      // (minimal INTEGERs, a 0x00 pad when the high bit is set); 200 runs cover both cases many times.
      expect(verify('sha256', data, publicKey, der)).toBe(true);
    }
  });

  it('picks the key default algorithm and refuses one of the other family', () => {
    expect(chooseAlgorithm({ type: 'RSA', bits: 2048 }, 'u')).toBe('RSA-SHA256');
    expect(chooseAlgorithm({ type: 'EC', curve: 'P-384' }, 'u')).toBe('ECDSA-SHA384');
    expect(chooseAlgorithm({ type: 'EC', curve: 'P-256' }, 'u', 'ECDSA-SHA384')).toBe('ECDSA-SHA384');
    expect(() => chooseAlgorithm({ type: 'EC', curve: 'P-256' }, 'u', 'RSA-SHA256')).toThrow(/does not fit/);
  });
});
