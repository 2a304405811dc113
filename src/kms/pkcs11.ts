/**
 * The PKCS#11 key store: key pairs generated on the token (private half CKA_SENSITIVE, never extractable),
 * named `pkcs11:token=<token>;object=<label>;id=%xx…` (RFC 7512; the URI names the pair, both halves share
 * CKA_ID and CKA_LABEL). Talks to the token only through the Pkcs11Token wrapper.
 *
 * Signing: RSA with CKM_SHA{256,384,512}_RSA_PKCS on the token. ECDSA hashes in node:crypto and signs the digest
 * with CKM_ECDSA (SoftHSM 2.6 has no CKM_ECDSA_SHA256), then turns the token's r‖s into DER.
 */
import { createHash, randomBytes } from 'node:crypto';
import { endianness } from 'node:os';
import pkcs11js from 'pkcs11js';
import { digestOf, type KeySpec, type SignatureAlgorithm, type Signer } from '../pki/signer.js';
import { closedError, KmsError } from './errors.js';
import type { KeyAttributes, KeyDeleter, KeyDescription, KeyManager, SecretKeys } from './index.js';
import { checkKeySpec, chooseAlgorithm, CURVES, curveOfParams, ecdsaRawToDer, ecParams, ecSpki, rsaSpki } from './keys.js';
import { openPkcs11Token, type Handle, type OpenPkcs11Token, type Pkcs11Token, type Template } from './pkcs11-session.js';
import { checkLabel, formatPkcs11Uri, parsePkcs11Uri } from './uri.js';

const P = pkcs11js;

export interface Pkcs11KmsConfig {
  module: string;
  token: string;
  pin: string;
  sessions?: number;
}

/** `openToken` is the seam for unit tests: pass a fake Pkcs11Token factory. */
export async function openPkcs11KeyManager(config: Pkcs11KmsConfig, openToken: OpenPkcs11Token = openPkcs11Token): Promise<Pkcs11KeyManager> {
  for (const field of ['module', 'token', 'pin'] as const)
    if (typeof config[field] !== 'string' || config[field] === '')
      throw new KmsError('KMS_CONFIG_INVALID', 'malformed', `the pkcs11 key store needs ${field} (a non-empty string)`);
  const token = await openToken({ module: config.module, token: config.token, pin: config.pin, sessions: config.sessions });
  return new Pkcs11KeyManager(token);
}

const RSA_MECHANISMS: Partial<Record<SignatureAlgorithm, number>> = {
  'RSA-SHA256': P.CKM_SHA256_RSA_PKCS,
  'RSA-SHA384': P.CKM_SHA384_RSA_PKCS,
  'RSA-SHA512': P.CKM_SHA512_RSA_PKCS,
};

interface TokenKey {
  uri: string;
  privateKey: Handle;
  publicKey?: Handle;
  spec: KeySpec;
  spki: Buffer;
}

const bool = (b: Buffer | undefined) => b !== undefined && b.length > 0 && b[0] !== 0;

/** CK_ULONG in the platform's byte order (4 or 8 bytes). */
function ulong(b: Buffer | undefined): number {
  if (!b || (b.length !== 4 && b.length !== 8)) return -1;
  const le = endianness() === 'LE';
  return b.length === 8 ? Number(le ? b.readBigUInt64LE() : b.readBigUInt64BE()) : le ? b.readUInt32LE() : b.readUInt32BE();
}

class Pkcs11Signer implements Signer {
  private readonly mechanism: number;
  private readonly digest: string;
  private readonly maxLength: number;
  private readonly ecdsa: boolean;

  constructor(
    readonly algorithm: SignatureAlgorithm,
    readonly publicKey: Uint8Array,
    private readonly token: Pkcs11Token,
    private readonly key: Handle,
    spec: KeySpec,
    private readonly manager: Pkcs11KeyManager,
  ) {
    this.ecdsa = spec.type === 'EC';
    this.mechanism = this.ecdsa ? P.CKM_ECDSA : RSA_MECHANISMS[algorithm]!;
    this.digest = digestOf(algorithm);
    this.maxLength = spec.type === 'EC' ? 2 * CURVES[spec.curve].fieldBytes : spec.bits / 8;
  }

