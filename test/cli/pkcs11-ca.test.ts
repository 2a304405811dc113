import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jpki } from '../support/cli.js';
import { openssl, opensslCsr } from '../support/installation.js';
import { needs } from '../support/system.js';
import { createSoftHsmToken, softHsmAvailable, type SoftHsmToken } from '../support/softhsm.js';
import { openKeyManager, hasKeyAttributes } from '../../src/kms/index.js';
import { openStore } from '../../src/store/index.js';

describe.runIf(needs('SoftHSM2 (softhsm2 package)', softHsmAvailable()))('CA keys on a PKCS#11 token (SoftHSM2)', () => {
  let token: SoftHsmToken;
  let dir: string;
  let data: string;
  let env: Record<string, string>;

  beforeAll(async () => {
    token = await createSoftHsmToken('jpki-ca-test');
    dir = mkdtempSync(join(tmpdir(), 'jpki-p11-'));
    data = join(dir, 'data');
    env = { SOFTHSM2_CONF: token.conf };
  });
  afterAll(async () => {
    rmSync(dir, { recursive: true, force: true });
    await token?.cleanup();
  });

  it('jpki init --kms pkcs11 generates every CA key on the token; issuance signs there; the token reports the keys non-extractable', async () => {
    const init = jpki(
      ['--data', data, 'init', '--kms', 'pkcs11', '--pkcs11-module', token.module, '--pkcs11-token', token.label, '--pkcs11-pin', token.pin],
      { env, timeoutMs: 300_000 },
    );
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    expect(init.stdout).toContain('created 50 CAs');
    // no software key files: the keys are on the token
    expect(existsSync(join(data, 'keys')) ? readdirSync(join(data, 'keys')).filter((f) => f.endsWith('.key')) : []).toEqual([]);

    const { csr } = opensslCsr(dir, 'p11');
    const leaf = join(dir, 'leaf.pem');
    const issue = jpki(
      ['--data', data, 'ca', 'issue', '--prefecture', '13', '--csr', csr, '--name', '公的　一郎', '--birth', '1977-11-07', '--sex', '1', '--address', '東京都港区虎ノ門5丁目', '--out', leaf],
      { env },
    );
    expect(issue.stderr).toBe('');
    expect(issue.status).toBe(0);
    const exportDir = join(dir, 'export');
    expect(jpki(['--data', data, 'ca', 'export', exportDir], { env }).status).toBe(0);
    expect(openssl(['verify', '-CAfile', join(exportDir, 'pref-13.pem'), leaf]).out).toContain(': OK');

    // Ask the token itself about the Tokyo CA's key.
    const store = await openStore(join(data, 'jpki.sqlite'));
    const keyUri = (await store.authorities.get('pref-13'))!.keyUri;
    await store.close();
    expect(keyUri).toMatch(/^pkcs11:token=jpki-ca-test;object=pref-13-/);
    const km = await openKeyManager({ type: 'pkcs11', module: token.module, token: token.label, pin: token.pin });
    try {
      expect(hasKeyAttributes(km)).toBe(true);
      if (!hasKeyAttributes(km)) return;
      const d = await km.describeKey(keyUri);
      expect(d).toMatchObject({ keyType: 'RSA', bits: 2048, extractable: false, sensitive: true, neverExtractable: true, onToken: true });
    } finally {
      await km.close();
    }
  });

  it('a wrong PIN is a clear error, not a crash', () => {
    // a command that signs (`ca list` only reads the database and never opens the token)
    const r = jpki(['--data', data, 'ca', 'crl', '--ca', 'pref-13', '--out', join(data, 'x.crl')], { env: { ...env, JPKI_PKCS11_PIN: 'wrong-pin' } });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/PIN/);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
