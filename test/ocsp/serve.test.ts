/**
 * The revocation status service as relying parties and operators meet it: a real `jpki serve` child
 * process, certificates issued and revoked by separate `jpki` CLI processes, and OpenSSL as the OCSP
 * client — on SQLite and PostgreSQL. The one timing assertion the issue demands lives here: a revocation
 * by another process is reported by the responder within one second.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { availableStoreKinds, dropSchemaOf, freshStoreUrl } from '../support/stores.js';
import { jpki, startJpki, JPKI_BIN } from '../support/cli.js';
import { openssl } from '../support/installation.js';
import { statusResponse } from '../../src/ocsp/index.js';
import { toPem } from '../../src/pki/pem.js';
import { freePort } from '../support/system.js';

const kinds = await availableStoreKinds();
const run = promisify(execFile);


describe.each(kinds)('jpki serve: OCSP and CRLs for relying parties, revocations from the CLI, on %s', (storeKind) => {
  let dir: string;
  let data: string;
  let db: string;
  let url: string;
  let server: Awaited<ReturnType<typeof startJpki>>;
  let caPem: string;
  let leafPem: string;
  let otherPem: string;
  let serial: string;
  const cli = (...args: string[]) => jpki(['--data', data, '--db', db, ...args]);
  const path = (f: string) => join(dir, f);

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-ocsp-serve-'));
    data = join(dir, 'data');
    db = storeKind === 'sqlite' ? join(data, 'jpki.sqlite') : freshStoreUrl('postgres');
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    server = await startJpki(['--data', data, '--db', db, 'serve', '--port', String(port), '--public-url', url, '--key-algorithm', 'p256', '--no-demo'], /listening on/);
    expect(cli('ca', 'export', path('cas')).status).toBe(0);
    caPem = path('cas/pref-13.pem');
    execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path('k.pem')]);
    execFileSync('openssl', ['pkey', '-in', path('k.pem'), '-pubout', '-out', path('pub.pem')]);
    const issue = (out: string) => cli('ca', 'issue', '--prefecture', '13', '--kind', 'auth', '--public-key', path('pub.pem'), '--municipality', '13101', '--out', out);
    const r = issue(path('leaf.pem'));
    expect(r.stderr).toBe('');
    serial = /certificate ([0-9a-f]+) by/.exec(r.stdout)![1]!;
    leafPem = path('leaf.pem');
    expect(issue(path('other.pem')).status).toBe(0);
    otherPem = path('other.pem');
  }, 240_000);

  afterAll(async () => {
    await server?.stop();
    if (storeKind === 'postgres' && db) await dropSchemaOf(db);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const ocsp = (...args: string[]) => openssl(['ocsp', '-issuer', caPem, '-url', `${url}/ocsp`, '-CAfile', caPem, '-resp_text', ...args]);

  it('certificates carry the --public-url of the server in their AIA and CRL distribution points', () => {
    expect(openssl(['x509', '-in', leafPem, '-noout', '-ocsp_uri']).out.trim()).toBe(`${url}/ocsp`);
    const text = openssl(['x509', '-in', leafPem, '-noout', '-text']).out;
    expect(text).toContain(`URI:${url}/crl/pref-13/13101.crl`);
    expect(text).toContain(`URI:${url}/crl/pref-13/13101/delta.crl`);
    expect(text).toContain(`CA Issuers - URI:${url}/ca/pref-13.cer`);
  });

  it('`openssl ocsp` gets good with a nonce and without, several certificates at once, unauthorized for a serial never issued', () => {
    const withNonce = ocsp('-cert', leafPem);
    expect(withNonce.out).toContain('Response verify OK');
    expect(withNonce.out).toContain(`${leafPem}: good`);
    expect(withNonce.out).toMatch(/OCSP Nonce:\s+04/);
    expect(withNonce.out).not.toMatch(/nonce.*(error|missing)/i);
    const noNonce = ocsp('-cert', leafPem, '-no_nonce');
    expect(noNonce.out).toContain('Response verify OK');
    expect(noNonce.out).toContain(`${leafPem}: good`);
    expect(noNonce.out).not.toContain('OCSP Nonce');
    const two = ocsp('-cert', leafPem, '-cert', otherPem, '-no_nonce');
    expect(two.out).toContain(`${leafPem}: good`);
    expect(two.out).toContain(`${otherPem}: good`);
    const sha256 = ocsp('-sha256', '-cert', leafPem, '-no_nonce');
    expect(sha256.out).toContain(`${leafPem}: good`);
    // never issued: refused before anything is signed (Boulder's answer; docs/ocsp.md)
    const unknown = ocsp('-serial', '0x7a5b5c5d5e5f60616263646566676869', '-no_nonce');
    expect(unknown.out).toMatch(/Responder Error: unauthorized \(6\)/);
  });

  it('answers malformed bodies with malformedRequest and a foreign issuer with unauthorized', async () => {
    const bad = await fetch(`${url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: 'not DER at all' });
    expect(bad.status).toBe(200);
    expect(bad.headers.get('content-type')).toBe('application/ocsp-response');
    expect(Buffer.from(await bad.arrayBuffer()).equals(statusResponse('malformedRequest'))).toBe(true);
    // a request OpenSSL itself can read and send, but with an empty request list
    writeFileSync(path('garbage.der'), Buffer.from('300430023000', 'hex'));
    expect(openssl(['ocsp', '-reqin', path('garbage.der'), '-url', `${url}/ocsp`, '-noverify']).out).toMatch(/Responder Error: malformedrequest \(1\)/i);
    execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', path('foreign.key'), '-out', path('foreign.pem'), '-subj', '/CN=Foreign CA', '-days', '2']);
    const foreign = openssl(['ocsp', '-issuer', path('foreign.pem'), '-serial', '0x05', '-url', `${url}/ocsp`, '-no_nonce']);
    expect(foreign.out).toMatch(/Responder Error: unauthorized \(6\)/);
  });

  it('reports the revocation by `jpki ca revoke` (another process) within one second, with its reason', async () => {
    expect(ocsp('-cert', leafPem, '-no_nonce').out).toContain(`${leafPem}: good`);
    // poll from the moment the revoking process starts; the revocation time is what that process wrote
    const revoking = new Promise<string>((resolve, reject) => {
      const child = spawn(process.execPath, [JPKI_BIN, '--data', data, '--db', db, 'ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      child.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`jpki ca revoke exited ${code}: ${out}`))));
    });
    let done = false;
    void revoking.catch(() => (done = true));
    let seenAt: number | undefined;
    let text = '';
    const deadline = Date.now() + 20_000;
    while (seenAt === undefined && Date.now() < deadline && !done) {
      const r = await run('openssl', ['ocsp', '-issuer', caPem, '-cert', leafPem, '-url', `${url}/ocsp`, '-CAfile', caPem, '-resp_text', '-no_nonce'], { encoding: 'utf8' }).catch(
        (e: { stdout?: string; stderr?: string }) => ({ stdout: e.stdout ?? '', stderr: e.stderr ?? '' }),
      );
      text = r.stdout + r.stderr;
      if (text.includes(`${leafPem}: revoked`)) seenAt = Date.now();
    }
    const out = await revoking;
    const revokedAt = new Date(/ at (\S+Z)/.exec(out)![1]!).getTime();
    expect(seenAt, `never saw the revocation: ${text}`).toBeDefined();
    const delay = seenAt! - revokedAt;
    console.log(`revocation by another process visible through OCSP after ${delay} ms (${storeKind})`);
    expect(delay).toBeLessThan(1000);
    expect(text).toContain('Response verify OK');
    expect(text).toMatch(/Reason: keyCompromise/);
    expect(text).toMatch(/Revocation Time: /);
    // with a nonce (signed live) the same
    const withNonce = ocsp('-cert', leafPem);
    expect(withNonce.out).toContain(`${leafPem}: revoked`);
    expect(withNonce.out).toMatch(/OCSP Nonce:\s+04/);
  });

  it('answers the RFC 5019 GET form, which OpenSSL verifies', async () => {
    openssl(['ocsp', '-issuer', caPem, '-cert', leafPem, '-no_nonce', '-reqout', path('get-req.der')]);
    const req = readFileSync(path('get-req.der'));
    const r = await fetch(`${url}/ocsp/${encodeURIComponent(req.toString('base64'))}`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/ocsp-response');
    expect(r.headers.get('cache-control')).toMatch(/^max-age=\d+, public, no-transform, must-revalidate$/);
    expect(r.headers.get('etag')).toBeTruthy();
    expect(r.headers.get('last-modified')).toBeTruthy();
    expect(r.headers.get('expires')).toBeTruthy();
    writeFileSync(path('get-resp.der'), Buffer.from(await r.arrayBuffer()));
    const v = openssl(['ocsp', '-respin', path('get-resp.der'), '-issuer', caPem, '-cert', leafPem, '-CAfile', caPem, '-no_nonce', '-resp_text']);
    expect(v.out).toContain('Response verify OK');
    expect(v.out).toContain(`${leafPem}: revoked`);
    expect(v.out).toMatch(/Reason: keyCompromise/);
  });

  it('serves the partition CRL and its delta; `openssl verify -use_deltas` finds the revocation only through the delta', async () => {
    // a fresh certificate: the partition CRL is fetched before it is revoked, the delta after
    const issued = cli('ca', 'issue', '--prefecture', '13', '--kind', 'auth', '--public-key', path('pub.pem'), '--municipality', '13101', '--out', path('late.pem'));
    const lateSerial = /certificate ([0-9a-f]+) by/.exec(issued.stdout)![1]!;
    const part = await fetch(`${url}/crl/pref-13/13101.crl`);
    expect(part.status).toBe(200);
    expect(part.headers.get('content-type')).toBe('application/pkix-crl');
    const partDer = Buffer.from(await part.arrayBuffer());
    expect(cli('ca', 'revoke', '--serial', lateSerial, '--reason', 'affiliationChanged').status).toBe(0);
    // the server's CRL updater regenerates the affected delta after a short debounce
    let deltaDer = Buffer.alloc(0);
    for (let i = 0; i < 100; i++) {
      const d = await fetch(`${url}/crl/pref-13/13101/delta.crl`);
      expect(d.headers.get('content-type')).toBe('application/pkix-crl');
      deltaDer = Buffer.from(await d.arrayBuffer());
      if (openssl(['crl', '-inform', 'DER', '-noout', '-text'], deltaDer).out.toUpperCase().includes(lateSerial.toUpperCase())) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const both = path('p+d.pem');
    writeFileSync(both, toPem(partDer, 'X509 CRL') + toPem(deltaDer, 'X509 CRL'));
    const args = ['verify', '-crl_check', '-extended_crl', '-CAfile', caPem, '-CRLfile', both];
    expect(openssl([...args, path('late.pem')]).out).toMatch(/: OK/);
    const r = openssl([...args, '-use_deltas', path('late.pem')]);
    expect(r.out).toMatch(/certificate revoked/);
    expect(r.status).not.toBe(0);
    expect(openssl([...args, '-use_deltas', otherPem]).out).toMatch(/: OK/);
  });
});

describe('jpki init --public-url, jpki ocsp', () => {
  it('writes the configured public URL into every certificate issued later; manages responder certificates and pre-signing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-public-url-'));
    try {
      const data = join(dir, 'data');
      expect(jpki(['--data', data, 'init', '--key-algorithm', 'p256', '--public-url', 'https://jpki.example.jp/status']).status).toBe(0);
      execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'k.pem')]);
      execFileSync('openssl', ['pkey', '-in', join(dir, 'k.pem'), '-pubout', '-out', join(dir, 'pub.pem')]);
      const r = jpki(['--data', data, 'ca', 'issue', '--prefecture', '01', '--kind', 'auth', '--public-key', join(dir, 'pub.pem'), '--out', join(dir, 'leaf.pem')]);
      expect(r.status).toBe(0);
      expect(openssl(['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-ocsp_uri']).out.trim()).toBe('https://jpki.example.jp/status/ocsp');
      const text = openssl(['x509', '-in', join(dir, 'leaf.pem'), '-noout', '-text']).out;
      expect(text).toContain('URI:https://jpki.example.jp/status/crl/pref-01.crl');
      expect(text).toContain('URI:https://jpki.example.jp/status/crl/pref-01/delta.crl');
      // an explicit JPKI_PUBLIC_URL overrides the saved one for a single command
      const e = jpki(['--data', data, 'ca', 'issue', '--prefecture', '01', '--kind', 'auth', '--public-key', join(dir, 'pub.pem'), '--out', join(dir, 'leaf2.pem')], { env: { JPKI_PUBLIC_URL: 'http://other.example' } });
      expect(e.status).toBe(0);
      expect(openssl(['x509', '-in', join(dir, 'leaf2.pem'), '-noout', '-ocsp_uri']).out.trim()).toBe('http://other.example/ocsp');

      // jpki ocsp: the delegated responder certificate, and signing ahead
      const resp = jpki(['--data', data, 'ocsp', 'responder', '--ca', 'pref-01', '--out', join(dir, 'responder.pem')]);
      expect(resp.stderr).toBe('');
      const first = /OCSP responder ([0-9a-f]+) of pref-01/.exec(resp.stdout)![1];
      const respText = openssl(['x509', '-in', join(dir, 'responder.pem'), '-noout', '-text']).out;
      expect(respText).toMatch(/Extended Key Usage:\s+OCSP Signing/);
      expect(respText).toContain('OCSP No Check');
      expect(jpki(['--data', data, 'ca', 'export', join(dir, 'cas')]).status).toBe(0);
      expect(openssl(['verify', '-CAfile', join(dir, 'cas', 'pref-01.pem'), '-purpose', 'ocsphelper', join(dir, 'responder.pem')]).out).toMatch(/: OK/);
      const again = jpki(['--data', data, 'ocsp', 'responder', '--ca', 'pref-01', '--out', join(dir, 'responder.pem')]);
      expect(/OCSP responder ([0-9a-f]+) of pref-01/.exec(again.stdout)![1]).toBe(first);
      const rotated = jpki(['--data', data, 'ocsp', 'responder', '--ca', 'pref-01', '--rotate', '--out', join(dir, 'responder2.pem')]);
      expect(/OCSP responder ([0-9a-f]+) of pref-01/.exec(rotated.stdout)![1]).not.toBe(first);
      const presign = jpki(['--data', data, 'ocsp', 'presign', '--ca', 'pref-01']);
      expect(presign.stderr).toBe('');
      expect(presign.stdout).toMatch(/signed 3 OCSP responses/); // two leaves and its cross-certificate to the JPKI bridge
      expect(jpki(['--data', data, 'ocsp', 'presign', '--ca', 'pref-01']).stdout).toMatch(/signed 0 OCSP responses/);
      const unknownCa = jpki(['--data', data, 'ocsp', 'presign', '--ca', 'pref-99']);
      expect(unknownCa.status).not.toBe(0);
      expect(unknownCa.stderr).toContain('CA_UNKNOWN');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