  sign(data: Uint8Array): Promise<Uint8Array> {
    if (this.manager.closed) return Promise.reject(closedError());
    if (!this.ecdsa) return this.token.sign({ mechanism: this.mechanism }, this.key, Buffer.from(data.buffer, data.byteOffset, data.byteLength), this.maxLength);
    const hash = createHash(this.digest).update(data).digest();
    return this.token.sign({ mechanism: this.mechanism }, this.key, hash, this.maxLength).then(ecdsaRawToDer);
  }
}

export class Pkcs11KeyManager implements KeyManager, KeyAttributes, KeyDeleter, SecretKeys {
  closed = false;
  private readonly keys = new Map<string, Promise<TokenKey>>();
  private readonly creating = new Set<string>();

  constructor(private readonly token: Pkcs11Token) {}

  private live(): void {
    if (this.closed) throw closedError();
  }

  private async keysLabelled(label: string): Promise<Handle[]> {
    const [priv, pub] = await Promise.all([
      this.token.findObjects([{ type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY }, { type: P.CKA_LABEL, value: label }]),
      this.token.findObjects([{ type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY }, { type: P.CKA_LABEL, value: label }]),
    ]);
    return [...priv, ...pub];
  }

  async createKey(label: string, spec: KeySpec): Promise<{ uri: string; publicKey: Uint8Array }> {
    this.live();
    checkLabel(label);
    checkKeySpec(spec);
    const exists = () =>
      new KmsError('KMS_KEY_EXISTS', 'conflict', `token ${this.token.label} already holds a key labelled ${label}`, { label, token: this.token.label });
    if (this.creating.has(label)) throw exists();
    this.creating.add(label);
    try {
      if ((await this.keysLabelled(label)).length > 0) throw exists();
      const id = randomBytes(16);
      const keyType = spec.type === 'RSA' ? P.CKK_RSA : P.CKK_EC;
      const both: Template = [
        { type: P.CKA_KEY_TYPE, value: keyType },
        { type: P.CKA_TOKEN, value: true },
        { type: P.CKA_ID, value: id },
        { type: P.CKA_LABEL, value: label },
      ];
      const publicTemplate: Template = [
        { type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY },
        ...both,
        { type: P.CKA_PRIVATE, value: false },
        { type: P.CKA_VERIFY, value: true },
        { type: P.CKA_ENCRYPT, value: false },
        { type: P.CKA_WRAP, value: false },
        ...(spec.type === 'RSA'
          ? [
              { type: P.CKA_MODULUS_BITS, value: spec.bits },
              { type: P.CKA_PUBLIC_EXPONENT, value: Buffer.from([1, 0, 1]) },
            ]
          : [{ type: P.CKA_EC_PARAMS, value: ecParams(spec.curve) }]),
      ];
      // A CA key signs and does nothing else; it never leaves the token in any form.
      const privateTemplate: Template = [
        { type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY },
        ...both,
        { type: P.CKA_PRIVATE, value: true },
        { type: P.CKA_SENSITIVE, value: true },
        { type: P.CKA_EXTRACTABLE, value: false },
        { type: P.CKA_SIGN, value: true },
        { type: P.CKA_DECRYPT, value: false },
        { type: P.CKA_UNWRAP, value: false },
        { type: P.CKA_DERIVE, value: false },
      ];
      const mechanism = spec.type === 'RSA' ? P.CKM_RSA_PKCS_KEY_PAIR_GEN : P.CKM_EC_KEY_PAIR_GEN;
      const pair = await this.token.generateKeyPair({ mechanism }, publicTemplate, privateTemplate);
      const spki = await this.publicSpki(pair.publicKey, spec.type);
      const uri = formatPkcs11Uri({ token: this.token.label, object: label, id });
      this.keys.set(uri, Promise.resolve({ uri, privateKey: pair.privateKey, publicKey: pair.publicKey, spec: spki.spec, spki: spki.der }));
      return { uri, publicKey: new Uint8Array(spki.der) };
    } finally {
      this.creating.delete(label);
    }
  }

