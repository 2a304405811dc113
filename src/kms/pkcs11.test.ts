/**
 * The PKCS#11 key store against a fake token (no SoftHSM): what it asks the token for, and how it reads the
 * answers. The real-token behaviour is in test/kms/pkcs11-softhsm.test.ts.
 */
import { createPublicKey, generateKeyPairSync, sign as nodeSign, verify, type KeyObject } from 'node:crypto';
import pkcs11js from 'pkcs11js';
import { describe, expect, it } from 'vitest';
import { isKmsError } from './errors.js';
import { openPkcs11KeyManager } from './pkcs11.js';
import { tokenError, type Handle, type Mechanism, type Pkcs11Token, type Template } from './pkcs11-session.js';

const P = pkcs11js;

/** Attribute values as the token stores them (what pkcs11js hands back). */
function encode(v: Template[number]['value']): Buffer {
  if (Buffer.isBuffer(v)) return v;
  if (typeof v === 'boolean') return Buffer.from([v ? 1 : 0]);
  if (typeof v === 'number') {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    return b;
  }
  return Buffer.from(String(v), 'utf8');
}

/** An in-memory token: RSA only (node:crypto cannot sign a bare digest, which CKM_ECDSA needs). */
class FakeToken implements Pkcs11Token {
  readonly label = 'fake';
  readonly objects = new Map<string, { attrs: Map<number, Buffer>; key?: KeyObject }>();
  readonly generated: { publicTemplate: Template; privateTemplate: Template }[] = [];
  signError?: Error;
  closed = 0;
  private next = 1;

  private add(template: Template, extra: [number, Buffer][], key?: KeyObject): Handle {
    const h = Buffer.from([this.next++]);
    const attrs = new Map<number, Buffer>(template.map((a) => [a.type, encode(a.value)]));
    for (const [t, v] of extra) attrs.set(t, v);
    this.objects.set(h.toString('hex'), { attrs, ...(key ? { key } : {}) });
    return h;
  }

  async findObjects(template: Template): Promise<Handle[]> {
    return [...this.objects]
      .filter(([, o]) => template.every((a) => o.attrs.get(a.type)?.equals(encode(a.value))))
      .map(([h]) => Buffer.from(h, 'hex'));
  }
  async getAttributes(object: Handle, types: readonly number[]) {
    const o = this.objects.get(object.toString('hex'))!;
    return new Map(types.map((t) => [t, o.attrs.get(t) ?? Buffer.alloc(0)]));
  }
  async generateKeyPair(mechanism: Mechanism, publicTemplate: Template, privateTemplate: Template) {
    if (mechanism.mechanism !== P.CKM_RSA_PKCS_KEY_PAIR_GEN) throw tokenError(new Error('CKR_MECHANISM_INVALID'), 'generating a key pair', this.label);
    this.generated.push({ publicTemplate, privateTemplate });
    const bits = publicTemplate.find((a) => a.type === P.CKA_MODULUS_BITS)!.value as number;
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: bits });
    const jwk = publicKey.export({ format: 'jwk' });
    const pub: [number, Buffer][] = [
      [P.CKA_MODULUS, Buffer.from(jwk.n!, 'base64url')],
      [P.CKA_PUBLIC_EXPONENT, Buffer.from(jwk.e!, 'base64url')],
    ];
    return { publicKey: this.add(publicTemplate, pub), privateKey: this.add(privateTemplate, [], privateKey) };
  }
  async sign(mechanism: Mechanism, key: Handle, data: Buffer) {
    if (this.signError) throw tokenError(this.signError, 'signing', this.label);
    expect(mechanism.mechanism).toBe(P.CKM_SHA256_RSA_PKCS);
    return nodeSign('sha256', data, this.objects.get(key.toString('hex'))!.key!);
  }
  async destroyObject(object: Handle) {
    this.objects.delete(object.toString('hex'));
  }
  async createObject(template: Template): Promise<Handle> {
    return this.add(template, []);
  }
  async generateKey(_mechanism: Mechanism, template: Template): Promise<Handle> {
    return this.add(template, []);
  }
  async close() {
    this.closed++;
  }
}

