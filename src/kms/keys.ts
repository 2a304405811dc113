/**
 * Key facts shared by both stores: which algorithms fit which key, and the conversions a PKCS#11 token needs
 * (token attributes → SPKI DER, raw ECDSA r‖s → DER). SPKI is always produced by node:crypto from a JWK;
 * the only DER we write ourselves goes through pki/der.ts.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { oid, sequence, unsignedInteger, readSingle, contentOf, TAG } from '../pki/der.js';
import { defaultSignatureAlgorithm, type KeySpec, type SignatureAlgorithm } from '../pki/signer.js';
import { KmsError } from './errors.js';

export type Curve = 'P-256' | 'P-384';

export const CURVES: Record<Curve, { oid: string; nodeName: string; fieldBytes: number; bits: number }> = {
  'P-256': { oid: '1.2.840.10045.3.1.7', nodeName: 'prime256v1', fieldBytes: 32, bits: 256 },
  'P-384': { oid: '1.3.132.0.34', nodeName: 'secp384r1', fieldBytes: 48, bits: 384 },
};

export function checkKeySpec(spec: KeySpec): KeySpec {
  const ok =
    spec &&
    ((spec.type === 'RSA' && [2048, 3072, 4096].includes(spec.bits)) || (spec.type === 'EC' && spec.curve in CURVES));
  if (!ok)
    throw new KmsError('KMS_KEY_SPEC_UNSUPPORTED', 'malformed', `unsupported key spec ${JSON.stringify(spec)}: use RSA 2048/3072/4096 or EC P-256/P-384`);
  return spec;
}

export function describeSpec(spec: KeySpec): string {
  return spec.type === 'RSA' ? `RSA-${spec.bits}` : `EC ${spec.curve}`;
}

/** The algorithm a signer uses: the caller's choice if it fits the key, else the key's default. */
export function chooseAlgorithm(spec: KeySpec, uri: string, wanted?: SignatureAlgorithm): SignatureAlgorithm {
  if (wanted === undefined) return defaultSignatureAlgorithm(spec);
  const fits = spec.type === 'RSA' ? wanted.startsWith('RSA-') : wanted.startsWith('ECDSA-');
  if (!fits)
    throw new KmsError(
      'KMS_ALGORITHM_MISMATCH',
      'malformed',
      `signature algorithm ${wanted} does not fit the ${describeSpec(spec)} key ${uri}`,
      { uri, algorithm: wanted },
    );
  return wanted;
}

/** The KeySpec of a node:crypto key (public or private). */
export function specOfKeyObject(key: KeyObject): KeySpec {
  const d = key.asymmetricKeyDetails ?? {};
  if (key.asymmetricKeyType === 'rsa') return checkKeySpec({ type: 'RSA', bits: d.modulusLength as 2048 });
  if (key.asymmetricKeyType === 'ec') {
    const curve = (Object.keys(CURVES) as Curve[]).find((c) => CURVES[c].nodeName === d.namedCurve);
    if (curve) return { type: 'EC', curve };
  }
  throw new KmsError('KMS_KEY_SPEC_UNSUPPORTED', 'malformed', `unsupported key type ${key.asymmetricKeyType} ${d.namedCurve ?? ''}`);
}

// ---- PKCS#11 attribute conversions --------------------------------------------------------------------

const b64url = (b: Uint8Array) => Buffer.from(b).toString('base64url');

function stripZeros(b: Uint8Array): Uint8Array {
  let i = 0;
  while (i < b.length - 1 && b[i] === 0) i++;
  return b.subarray(i);
}

/** SPKI DER from CKA_MODULUS and CKA_PUBLIC_EXPONENT (big-endian magnitudes). */
export function rsaSpki(modulus: Uint8Array, exponent: Uint8Array): Buffer {
  return createPublicKey({ key: { kty: 'RSA', n: b64url(stripZeros(modulus)), e: b64url(stripZeros(exponent)) }, format: 'jwk' }).export({
    type: 'spki',
    format: 'der',
  });
}

/** CKA_EC_PARAMS for a curve: the DER namedCurve OID. */
export function ecParams(curve: Curve): Buffer {
  return oid(CURVES[curve].oid);
}

export function curveOfParams(params: Uint8Array): Curve | undefined {
  return (Object.keys(CURVES) as Curve[]).find((c) => ecParams(c).equals(params));
}

/**
 * SPKI DER from CKA_EC_POINT. PKCS#11 says the point is a DER OCTET STRING around the X9.62 uncompressed
 * point; a few tokens return the bare point, which we accept too.
 */
export function ecSpki(curve: Curve, ecPoint: Uint8Array): Buffer {
  const n = CURVES[curve].fieldBytes;
  let point = ecPoint;
  if (point.length !== 1 + 2 * n && point[0] === TAG.OCTET_STRING) point = contentOf(point, readSingle(point));
  if (point.length !== 1 + 2 * n || point[0] !== 0x04)
    throw new KmsError('KMS_TOKEN_ERROR', 'internal', `the token returned an EC point that is not an uncompressed ${curve} point`);
  const x = point.subarray(1, 1 + n);
  const y = point.subarray(1 + n);
  return createPublicKey({ key: { kty: 'EC', crv: curve, x: b64url(x), y: b64url(y) }, format: 'jwk' }).export({ type: 'spki', format: 'der' });
}

/** CKM_ECDSA returns r‖s (each the field size); X.509 and CMS carry Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }. */
export function ecdsaRawToDer(raw: Uint8Array): Buffer {
  if (raw.length === 0 || raw.length % 2 !== 0)
    throw new KmsError('KMS_TOKEN_ERROR', 'internal', `the token returned an ECDSA signature of odd length ${raw.length}`);
  const half = raw.length / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}