  /** SPKI and spec from a public key object (or, for RSA, a private key object: modulus and exponent are public attributes). */
  private async publicSpki(object: Handle, type: 'RSA' | 'EC'): Promise<{ der: Buffer; spec: KeySpec }> {
    if (type === 'RSA') {
      const a = await this.token.getAttributes(object, [P.CKA_MODULUS, P.CKA_PUBLIC_EXPONENT]);
      const der = rsaSpki(a.get(P.CKA_MODULUS)!, a.get(P.CKA_PUBLIC_EXPONENT)!);
      const n = a.get(P.CKA_MODULUS)!;
      let bits = n.length * 8;
      for (let i = 0; i < n.length && n[i] === 0; i++) bits -= 8;
      return { der, spec: checkKeySpec({ type: 'RSA', bits: bits as 2048 }) };
    }
    const a = await this.token.getAttributes(object, [P.CKA_EC_PARAMS, P.CKA_EC_POINT]);
    const curve = curveOfParams(a.get(P.CKA_EC_PARAMS)!);
    if (!curve) throw new KmsError('KMS_KEY_SPEC_UNSUPPORTED', 'malformed', `token ${this.token.label}: the key's EC curve is not P-256 or P-384`);
    return { der: ecSpki(curve, a.get(P.CKA_EC_POINT)!), spec: { type: 'EC', curve } };
  }

  /** The key pair a URI names, cached per URI string. */
  private resolve(uri: string): Promise<TokenKey> {
    this.live();
    let k = this.keys.get(uri);
    if (!k) {
      k = this.lookup(uri);
      this.keys.set(uri, k);
      k.catch(() => this.keys.delete(uri));
    }
    return k;
  }

  private async lookup(uri: string): Promise<TokenKey> {
    const u = parsePkcs11Uri(uri);
    if (u.token !== undefined && u.token !== this.token.label)
      throw new KmsError('KMS_WRONG_TOKEN', 'malformed', `key ${uri} is on token ${u.token}, but this key manager opened token ${this.token.label}`, {
        uri,
        token: u.token,
      });
    if (u.type !== undefined && u.type !== 'private' && u.type !== 'public')
      throw new KmsError('KMS_URI_INVALID', 'malformed', `key URI ${uri} names a ${u.type} object, not a key`, { uri });
    const match = (cls: number, id = u.id): Template => [
      { type: P.CKA_CLASS, value: cls },
      ...(id !== undefined ? [{ type: P.CKA_ID, value: Buffer.from(id) }] : []),
      ...(u.object !== undefined ? [{ type: P.CKA_LABEL, value: u.object }] : []),
    ];
    const privs = await this.token.findObjects(match(P.CKO_PRIVATE_KEY), 2);
    if (privs.length === 0) throw new KmsError('KMS_KEY_NOT_FOUND', 'not-found', `no private key ${uri} on token ${this.token.label}`, { uri });
    if (privs.length > 1) throw new KmsError('KMS_KEY_AMBIGUOUS', 'conflict', `several private keys on token ${this.token.label} match ${uri}; add id=`, { uri });
    const privateKey = privs[0]!;
    const a = await this.token.getAttributes(privateKey, [P.CKA_KEY_TYPE, P.CKA_ID]);
    const keyType = ulong(a.get(P.CKA_KEY_TYPE));
    const type = keyType === P.CKK_RSA ? 'RSA' : keyType === P.CKK_EC ? 'EC' : undefined;
    if (!type) throw new KmsError('KMS_KEY_SPEC_UNSUPPORTED', 'malformed', `key ${uri} is neither RSA nor EC (CKA_KEY_TYPE ${keyType})`, { uri });
    // The public half is the object with the private key's own CKA_ID (the PKCS#11 pairing convention).
    const pubs = await this.token.findObjects(match(P.CKO_PUBLIC_KEY, a.get(P.CKA_ID) ?? u.id), 2);
    const publicKey = pubs.length === 1 ? pubs[0] : undefined;
    if (!publicKey && type === 'EC')
      throw new KmsError('KMS_KEY_NOT_FOUND', 'not-found', `token ${this.token.label} holds no single public key object for ${uri}`, { uri });
    const { der, spec } = await this.publicSpki(publicKey ?? privateKey, type);
    return { uri, privateKey, ...(publicKey ? { publicKey } : {}), spec, spki: der };
  }

  async getPublicKey(uri: string): Promise<Uint8Array> {
    return new Uint8Array((await this.resolve(uri)).spki);
  }

  async getSigner(uri: string, algorithm?: SignatureAlgorithm): Promise<Signer> {
    const k = await this.resolve(uri);
    const alg = chooseAlgorithm(k.spec, uri, algorithm);
    return new Pkcs11Signer(alg, new Uint8Array(k.spki), this.token, k.privateKey, k.spec, this);
  }

