/**
 * Issue 11, the first start: the CLI sets the CA key pairs going before the key store opens, and the software
 * key store takes them in createKey instead of generating new ones.
 */
import { createPublicKey } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openKeyManager } from '../../src/kms/index.js';
import { KeyPairsAhead } from '../../src/kms/key-pairs-ahead.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

describe('key pairs generated ahead', () => {
  it('hands out each key pair once, only for its own spec', async () => {
    const ahead = new KeyPairsAhead({ type: 'EC', curve: 'P-256' }, 3, 2);
    expect(ahead.take({ type: 'EC', curve: 'P-384' })).toBeUndefined();
    expect(ahead.take({ type: 'RSA', bits: 2048 })).toBeUndefined();
    const keys = await Promise.all([ahead.take({ type: 'EC', curve: 'P-256' }), ahead.take({ type: 'EC', curve: 'P-256' }), ahead.take({ type: 'EC', curve: 'P-256' })]);
    expect(ahead.take({ type: 'EC', curve: 'P-256' })).toBeUndefined();
    const spkis = keys.map((k) => createPublicKey(k!).export({ type: 'spki', format: 'der' }).toString('hex'));
    expect(new Set(spkis).size).toBe(3);
    for (const k of keys) expect(k!.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('the software key store seals the key pair generated ahead, and generates its own once they run out', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'jpki-kms-ahead-'));
    dirs.push(dir);
    const ahead = new KeyPairsAhead({ type: 'RSA', bits: 2048 }, 1, 1);
    const expected = createPublicKey((await ahead['queue'][0])!).export({ type: 'spki', format: 'der' });
    const keys = await openKeyManager({ type: 'soft', dir, passphrase: 'test passphrase' }, ahead);
    try {
      const first = await keys.createKey('pref-13-test', { type: 'RSA', bits: 2048 });
      expect(Buffer.from(first.publicKey).equals(expected)).toBe(true);
      expect(ahead.remaining).toBe(0);
      const second = await keys.createKey('pref-01-test', { type: 'RSA', bits: 2048 });
      expect(Buffer.from(second.publicKey).equals(expected)).toBe(false);
      // sealed on disk like any other key: the file names the public key that was handed out
      const record = JSON.parse(await readFile(join(dir, 'pref-13-test.key'), 'utf8')) as { publicKey: string };
      expect(Buffer.from(record.publicKey, 'base64').equals(expected)).toBe(true);
    } finally {
      await keys.close();
    }
  });

  it('a discarded pool hands out nothing and starts no more; a key pair taken but not started fails', async () => {
    const ahead = new KeyPairsAhead({ type: 'RSA', bits: 2048 }, 3, 1);
    const first = ahead.take({ type: 'RSA', bits: 2048 })!; // under way in the one lane
    const third = (ahead.take({ type: 'RSA', bits: 2048 }), ahead.take({ type: 'RSA', bits: 2048 })!);
    ahead.discard();
    expect(ahead.remaining).toBe(0);
    expect(ahead.take({ type: 'RSA', bits: 2048 })).toBeUndefined();
    await expect(third).rejects.toThrow(/discarded/);
    expect((await first).asymmetricKeyType).toBe('rsa');
  });
});
