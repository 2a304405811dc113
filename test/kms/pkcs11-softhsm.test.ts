/**
 * The PKCS#11 key store on a real SoftHSM2 token (created in a temp dir by test/support/softhsm.ts).
 * Outside CI a machine without SoftHSM2 skips this file with the reason; under CI=true that is a failure.
 */
import { execFile } from 'node:child_process';
import { createHmac, createPublicKey, verify } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasKeyAttributes, hasKeyDeleter, hasSecretKeys, isKmsError, openKeyManager, parsePkcs11Uri, type KeyManager, type KmsErrorCode } from '../../src/kms/index.js';
import { digestOf, type KeySpec, type SignatureAlgorithm } from '../../src/pki/signer.js';
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from '../support/softhsm.js';
import { commandExists, needs } from '../support/system.js';

const run = promisify(execFile);
const data = Buffer.from('tbsCertificate signed by the token');

async function codeOf(p: Promise<unknown>): Promise<KmsErrorCode | string> {
  try {
    await p;
  } catch (e) {
    return isKmsError(e) ? e.code : `not a KmsError: ${String(e)}`;
  }
  throw new Error('expected a rejection');
}

const spki = (der: Uint8Array) => createPublicKey({ key: Buffer.from(der), format: 'der', type: 'spki' });