  /** Read from the token itself: what the CA shows as "the token reports the key as non-extractable". */
  async describeKey(uri: string): Promise<KeyDescription> {
    const k = await this.resolve(uri);
    const a = await this.token.getAttributes(k.privateKey, [
      P.CKA_EXTRACTABLE,
      P.CKA_SENSITIVE,
      P.CKA_NEVER_EXTRACTABLE,
      P.CKA_ALWAYS_SENSITIVE,
      P.CKA_TOKEN,
    ]);
    return {
      keyType: k.spec.type,
      bits: k.spec.type === 'RSA' ? k.spec.bits : CURVES[k.spec.curve].bits,
      ...(k.spec.type === 'EC' ? { curve: k.spec.curve } : {}),
      extractable: bool(a.get(P.CKA_EXTRACTABLE)),
      sensitive: bool(a.get(P.CKA_SENSITIVE)),
      neverExtractable: bool(a.get(P.CKA_NEVER_EXTRACTABLE)),
      alwaysSensitive: bool(a.get(P.CKA_ALWAYS_SENSITIVE)),
      onToken: bool(a.get(P.CKA_TOKEN)),
    };
  }

  async deleteKey(uri: string): Promise<void> {
    const k = await this.resolve(uri);
    // Forget every cached URI that points at this pair, not only the spelling used here.
    for (const [u, p] of this.keys) if ((await p.catch(() => undefined))?.privateKey.equals(k.privateKey)) this.keys.delete(u);
    await this.token.destroyObject(k.privateKey);
    if (k.publicKey) await this.token.destroyObject(k.publicKey);
  }

  // ---- secret keys (SecretKeys): CKK_GENERIC_SECRET, HMAC on the token --------------------------------

  private async secretsLabelled(label: string): Promise<Handle[]> {
    return this.token.findObjects([{ type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }, { type: P.CKA_LABEL, value: label }], 2);
  }

  async findSecret(label: string): Promise<string | undefined> {
    this.live();
    checkLabel(label);
    const found = await this.secretsLabelled(label);
    return found.length ? formatPkcs11Uri({ token: this.token.label, object: label, type: 'secret-key' }) : undefined;
  }

  async createSecret(label: string, value?: Uint8Array): Promise<string> {
    this.live();
    checkLabel(label);
    if (value !== undefined && value.length !== 32) throw new KmsError('KMS_KEY_SPEC_UNSUPPORTED', 'malformed', `a secret key is 32 bytes, not ${value.length}`);
    if ((await this.secretsLabelled(label)).length)
      throw new KmsError('KMS_KEY_EXISTS', 'conflict', `token ${this.token.label} already holds a secret labelled ${label}`, { label, token: this.token.label });
    // Used for HMAC and nothing else; never leaves the token in any form.
    const template: Template = [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_LABEL, value: label },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_SIGN, value: true },
      { type: P.CKA_VERIFY, value: true },
      { type: P.CKA_ENCRYPT, value: false },
      { type: P.CKA_DECRYPT, value: false },
      { type: P.CKA_WRAP, value: false },
      { type: P.CKA_UNWRAP, value: false },
      { type: P.CKA_DERIVE, value: false },
    ];
    if (value) await this.token.createObject([...template, { type: P.CKA_VALUE, value: Buffer.from(value) }]);
    else await this.token.generateKey({ mechanism: P.CKM_GENERIC_SECRET_KEY_GEN }, [...template, { type: P.CKA_VALUE_LEN, value: 32 }]);
    return formatPkcs11Uri({ token: this.token.label, object: label, type: 'secret-key' });
  }

  async hmacSha256(uri: string, data: Uint8Array): Promise<Buffer> {
    this.live();
    const u = parsePkcs11Uri(uri);
    if (u.type !== 'secret-key' || u.object === undefined) throw new KmsError('KMS_URI_INVALID', 'malformed', `${uri} does not name a secret key (type=secret-key;object=…)`, { uri });
    const found = await this.secretsLabelled(u.object);
    if (found.length === 0) throw new KmsError('KMS_KEY_NOT_FOUND', 'not-found', `no secret key ${uri} on token ${this.token.label}`, { uri });
    if (found.length > 1) throw new KmsError('KMS_KEY_AMBIGUOUS', 'conflict', `several secret keys on token ${this.token.label} match ${uri}`, { uri });
    return this.token.sign({ mechanism: P.CKM_SHA256_HMAC }, found[0]!, Buffer.from(data), 32);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.keys.clear();
    await this.token.close();
  }
}