const open = async (token: FakeToken) => openPkcs11KeyManager({ module: '/fake.so', token: 'fake', pin: '1234' }, async () => token);
const attr = (t: Template, type: number) => t.find((a) => a.type === type)?.value;

describe('PKCS#11 key store (fake token)', () => {
  it('asks the token for a sensitive, non-extractable signing key on the token, with a shared CKA_ID and label', async () => {
    const token = new FakeToken();
    const km = await open(token);
    const { uri, publicKey } = await km.createKey('pref-13', { type: 'RSA', bits: 2048 });
    const [{ publicTemplate, privateTemplate }] = token.generated as [(typeof token.generated)[number]];
    expect(attr(privateTemplate, P.CKA_TOKEN)).toBe(true);
    expect(attr(privateTemplate, P.CKA_PRIVATE)).toBe(true);
    expect(attr(privateTemplate, P.CKA_SENSITIVE)).toBe(true);
    expect(attr(privateTemplate, P.CKA_EXTRACTABLE)).toBe(false);
    expect(attr(privateTemplate, P.CKA_SIGN)).toBe(true);
    expect(attr(privateTemplate, P.CKA_DECRYPT)).toBe(false);
    expect(attr(privateTemplate, P.CKA_LABEL)).toBe('pref-13');
    expect(attr(publicTemplate, P.CKA_MODULUS_BITS)).toBe(2048);
    expect(attr(publicTemplate, P.CKA_ID)).toEqual(attr(privateTemplate, P.CKA_ID));
    const id = attr(privateTemplate, P.CKA_ID) as Buffer;
    expect(uri).toBe(`pkcs11:token=fake;object=pref-13;id=${[...id].map((b) => '%' + b.toString(16).padStart(2, '0').toUpperCase()).join('')}`);

    // A fresh manager resolves the URI through find + attributes and signs through the token.
    const km2 = await open(token);
    const signer = await km2.getSigner(uri);
    const sig = await signer.sign(Buffer.from('tbs'));
    expect(verify('sha256', Buffer.from('tbs'), createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' }), sig)).toBe(true);
    expect(Buffer.from(signer.publicKey)).toEqual(Buffer.from(publicKey));
  });

  it('refuses a second key with the same label without generating one', async () => {
    const token = new FakeToken();
    const km = await open(token);
    await km.createKey('pref-13', { type: 'RSA', bits: 2048 });
    await expect(km.createKey('pref-13', { type: 'RSA', bits: 2048 })).rejects.toMatchObject({ code: 'KMS_KEY_EXISTS', kind: 'conflict' });
    expect(token.generated).toHaveLength(1);
  });

  it('translates token failures into KmsErrors that name the CKR value', async () => {
    const token = new FakeToken();
    const km = await open(token);
    const { uri } = await km.createKey('k', { type: 'RSA', bits: 2048 });
    const signer = await km.getSigner(uri);
    token.signError = Object.assign(new Error('CKR_DEVICE_ERROR'), { method: 'C_Sign' });
    const e = await signer.sign(Buffer.from('x')).catch((err: unknown) => err);
    expect(isKmsError(e, 'KMS_TOKEN_ERROR') && e.kind).toBe('unavailable');
    expect((e as Error).message).toBe('the token failed: CKR_DEVICE_ERROR, signing (C_Sign) on token fake');
    expect(tokenError(new Error('CKR_PIN_LOCKED'), 'logging in')).toMatchObject({ code: 'KMS_PIN_LOCKED', kind: 'locked' });
    await expect(km.createKey('ec', { type: 'EC', curve: 'P-256' })).rejects.toMatchObject({ code: 'KMS_MECHANISM_UNSUPPORTED' });
  });

  it('closes the token once, and signers fail afterwards', async () => {
    const token = new FakeToken();
    const km = await open(token);
    const signer = await km.getSigner((await km.createKey('k', { type: 'RSA', bits: 2048 })).uri);
    await km.close();
    await km.close();
    expect(token.closed).toBe(1);
    await expect(signer.sign(Buffer.from('x'))).rejects.toMatchObject({ code: 'KMS_CLOSED' });
  });
});