describe.runIf(needs('SoftHSM2', softHsmAvailable()))('PKCS#11 key store on SoftHSM2', () => {
  let token: SoftHsmToken;
  let other: SoftHsmToken;
  let km: KeyManager;
  const config = () => ({ type: 'pkcs11' as const, module: token.module, token: token.label, pin: token.pin });

  beforeAll(async () => {
    // Both tokens exist before the module is first initialised (SoftHSM scans its directory then).
    token = await createSoftHsmToken('jpki-kms-test');
    other = await createSoftHsmToken('jpki-kms-other');
    km = await openKeyManager(config());
  });
  afterAll(async () => {
    await km?.close();
    await token?.cleanup();
    await other?.cleanup();
  });

  const cases: [string, KeySpec, SignatureAlgorithm][] = [
    ['pref-13', { type: 'RSA', bits: 2048 }, 'RSA-SHA256'],
    ['bridge-p256', { type: 'EC', curve: 'P-256' }, 'ECDSA-SHA256'],
    ['bridge-p384', { type: 'EC', curve: 'P-384' }, 'ECDSA-SHA384'],
  ];
  const uris = new Map<string, { uri: string; publicKey: Uint8Array }>();

  it('generates RSA and EC keys on the token and signs with them (verified by node:crypto)', async () => {
    for (const [label, spec, alg] of cases) {
      const created = await km.createKey(label, spec);
      uris.set(label, created);
      expect(created.uri).toMatch(new RegExp(`^pkcs11:token=jpki-kms-test;object=${label};id=(%[0-9A-F]{2}){16}$`));
      expect(Buffer.from(await km.getPublicKey(created.uri))).toEqual(Buffer.from(created.publicKey));
      const signer = await km.getSigner(created.uri);
      expect(signer.algorithm).toBe(alg);
      const sig = await signer.sign(data);
      expect(verify(digestOf(alg), data, spki(created.publicKey), sig)).toBe(true);
      expect(verify(digestOf(alg), Buffer.from('other data'), spki(created.publicKey), sig)).toBe(false);
    }
  });

  it('signs RSA with SHA-384 and SHA-512 mechanisms and P-256 with SHA-384', async () => {
    const rsa = uris.get('pref-13')!;
    for (const alg of ['RSA-SHA384', 'RSA-SHA512'] as const) {
      const s = await km.getSigner(rsa.uri, alg);
      expect(verify(digestOf(alg), data, spki(rsa.publicKey), await s.sign(data))).toBe(true);
    }
    const ec = uris.get('bridge-p256')!;
    const s = await km.getSigner(ec.uri, 'ECDSA-SHA384');
    expect(verify('sha384', data, spki(ec.publicKey), await s.sign(data))).toBe(true);
    expect(await codeOf(km.getSigner(ec.uri, 'RSA-SHA256'))).toBe('KMS_ALGORITHM_MISMATCH');
  });

  it('keeps more signatures in flight than it has sessions', async () => {
    for (const label of ['pref-13', 'bridge-p256']) {
      const { uri, publicKey } = uris.get(label)!;
      const signer = await km.getSigner(uri);
      const inputs = Array.from({ length: 40 }, (_, i) => Buffer.from(`tbs ${label} #${i}`));
      const sigs = await Promise.all(inputs.map((d) => signer.sign(d)));
      sigs.forEach((sig, i) => expect(verify('sha256', inputs[i]!, spki(publicKey), sig)).toBe(true));
    }
  });

  it('the token reports the private keys as sensitive and never extractable', async () => {
    if (!hasKeyAttributes(km)) throw new Error('the PKCS#11 store must implement describeKey');
    expect(await km.describeKey(uris.get('pref-13')!.uri)).toEqual({
      keyType: 'RSA',
      bits: 2048,
      extractable: false,
      sensitive: true,
      neverExtractable: true,
      alwaysSensitive: true,
      onToken: true,
    });
    expect(await km.describeKey(uris.get('bridge-p384')!.uri)).toMatchObject({ keyType: 'EC', curve: 'P-384', bits: 384, extractable: false, sensitive: true });
  });

  it('keeps the card issuer secret on the token: HMAC computed there, the value never readable (pkcs11-tool says so)', async () => {
    if (!hasSecretKeys(km)) throw new Error('the PKCS#11 store must implement SecretKeys');
    // imported once (an installation that kept the master key in a file), then only used through HMAC
    const value = Buffer.alloc(32, 0x5c);
    const imported = await km.createSecret('card-issuer-imported', value);
    expect(imported).toBe('pkcs11:token=jpki-kms-test;object=card-issuer-imported;type=secret-key');
    expect(await km.hmacSha256(imported, data)).toEqual(createHmac('sha256', value).update(data).digest());
    // generated on the token: same interface, a different secret
    const generated = await km.createSecret('card-issuer');
    expect(await km.findSecret('card-issuer')).toBe(generated);
    expect(await km.hmacSha256(generated, data)).not.toEqual(await km.hmacSha256(imported, data));
    expect(await codeOf(km.createSecret('card-issuer'))).toBe('KMS_KEY_EXISTS');
    expect(await km.findSecret('no-such-secret')).toBeUndefined();
    if (!needs('pkcs11-tool (OpenSC)', commandExists('pkcs11-tool'))) return;
    const listed = await run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', token.pin, '--list-objects', '--type', 'secrkey']);
    const block = listed.stdout.split(/\n(?=Secret Key Object)/).find((b) => b.includes('label:      card-issuer\n') || /label:\s+card-issuer$/m.test(b))!;
    expect(block).toMatch(/Access:.*sensitive/);
    expect(block).toMatch(/never extractable/);
    await expect(run('pkcs11-tool', ['--module', token.module, '--token-label', token.label, '--login', '--pin', token.pin, '--read-object', '--type', 'secrkey', '--label', 'card-issuer'])).rejects.toBeDefined();
  });

  it.runIf(needs('openssl', commandExists('openssl')))('makes signatures that openssl dgst -verify accepts', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jpki-kms-openssl-'));
    try {
      await writeFile(join(dir, 'data'), data);
      await writeFile(join(dir, 'other'), 'not the data');
      for (const label of ['pref-13', 'bridge-p256']) {
        const { uri, publicKey } = uris.get(label)!;
        await writeFile(join(dir, 'pub.pem'), spki(publicKey).export({ type: 'spki', format: 'pem' }));
        await writeFile(join(dir, 'sig'), await (await km.getSigner(uri)).sign(data));
        const args = (file: string) => ['dgst', '-sha256', '-verify', join(dir, 'pub.pem'), '-signature', join(dir, 'sig'), join(dir, file)];
        const ok = await run('openssl', args('data'));
        expect(ok.stdout.trim()).toBe('Verified OK');
        await expect(run('openssl', args('other'))).rejects.toMatchObject({ stdout: expect.stringContaining('Verification failure') });
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a duplicate label and names unknown or foreign keys precisely', async () => {
    expect(await codeOf(km.createKey('pref-13', { type: 'EC', curve: 'P-256' }))).toBe('KMS_KEY_EXISTS');
    const { uri } = uris.get('pref-13')!;
    expect(await codeOf(km.getSigner(uri.replace('object=pref-13', 'object=pref-99')))).toBe('KMS_KEY_NOT_FOUND');
    expect(await codeOf(km.getSigner('pkcs11:token=jpki-kms-test;object=nothing-here'))).toBe('KMS_KEY_NOT_FOUND');
    expect(await codeOf(km.getSigner(uri.replace('token=jpki-kms-test', 'token=jpki-kms-other')))).toBe('KMS_WRONG_TOKEN');
    const soft = await km.getSigner('soft:pref-13').catch((e: unknown) => e);
    expect(isKmsError(soft, 'KMS_URI_SCHEME_MISMATCH')).toBe(true);
    expect((soft as Error).message).toContain('soft key store');
  });

  it('finds a key by object label alone or by id alone', async () => {
    const { uri, publicKey } = uris.get('bridge-p256')!;
    const { id } = parsePkcs11Uri(uri);
    const idHex = [...id!].map((b) => '%' + b.toString(16).padStart(2, '0')).join('');
    for (const u of ['pkcs11:object=bridge-p256', `pkcs11:id=${idHex}`, `pkcs11:token=jpki-kms-test;id=${idHex};type=private`])
      expect(Buffer.from(await km.getPublicKey(u))).toEqual(Buffer.from(publicKey));
  });

  it('keeps keys on the token: a fresh key manager finds and uses them', async () => {
    const { uri, publicKey } = uris.get('pref-13')!;
    const signer = await km.getSigner(uri);
    await km.close();
    expect(await codeOf(signer.sign(data))).toBe('KMS_CLOSED');
    km = await openKeyManager(config());
    expect(Buffer.from(await km.getPublicKey(uri))).toEqual(Buffer.from(publicKey));
    const again = await km.getSigner(uri);
    expect(verify('sha256', data, spki(publicKey), await again.sign(data))).toBe(true);
  });

  it('lets two key managers share the module; closing one leaves the other working', async () => {
    const second = await openKeyManager({ ...config(), token: other.label, pin: other.pin });
    const third = await openKeyManager(config());
    const k = await second.createKey('on-other', { type: 'EC', curve: 'P-256' });
    await third.close();
    await second.close();
    // km (opened first) still has its sessions, login and an initialised module.
    const { uri, publicKey } = uris.get('bridge-p256')!;
    expect(verify('sha256', data, spki(publicKey), await (await km.getSigner(uri)).sign(data))).toBe(true);
    expect(await codeOf(km.getSigner(k.uri))).toBe('KMS_WRONG_TOKEN');
  });

  it('refuses a wrong PIN, whether or not this process is already logged in', async () => {
    // Logged in already (km is open): C_Login would say CKR_USER_ALREADY_LOGGED_IN, so the store checks itself.
    const open = await openKeyManager({ ...config(), pin: 'wrong-pin' }).catch((e: unknown) => e);
    expect(isKmsError(open, 'KMS_PIN_INCORRECT') && open.kind).toBe('unauthenticated');
    // Not logged in: the token itself refuses (CKR_PIN_INCORRECT).
    const fresh = await openKeyManager({ ...config(), token: other.label, pin: 'wrong-pin' }).catch((e: unknown) => e);
    expect(isKmsError(fresh, 'KMS_PIN_INCORRECT') && fresh.kind).toBe('unauthenticated');
    expect((fresh as Error).message).toContain('CKR_PIN_INCORRECT');
    // The failures left nothing behind: the right PIN still works on both tokens.
    const ok = await openKeyManager({ ...config(), token: other.label, pin: other.pin });
    await ok.close();
  });

  it('names a missing token and a missing module', async () => {
    const t = await openKeyManager({ ...config(), token: 'no-such-token' }).catch((e: unknown) => e);
    expect(isKmsError(t, 'KMS_TOKEN_NOT_FOUND')).toBe(true);
    expect((t as Error).message).toContain('"jpki-kms-test"');
    expect(await codeOf(openKeyManager({ ...config(), module: '/nonexistent/libpkcs11.so' }))).toBe('KMS_PKCS11_MODULE_MISSING');
    expect(await codeOf(openKeyManager({ ...config(), pin: '' }))).toBe('KMS_CONFIG_INVALID');
  });

  it('deletes a key pair from the token', async () => {
    if (!hasKeyDeleter(km)) throw new Error('the PKCS#11 store must implement deleteKey');
    const { uri } = await km.createKey('short-lived', { type: 'EC', curve: 'P-256' });
    await km.deleteKey(uri);
    expect(await codeOf(km.getSigner(uri))).toBe('KMS_KEY_NOT_FOUND');
    // The label is free again.
    const again = await km.createKey('short-lived', { type: 'EC', curve: 'P-256' });
    expect(again.uri).not.toBe(uri);
  });
});
