import { execFile, execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/server/app.js';
import { JPKI_BIN, jpki } from '../support/cli.js';
import { commandExists, needs } from '../support/system.js';
import { onCard } from '../counter/support.js';
import { residentWithCard, SIGN_PIN, type ResidentCard } from './support.js';

/**
 * Checking the CA self-signed certificates on the card (guide §4(10)): `jpki client fingerprints` shows SHA-1
 * and SHA-256, `--compare` checks them against the portal's machine-readable list (by URL, or a saved copy),
 * and a card holding another CA certificate — one that only claims to be the Tokyo governor's — is a mismatch
 * with a non-zero exit.
 */
let r: ResidentCard;
let app: FastifyInstance;
let base: string;
let listFile: string;

beforeAll(async () => {
  r = await residentWithCard();
  // the CRLs `jpki init` publishes (the HTTP edge serves stored CRLs only)
  await r.t.services.crlUpdater.runOnce();
  app = await buildApp(r.t.services);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const a = app.server.address();
  base = `http://127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`;
  listFile = join(r.t.dir, 'trust-anchors.json');
  writeFileSync(listFile, (await app.inject({ url: '/api/portal/trust-anchors' })).body);
});

afterAll(async () => {
  await app?.close();
  await r?.t.cleanup();
});

describe('the portal\u2019s trust-anchor list', () => {
  it('lists every prefectural CA and the bridge CA with SHA-1 and SHA-256 fingerprints and downloads', async () => {
    const { anchors } = JSON.parse(readFileSync(listFile, 'utf8'));
    expect(anchors.map((a: { id: string }) => a.id)).toEqual(['pref-13', 'pref-27', 'pref-47', 'jpki-bridge']);
    const tokyo = anchors[0];
    expect(tokyo.name).toBe('東京都知事');
    expect(tokyo.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(tokyo.sha1).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    const cer = await app.inject({ url: new URL(tokyo.certificateUrl).pathname });
    expect(cer.statusCode).toBe(200);
    if (needs('openssl', commandExists('openssl'))) {
      writeFileSync(join(r.t.dir, 'tokyo.cer'), cer.rawPayload);
      const fp = execFileSync('openssl', ['x509', '-inform', 'DER', '-in', join(r.t.dir, 'tokyo.cer'), '-noout', '-fingerprint', '-sha256'], { encoding: 'utf8' });
      expect(fp.trim()).toBe(`sha256 Fingerprint=${tokyo.sha256}`);
    }
    expect((await app.inject({ url: new URL(tokyo.crlUrl).pathname })).headers['content-type']).toBe('application/pkix-crl');
  });
});

describe('jpki client revoke', () => {
  it('revokes the signing certificate through the portal\u2019s online window; a second time is refused', async () => {
    const exec = promisify(execFile);
    const args = [JPKI_BIN, '--data', r.t.dir, 'client', 'revoke', '--card', r.card, '--portal', base, '--reason', 'cessationOfOperation', '--yes'];
    const env = { ...process.env, JPKI_SIGN_PIN: SIGN_PIN };
    const { stdout } = await exec(process.execPath, args, { encoding: 'utf8', env });
    expect(stdout).toMatch(new RegExp(`^受理しました \\(accepted\\): certificate ${r.signSerial} of 東京都知事 revoked at .* \\(cessationOfOperation\\); notice W-\\d{8}-[0-9A-F]{8}`));
    const record = await r.t.services.ca.findCertificate(r.signSerial, 'pref-13');
    expect(record.revocationReason).toBe(5);
    const again = await exec(process.execPath, args, { encoding: 'utf8', env }).then(() => null, (e: { code: number; stderr: string }) => e);
    expect(again?.code).toBe(75);
    expect(again?.stderr.trim()).toMatch(/^jpki: .* \[PORTAL_ALREADY_REVOKED\]$/);
  });
});

describe('jpki client fingerprints', () => {
  it('shows the card\u2019s CA certificate and the bridge CA\u2019s, and matches the portal\u2019s list (by URL)', async () => {
    const { anchors } = JSON.parse(readFileSync(listFile, 'utf8'));
    const bridge = join(r.t.dir, 'bridge.cer');
    writeFileSync(bridge, (await app.inject({ url: new URL(anchors[3].certificateUrl).pathname })).rawPayload);
    // the server runs in this process: the command must not block its event loop
    const { stdout } = await promisify(execFile)(process.execPath, [JPKI_BIN, '--data', r.t.dir, 'client', 'fingerprints', '--card', r.card, '--bridge', bridge, '--compare', `${base}/api/portal/trust-anchors`], { encoding: 'utf8' });
    expect(stdout).toContain(`SHA-256: ${anchors[0].sha256}`);
    expect(stdout).toContain(`SHA-1:   ${anchors[0].sha1}`);
    expect(stdout).toContain('一致 (match: 東京都知事)');
    expect(stdout).toContain(`SHA-256: ${anchors[3].sha256}`);
    expect(stdout).toContain('一致 (match: 公的個人認証サービスブリッジ認証局)');
  });

  it('reports a mismatch, and exits non-zero, for a card holding another CA certificate', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const dir = r.t.dir;
    // Same name as the Tokyo governor's CA, another key: what a forged card would carry.
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(dir, 'fake.key'), '-out', join(dir, 'fake.der'), '-outform', 'DER', '-days', '30', '-subj', '/C=JP/O=JPKI/OU=Prefectural Governor CA/L=Tokyo-to/CN=東京都知事', '-utf8'], { stdio: 'ignore' });
    const fake = readFileSync(join(dir, 'fake.der'));
    const forged = await r.t.blankCard('forged.card');
    await onCard(r.t, forged, async (c) => {
      await c.authenticateIssuer(r.t.services.cardIssuer);
      await c.writeCertificate('sign-ca', fake);
      await c.writeCertificate('auth-ca', fake);
    });
    const out = jpki(['--data', dir, 'client', 'fingerprints', '--card', forged, '--compare', listFile]);
    expect(out.status).toBe(1);
    expect(out.stdout).toContain('不一致 (MISMATCH: the portal lists 東京都知事 with SHA-256');
    expect(out.stderr.trim()).toMatch(/^jpki: .* \[FINGERPRINT_MISMATCH\]$/);
    // case and separators do not matter: a list written in lower case without colons still matches the real card
    const list = JSON.parse(readFileSync(listFile, 'utf8'));
    for (const a of list.anchors) Object.assign(a, { sha1: a.sha1.replace(/:/g, '').toLowerCase(), sha256: a.sha256.replace(/:/g, ' ').toLowerCase() });
    writeFileSync(join(dir, 'lower.json'), JSON.stringify(list));
    const good = jpki(['--data', dir, 'client', 'fingerprints', '--card', r.card, '--compare', join(dir, 'lower.json'), '--json']);
    expect(good.status).toBe(0);
    expect(JSON.parse(good.stdout).comparison).toEqual([expect.objectContaining({ match: true, listed: '東京都知事' })]);
  });
});

describe("the portal's fingerprint list is read with a bound", () => {
  it('refuses /dev/zero and a server that sends without end, with a reason', async () => {
    const { loadFingerprintList } = await import('../../src/client/fingerprints.js');
    await expect(loadFingerprintList('/dev/zero')).rejects.toMatchObject({ code: 'FINGERPRINT_LIST_UNAVAILABLE', message: expect.stringMatching(/larger than 1048576 bytes/) });
    const { createServer } = await import('node:http');
    const endless = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((r) => endless.listen(0, '127.0.0.1', r));
    try {
      const { port } = endless.address() as import('node:net').AddressInfo;
      await expect(loadFingerprintList(`http://127.0.0.1:${port}/api/portal/trust-anchors`)).rejects.toMatchObject({ code: 'FINGERPRINT_LIST_UNAVAILABLE', message: expect.stringMatching(/larger than/) });
    } finally {
      endless.closeAllConnections();
      await new Promise((r) => endless.close(r));
    }
  });
});
