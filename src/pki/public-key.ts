import { createPublicKey, type KeyObject } from 'node:crypto';
import { childList, contentOf, readOid, readSingle, TAG } from './der.js';
import { OID_RSA_ENCRYPTION } from './oids.js';

/**
 * A SubjectPublicKeyInfo (DER) as a node:crypto KeyObject. OpenSSL 3 takes ~170 µs to decode an RSA SPKI
 * through its generic decoder chain but ~6 µs for the bare PKCS#1 RSAPublicKey inside it, and issuance
 * loads one key per certificate — so RSA keys take the short road (the key is identical either way).
 * Throws whatever node:crypto throws for a malformed key; callers wrap it in their own error.
 */
export function loadPublicKey(spki: Uint8Array): KeyObject {
  const der = Buffer.from(spki.buffer, spki.byteOffset, spki.byteLength);
  const rsa = rsaPublicKeyOf(der);
  if (rsa) return createPublicKey({ key: rsa, format: 'der', type: 'pkcs1' });
  return createPublicKey({ key: der, format: 'der', type: 'spki' });
}

/** The RSAPublicKey inside an rsaEncryption SPKI (with its NULL parameters), or undefined. */
function rsaPublicKeyOf(spki: Buffer): Buffer | undefined {
  try {
    const outer = readSingle(spki);
    const [alg, bits, ...rest] = childList(spki, outer);
    if (outer.tag !== TAG.SEQUENCE || !alg || alg.tag !== TAG.SEQUENCE || !bits || bits.tag !== TAG.BIT_STRING || rest.length) return undefined;
    const [id, params, ...more] = childList(spki, alg);
    if (!id || readOid(spki, id) !== OID_RSA_ENCRYPTION || !params || params.tag !== TAG.NULL || params.end !== params.contentStart || more.length) return undefined;
    const content = contentOf(spki, bits);
    if (content[0] !== 0) return undefined;
    return content.subarray(1) as Buffer;
  } catch {
    return undefined;
  }
}
