import { describe, expect, it } from 'vitest';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { constants, privateEncrypt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { signDetached } from './cms-sign.js';
import { commandExists, needs } from '../../test/support/system.js';

/** A software "card": raw RSA over the DigestInfo, exactly what COMPUTE DIGITAL SIGNATURE does. */
describe('detached CMS with an external signer', () => {
  it('verifies with openssl cms and fails after the content changes', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const dir = mkdtempSync(join(tmpdir(), 'jpki-cms-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem'), '-subj', '/C=JP/O=JPKI/CN=Test Signer', '-days', '30'], { stdio: 'ignore' });
    execFileSync('openssl', ['x509', '-in', join(dir, 'c.pem'), '-outform', 'DER', '-out', join(dir, 'c.der')]);
    const key = readFileSync(join(dir, 'k.pem'), 'utf8');
    const content = Buffer.from('転出届: 公的 一郎\n');
    writeFileSync(join(dir, 'content.txt'), content);
    const p7s = await signDetached({
      content,
      certificate: readFileSync(join(dir, 'c.der')),
      signingTime: new Date('2026-04-01T01:02:03Z'),
      signDigestInfo: async (di) => privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, di),
    });
    writeFileSync(join(dir, 's.p7s'), p7s);
    const verify = (file: string) => spawnSync('openssl', ['cms', '-verify', '-binary', '-content', file, '-in', join(dir, 's.p7s'), '-inform', 'DER', '-CAfile', join(dir, 'c.pem'), '-out', '/dev/null'], { encoding: 'utf8' });
    const ok = verify(join(dir, 'content.txt'));
    expect(ok.stderr).toContain('Verification successful');
    expect(ok.status).toBe(0);
    const printed = execFileSync('openssl', ['cms', '-cmsout', '-print', '-inform', 'DER', '-in', join(dir, 's.p7s')], { encoding: 'utf8' });
    for (const attr of ['contentType', 'signingTime', 'messageDigest', 'id-smime-aa-signingCertificateV2']) expect(printed).toContain(attr);
    expect(printed).toMatch(/eContent: <ABSENT>/);
    writeFileSync(join(dir, 'changed.txt'), Buffer.from('転出届: 公的 二郎\n'));
    const bad = verify(join(dir, 'changed.txt'));
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/digest failure|Verification failure/i);
  });
});
