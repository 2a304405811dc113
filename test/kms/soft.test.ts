import { createPrivateKey, createPublicKey, verify, type KeyObject } from 'node:crypto';
import { chmod, copyFile, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hasKeyAttributes, hasKeyDeleter, isKmsError, openKeyManager, type KeyManager, type KmsErrorCode } from '../../src/kms/index.js';
import { digestOf } from '../../src/pki/signer.js';

const dirs: string[] = [];
async function freshDir(): Promise<string> {
  const d = await mkdtemp(join(tmpdir(), 'jpki-kms-soft-'));
  dirs.push(d);
  return d;
}
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

/** Resolves to the KmsError code a promise rejects with (fails the test if it resolves). */
async function codeOf(p: Promise<unknown>): Promise<KmsErrorCode | string> {
  try {
    await p;
  } catch (e) {
    return isKmsError(e) ? e.code : `not a KmsError: ${String(e)}`;
  }
  throw new Error('expected a rejection');
}

const data = Buffer.from('tbsCertificate of 東京都知事 CA');

let savedEnv: string | undefined;
beforeEach(() => {
  savedEnv = process.env.JPKI_KEY_PASSPHRASE;
  delete process.env.JPKI_KEY_PASSPHRASE;
});
afterEach(() => {
  if (savedEnv === undefined) delete process.env.JPKI_KEY_PASSPHRASE;
  else process.env.JPKI_KEY_PASSPHRASE = savedEnv;
});

