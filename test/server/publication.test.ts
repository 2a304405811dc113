import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { createTestInstallation, openssl, type TestInstallation } from '../support/installation.js';
import { startJpki } from '../support/cli.js';
import { scanCrl } from '../../src/pki/crl-scanner.js';
import { issueLeaf } from '../ocsp/support.js';

/** The http URLs a certificate or CRL points at (CRL distribution points, freshestCRL, IDP, caIssuers), as paths. */
function pointedPaths(text: string): string[] {
  return [...text.matchAll(/URI:http:\/\/127\.0\.0\.1:8080(\/\S+)/g)].map((m) => m[1]!).filter((p) => p !== '/ocsp');
}

describe('publication routes: CA certificates, CRLs, the CA list', () => {
  let t: TestInstallation;
  let app: FastifyInstance;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13', '27'], publishCrls: true });
    app = await buildApp(t.services);
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  it('lists the CAs as JSON with fingerprints', async () => {
    const r = await app.inject({ method: 'GET', url: '/ca' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toContain('application/json');
    const list = r.json() as { id: string; sha256: string }[];
    expect(list.map((c) => c.id)).toEqual(['jpki-bridge', 'gpki-bridge', 'agency-mic', 'pref-13', 'pref-27']);
    expect(list[3]!.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  });

  it('serves a CA certificate as DER with the pkix-cert type', async () => {
    const r = await app.inject({ method: 'GET', url: '/ca/pref-13.cer' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/pkix-cert');
    expect(r.rawPayload.equals((await t.services.ca.get('pref-13')).certificate)).toBe(true);
    expect(openssl(['x509', '-inform', 'DER', '-noout', '-subject', '-nameopt', 'utf8'], r.rawPayload).out).toContain('東京都知事');
  });

  it('serves the current CRL and ARL with the pkix-crl type and caching headers', async () => {
    const r = await app.inject({ method: 'GET', url: '/crl/pref-13.crl' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/pkix-crl');
    expect(r.headers['last-modified']).toBeDefined();
    expect(r.headers['etag']).toMatch(/^"pref-13-full-\d+"$/);
    const info = scanCrl(r.rawPayload);
    expect(info.entryCount).toBe(0);
    const arl = await app.inject({ method: 'GET', url: '/arl/jpki-bridge.crl' });
    expect(arl.statusCode).toBe(200);
    expect(openssl(['crl', '-inform', 'DER', '-noout', '-text'], arl.rawPayload).out).toContain('Only CA Certificates');
    await issueLeaf(t.services, '13', '13103');
    const part = await app.inject({ method: 'GET', url: '/crl/pref-13/13103.crl' });
    expect(part.statusCode).toBe(200);
    expect(openssl(['crl', '-inform', 'DER', '-noout', '-text'], part.rawPayload).out).toContain('http://127.0.0.1:8080/crl/pref-13/13103.crl');
  });

  it('a GET never makes a CA sign: partitions nothing was issued into, and municipalities that do not exist, are 404', async () => {
    const numbers = async () => (await t.services.store.crls.list('pref-13')).map((c) => `${c.scope}:${c.crlNumber}`).sort();
    const before = await numbers();
    const audits = (await t.services.store.audit.list({ action: 'crl.issue' })).length;
    for (const url of ['/crl/pref-13/13104.crl', '/crl/pref-13/99999.crl', '/crl/pref-13/00000.crl', '/crl/pref-13/13104/delta.crl', '/crl/pref-13/999999/delta.crl', '/crl/pref-27/13103.crl']) {
      for (let i = 0; i < 3; i++) {
        const r = await app.inject({ method: 'GET', url });
        expect(r.statusCode, url).toBe(404);
        expect(r.json()).toMatchObject({ error: 'CRL_NOT_PUBLISHED' });
      }
    }
    expect(await numbers()).toEqual(before);
    expect((await t.services.store.audit.list({ action: 'crl.issue' })).length).toBe(audits);
  });

  it('every CRL a CA certificate, cross-certificate, CRL or newly issued certificate points at is already published', async () => {
    const texts: string[] = [];
    for (const a of await t.services.ca.list()) texts.push(openssl(['x509', '-inform', 'DER', '-noout', '-text'], a.certificate).out);
    for (const c of await t.services.store.certificates.list({ kind: 'cross' })) texts.push(openssl(['x509', '-inform', 'DER', '-noout', '-text'], c.der).out);
    // the first certificate into a partition: its CRL and delta exist before the certificate does
    const leaf = await issueLeaf(t.services, '27', '27128');
    texts.push(openssl(['x509', '-inform', 'DER', '-noout', '-text'], leaf.der).out);
    const paths = new Set(texts.flatMap(pointedPaths));
    expect(paths).toContain('/crl/pref-27/27128.crl');
    expect(paths).toContain('/crl/pref-27/27128/delta.crl');
    const signed = (await t.services.store.audit.list({ action: 'crl.issue' })).length;
    for (const path of [...paths]) {
      const r = await app.inject({ method: 'GET', url: path });
      expect(r.statusCode, path).toBe(200);
      // and what the CRLs themselves point at (freshestCRL of a full or partition CRL, IDPs)
      if (r.headers['content-type'] === 'application/pkix-crl')
        for (const inner of pointedPaths(openssl(['crl', '-inform', 'DER', '-noout', '-text'], r.rawPayload).out))
          expect((await app.inject({ method: 'GET', url: inner })).statusCode, `${inner} (named by ${path})`).toBe(200);
    }
    // all of it was there already: serving signed nothing
    expect((await t.services.store.audit.list({ action: 'crl.issue' })).length).toBe(signed);
  });

  it.each(['/ca/pref-99.cer', '/ca/pref-13.pem', '/crl/nope.crl', '/crl/pref-13/abc.crl', '/crl/..%2f..%2fetc.crl', '/nothing/here'])('answers %s with a JSON 404', async (url) => {
    const r = await app.inject({ method: 'GET', url });
    expect(r.statusCode).toBe(404);
    expect(r.json()).toMatchObject({ error: expect.any(String), message: expect.any(String) });
    expect(r.body).not.toContain('at ');
  });
});

describe('jpki serve (npm start) on an empty data directory', () => {
  it('without a configured public URL, points certificates at the address it listens on', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-serve-url-'));
    const port = 20000 + Math.floor(Math.random() * 20000);
    const server = await startJpki(['--data', join(dir, 'data'), 'serve', '--port', String(port), '--key-algorithm', 'p256', '--no-demo'], /listening on/);
    try {
      expect(server.output()).toContain(`public URL http://127.0.0.1:${port}`);
      // not saved: the user gave none, so a later start on another port points at that port (issue 11)
      const config = JSON.parse(readFileSync(join(dir, 'data', 'config.json'), 'utf8')) as { publicUrl?: string };
      expect(config.publicUrl).toBeUndefined();
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('initialises, then serves the CAs and CRLs over HTTP', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-serve-'));
    const server = await startJpki(['--data', join(dir, 'data'), 'serve', '--port', '0', '--key-algorithm', 'p256', '--no-demo'], /listening on http:\/\/127\.0\.0\.1:(\d+)/);
    try {
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output())![1];
      expect(server.output()).toContain('initialising');
      // the port opens once the bridges, the agency and Tokyo exist; the other 46 are made while it serves
      const first = await fetch(`http://127.0.0.1:${port}/ca`);
      expect(first.status).toBe(200);
      expect(((await first.json()) as { id: string }[]).map((a) => a.id)).toEqual(expect.arrayContaining(['jpki-bridge', 'gpki-bridge', 'agency-mic', 'pref-13']));
      const deadline = Date.now() + 60_000;
      while (!server.output().includes('all 50 CAs are ready') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      const list = await fetch(`http://127.0.0.1:${port}/ca`);
      expect(list.status).toBe(200);
      expect(((await list.json()) as unknown[]).length).toBe(50);
      const crl = await fetch(`http://127.0.0.1:${port}/crl/pref-01.crl`);
      expect(crl.headers.get('content-type')).toBe('application/pkix-crl');
      const bad = await fetch(`http://127.0.0.1:${port}/crl/%00.crl`);
      expect(bad.status).toBe(404);
    } finally {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