describe('software key store', () => {
  it('creates RSA and EC keys whose signatures verify with node:crypto', async () => {
    const km = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'correct horse battery staple' });
    for (const [label, spec, alg] of [
      ['pref-13', { type: 'RSA', bits: 2048 }, 'RSA-SHA256'],
      ['bridge-p256', { type: 'EC', curve: 'P-256' }, 'ECDSA-SHA256'],
      ['bridge-p384', { type: 'EC', curve: 'P-384' }, 'ECDSA-SHA384'],
    ] as const) {
      const { uri, publicKey } = await km.createKey(label, spec);
      expect(uri).toBe(`soft:${label}`);
      expect(Buffer.from(await km.getPublicKey(uri))).toEqual(Buffer.from(publicKey));
      const signer = await km.getSigner(uri);
      expect(signer.algorithm).toBe(alg);
      expect(Buffer.from(signer.publicKey)).toEqual(Buffer.from(publicKey));
      const pub = createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
      const sig = await signer.sign(data);
      // ECDSA must come out as DER (X.509 form), which is node's default dsaEncoding for verify.
      expect(verify(digestOf(alg), data, pub, sig)).toBe(true);
      expect(verify(digestOf(alg), Buffer.from('tampered'), pub, sig)).toBe(false);
      if (spec.type === 'EC') expect(sig[0]).toBe(0x30);
    }
    await km.close();
  });

  it('signs with a chosen algorithm and refuses one that does not fit the key', async () => {
    const km = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'p' });
    const { uri, publicKey } = await km.createKey('ca', { type: 'RSA', bits: 2048 });
    const pub = createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
    for (const alg of ['RSA-SHA384', 'RSA-SHA512'] as const) {
      const s = await km.getSigner(uri, alg);
      expect(s.algorithm).toBe(alg);
      expect(verify(digestOf(alg), data, pub, await s.sign(data))).toBe(true);
    }
    expect(await codeOf(km.getSigner(uri, 'ECDSA-SHA256'))).toBe('KMS_ALGORITHM_MISMATCH');
    await km.close();
  });

  it('keeps many signatures in flight on one signer', async () => {
    const km = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'p' });
    const { uri, publicKey } = await km.createKey('ca', { type: 'EC', curve: 'P-256' });
    const signer = await km.getSigner(uri);
    const pub = createPublicKey({ key: Buffer.from(publicKey), format: 'der', type: 'spki' });
    const inputs = Array.from({ length: 64 }, (_, i) => Buffer.from(`tbs #${i}`));
    const sigs = await Promise.all(inputs.map((d) => signer.sign(d)));
    sigs.forEach((sig, i) => expect(verify('sha256', inputs[i]!, pub, sig)).toBe(true));
    await km.close();
  });

  it('stores the private key encrypted, mode 0600, with no plaintext key material', async () => {
    const dir = await freshDir();
    const km = await openKeyManager({ type: 'soft', dir, passphrase: 'secret passphrase' });
    const { uri } = await km.createKey('pref-27', { type: 'RSA', bits: 2048 });
    const file = join(dir, 'pref-27.key');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    // No temp file is left behind by the atomic write.
    expect((await readdir(dir)).sort()).toEqual(['pref-27.key']);

    // The in-memory key, to look for its pieces in the file.
    const key = Reflect.get(await km.getSigner(uri), 'key') as KeyObject;
    const jwk = key.export({ format: 'jwk' });
    const pkcs8 = key.export({ type: 'pkcs8', format: 'der' });
    const bytes = await readFile(file);
    const text = bytes.toString('utf8');
    for (const secret of [jwk.d!, jwk.p!, jwk.q!, jwk.dp!].map((b64u) => Buffer.from(b64u, 'base64url'))) {
      for (const form of [secret, Buffer.from(secret.toString('hex')), Buffer.from(secret.toString('base64')), Buffer.from(secret.toString('base64url'))])
        expect(bytes.includes(form.subarray(0, 24))).toBe(false);
    }
    expect(bytes.includes(pkcs8.subarray(0, 64))).toBe(false);
    expect(text).not.toContain('PRIVATE KEY');
    // Neither node nor OpenSSL-style loaders can read it as a key.
    expect(() => createPrivateKey(text)).toThrow();
    expect(() => createPrivateKey({ key: bytes, format: 'der', type: 'pkcs8' })).toThrow();
    await km.close();

    // Without the passphrase it cannot be loaded; the public key stays readable.
    const wrong = await openKeyManager({ type: 'soft', dir, passphrase: 'not the passphrase' });
    const err = await wrong.getSigner(uri).catch((e: unknown) => e);
    expect(isKmsError(err, 'KMS_KEY_PASSPHRASE_WRONG') && err.kind).toBe('unauthenticated');
    expect((await wrong.getPublicKey(uri)).length).toBeGreaterThan(200);
    await wrong.close();

    // With it, a fresh manager loads and uses the key.
    const again = await openKeyManager({ type: 'soft', dir, passphrase: 'secret passphrase' });
    const s = await again.getSigner(uri);
    expect(verify('sha256', data, createPublicKey({ key: Buffer.from(s.publicKey), format: 'der', type: 'spki' }), await s.sign(data))).toBe(true);
    await again.close();
  });

  it('refuses an altered, renamed or foreign key file', async () => {
    const dir = await freshDir();
    const km = await openKeyManager({ type: 'soft', dir, passphrase: 'p' });
    await km.createKey('a', { type: 'EC', curve: 'P-256' });
    await km.createKey('b', { type: 'EC', curve: 'P-256' });
    await km.close();
    const rec = JSON.parse(await readFile(join(dir, 'a.key'), 'utf8'));

    // Ciphertext flipped: GCM refuses it (the passphrase check still passes, so it is reported as altered).
    const ct = Buffer.from(rec.encryptedKey, 'base64');
    ct[10]! ^= 1;
    await writeFile(join(dir, 'a.key'), JSON.stringify({ ...rec, encryptedKey: ct.toString('base64') }));
    // Public key swapped for b's: the additional data no longer matches.
    const recB = JSON.parse(await readFile(join(dir, 'b.key'), 'utf8'));
    await writeFile(join(dir, 'c.key'), JSON.stringify({ ...rec, label: 'c' }));
    await writeFile(join(dir, 'd.key'), JSON.stringify({ ...rec, label: 'd', publicKey: recB.publicKey }));
    await copyFile(join(dir, 'b.key'), join(dir, 'e.key'));
    await writeFile(join(dir, 'f.key'), 'not json');

    const km2 = await openKeyManager({ type: 'soft', dir, passphrase: 'p' });
    expect(await codeOf(km2.getSigner('soft:a'))).toBe('KMS_KEY_FILE_CORRUPT');
    expect(await codeOf(km2.getSigner('soft:c'))).toBe('KMS_KEY_FILE_CORRUPT'); // label bound into the ciphertext
    expect(await codeOf(km2.getSigner('soft:d'))).toBe('KMS_KEY_FILE_CORRUPT');
    expect(await codeOf(km2.getSigner('soft:e'))).toBe('KMS_KEY_FILE_CORRUPT'); // file holds label b
    expect(await codeOf(km2.getSigner('soft:f'))).toBe('KMS_KEY_FILE_CORRUPT');
    expect(await km2.getSigner('soft:b')).toBeTruthy();
    await km2.close();
  });

  it('refuses a duplicate label, also when two creations race', async () => {
    const dir = await freshDir();
    const km = await openKeyManager({ type: 'soft', dir, passphrase: 'p' });
    const first = await km.createKey('pref-01', { type: 'EC', curve: 'P-256' });
    expect(await codeOf(km.createKey('pref-01', { type: 'RSA', bits: 2048 }))).toBe('KMS_KEY_EXISTS');
    // The original key is untouched.
    expect(Buffer.from(await km.getPublicKey(first.uri))).toEqual(Buffer.from(first.publicKey));

    const other = await openKeyManager({ type: 'soft', dir, passphrase: 'p' });
    const results = await Promise.allSettled([
      km.createKey('pref-02', { type: 'EC', curve: 'P-256' }),
      other.createKey('pref-02', { type: 'EC', curve: 'P-256' }),
    ]);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    const rejected = results.find((r) => r.status === 'rejected') as PromiseRejectedResult;
    expect(isKmsError(rejected.reason, 'KMS_KEY_EXISTS')).toBe(true);
    await Promise.all([km.close(), other.close()]);
  });

  it('names unknown, foreign and malformed URIs and labels precisely', async () => {
    const km = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'p' });
    expect(await codeOf(km.getSigner('soft:nope'))).toBe('KMS_KEY_NOT_FOUND');
    expect(await codeOf(km.getPublicKey('soft:nope'))).toBe('KMS_KEY_NOT_FOUND');
    const foreign = await km.getSigner('pkcs11:token=jpki;object=pref-13;id=%01').catch((e: unknown) => e);
    expect(isKmsError(foreign, 'KMS_URI_SCHEME_MISMATCH')).toBe(true);
    expect((foreign as Error).message).toContain('pkcs11 key store');
    expect(await codeOf(km.getSigner('file:/etc/passwd'))).toBe('KMS_URI_INVALID');
    expect(await codeOf(km.getSigner('soft:../passphrase'))).toBe('KMS_URI_INVALID');
    expect(await codeOf(km.createKey('../escape', { type: 'EC', curve: 'P-256' }))).toBe('KMS_LABEL_INVALID');
    expect(await codeOf(km.createKey('x', { type: 'RSA', bits: 1024 } as never))).toBe('KMS_KEY_SPEC_UNSUPPORTED');
    await km.close();
    expect(await codeOf(openKeyManager({ type: 'hsm' } as never))).toBe('KMS_CONFIG_INVALID');
  });

  it('generates <dir>/passphrase once (0600) when no passphrase is configured, and refuses it when readable by others', async () => {
    const dir = await freshDir();
    const km = await openKeyManager({ type: 'soft', dir });
    const { uri } = await km.createKey('ca', { type: 'EC', curve: 'P-256' });
    await km.close();
    const pp = join(dir, 'passphrase');
    expect((await stat(pp)).mode & 0o777).toBe(0o600);
    const passphrase = (await readFile(pp, 'utf8')).trim();
    expect(Buffer.from(passphrase, 'base64url')).toHaveLength(32);

    const reopened = await openKeyManager({ type: 'soft', dir });
    await reopened.getSigner(uri);
    await reopened.close();
    expect((await readFile(pp, 'utf8')).trim()).toBe(passphrase);

    await chmod(pp, 0o644);
    expect(await codeOf(openKeyManager({ type: 'soft', dir }))).toBe('KMS_PASSPHRASE_FILE_INSECURE');
  });

  it('takes the passphrase from JPKI_KEY_PASSPHRASE and then writes no passphrase file', async () => {
    const dir = await freshDir();
    process.env.JPKI_KEY_PASSPHRASE = 'from the environment';
    const km = await openKeyManager({ type: 'soft', dir });
    const { uri } = await km.createKey('ca', { type: 'EC', curve: 'P-256' });
    await km.close();
    expect(await readdir(dir)).toEqual(['ca.key']);
    delete process.env.JPKI_KEY_PASSPHRASE;
    const explicit = await openKeyManager({ type: 'soft', dir, passphrase: 'from the environment' });
    await explicit.getSigner(uri);
    await explicit.close();
    // Without the variable the store falls back to a new generated passphrase, which does not open the key.
    const fallback = await openKeyManager({ type: 'soft', dir });
    expect(await codeOf(fallback.getSigner(uri))).toBe('KMS_KEY_PASSPHRASE_WRONG');
    await fallback.close();
  });

  it('describes and deletes keys, and stops signing once closed', async () => {
    const km: KeyManager = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'p' });
    const { uri } = await km.createKey('ca', { type: 'EC', curve: 'P-384' });
    const signer = await km.getSigner(uri);
    expect(hasKeyAttributes(km) && (await km.describeKey(uri))).toEqual({
      keyType: 'EC',
      bits: 384,
      curve: 'P-384',
      extractable: true,
      sensitive: false,
      neverExtractable: false,
      alwaysSensitive: false,
      onToken: false,
    });
    await km.close();
    expect(await codeOf(signer.sign(data))).toBe('KMS_CLOSED');
    expect(await codeOf(km.getSigner(uri))).toBe('KMS_CLOSED');

    const km2 = await openKeyManager({ type: 'soft', dir: await freshDir(), passphrase: 'p' });
    const k = await km2.createKey('gone', { type: 'EC', curve: 'P-256' });
    if (!hasKeyDeleter(km2)) throw new Error('soft store should delete');
    await km2.deleteKey(k.uri);
    expect(await codeOf(km2.getSigner(k.uri))).toBe('KMS_KEY_NOT_FOUND');
    await km2.close();
  });

  it("stretches a person's passphrase with scrypt 2^17, the store's own random passphrase file with 2^14, and opens both", async () => {
    const kdfOf = async (dir: string, label: string) => (JSON.parse(await readFile(join(dir, `${label}.key`), 'utf8')) as { kdf: { N: number; r: number; p: number } }).kdf;
    const chosenDir = await freshDir();
    const chosen = await openKeyManager({ type: 'soft', dir: chosenDir, passphrase: 'correct horse battery staple' });
    await chosen.createKey('chosen', { type: 'EC', curve: 'P-256' });
    await chosen.close();
    expect(await kdfOf(chosenDir, 'chosen')).toMatchObject({ N: 2 ** 17, r: 8, p: 1 });

    process.env.JPKI_KEY_PASSPHRASE = 'an operator typed this';
    const envDir = await freshDir();
    const fromEnv = await openKeyManager({ type: 'soft', dir: envDir });
    await fromEnv.createKey('env', { type: 'EC', curve: 'P-256' });
    await fromEnv.close();
    expect(await kdfOf(envDir, 'env')).toMatchObject({ N: 2 ** 17 });
    delete process.env.JPKI_KEY_PASSPHRASE;

    const genDir = await freshDir();
    const generated = await openKeyManager({ type: 'soft', dir: genDir });
    const { uri } = await generated.createKey('generated', { type: 'EC', curve: 'P-256' });
    await generated.close();
    expect((await readFile(join(genDir, 'passphrase'), 'utf8')).trim()).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(await kdfOf(genDir, 'generated')).toMatchObject({ N: 2 ** 14, r: 8, p: 1 });
    // a later process reads the passphrase file and signs with the key
    const again = await openKeyManager({ type: 'soft', dir: genDir });
    const signer = await again.getSigner(uri);
    const sig = await signer.sign(data);
    expect(verify('sha256', data, createPublicKey({ key: Buffer.from(signer.publicKey), format: 'der', type: 'spki' }), sig)).toBe(true);
    await again.close();
  });
});
