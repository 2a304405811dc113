/**
 * The revocation status service under load (`npm run bench -- ocsp`), on this machine, side by side with
 * what bounds it:
 *
 *  1. Pre-signed OCSP: N certificates (BENCH_OCSP_CERTS, default 20,000; a tenth revoked) are issued through
 *     the CA and signed ahead; `wrk` then POSTs a mix of real requests for all of them over HTTP keep-alive on
 *     loopback to (a) our responder, (b) `openssl ocsp -index … -port …` answering for the same certificates
 *     with an RSA-2048 key like ours, and (c) a do-nothing fastify route returning a fixed body of the same
 *     size (the machine's ceiling). Responses/s, p99 latency and the ratios.
 *  2. Live OCSP: requests with a nonce (signed per request) beside the raw signing rate of the same key.
 *  3. Signing ahead vs signing on first request: the pre-signing rate, and what it means at national scale.
 *  4. A CRL of 1,000,000 revoked entries through the real pipeline (store → stream → encoder) beside
 *     `openssl ca -gencrl` on the same entries (bench/crl.ts, `crlPipelineBench`).
 *
 * BENCH_OCSP_SECONDS (default 10) per wrk run, BENCH_OCSP_CONNECTIONS (default 32), BENCH_OCSP_THREADS
 * (default 2), BENCH_CRL_PIPELINE (default 1000000; 0 skips it).
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { randomBytes, sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { openServices, type Services } from '../src/compose/services.js';
import { buildApp } from '../src/server/app.js';
import { encodeCertId, encodeOcspRequest } from '../src/ocsp/index.js';
import { readCertificate } from '../src/pki/certificate-reader.js';
import { toPem } from '../src/pki/pem.js';
import { PREFECTURES } from '../src/pki/prefectures.js';
import type { SignedCertificate } from '../src/ca/certification-authorities.js';
import type { Signer } from '../src/pki/signer.js';
import { crlPipelineBench } from './crl.js';
import { residentBytes, startCfssl, startJpki, startNginx } from './ocsp-peers.js';
import { asyncRate, markdownTable as table, syncRate } from './measure.js';

const N = Number(process.env.BENCH_OCSP_CERTS ?? 20_000);
const SECONDS = Number(process.env.BENCH_OCSP_SECONDS ?? 10);
const CONNECTIONS = Number(process.env.BENCH_OCSP_CONNECTIONS ?? 32);
const THREADS = Number(process.env.BENCH_OCSP_THREADS ?? 2);
const WORKERS = Number(process.env.BENCH_OCSP_WORKERS ?? 2);
const CA_ID = 'pref-13';
const run = promisify(execFile);
const REASONS = ['keyCompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unspecified'];

/**
 * wrk script: every thread loads the request bodies (hex, one per line) and walks them from a random start.
 * wrk.resolve is replaced: the stock one probes the address with a connection it closes unused, and
 * `openssl ocsp -port` (3.0) then spins forever reading EOF on it, serving nobody.
 */
const WRK_SCRIPT = `
wrk.resolve = function(host, service) wrk.addrs = wrk.lookup(host, service) end
local reqs = {}
local i = 0
init = function(args)
  local f = assert(io.open(args[1], "r"))
  for line in f:lines() do
    local body = line:gsub("..", function(cc) return string.char(tonumber(cc, 16)) end)
    reqs[#reqs + 1] = wrk.format("POST", "/ocsp", { ["Content-Type"] = "application/ocsp-request" }, body)
  end
  f:close()
  math.randomseed(os.time() + tonumber(tostring({}):sub(8), 16))
  i = math.random(#reqs)
end
request = function()
  i = i % #reqs + 1
  return reqs[i]
end
done = function(summary, latency, requests)
  io.write(string.format("WRK {\\"requests\\":%d,\\"duration_us\\":%d,\\"p50_us\\":%d,\\"p99_us\\":%d,\\"status_errors\\":%d,\\"socket_errors\\":%d}\\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99), summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
`;

interface WrkResult {
  rps: number;
  p50Ms: number;
  p99Ms: number;
  statusErrors: number;
  socketErrors: number;
}

/** Runs wrk against a port (asynchronously: the server under test may live in this very process). */
async function wrk(port: number, bodies: string, script: string, seconds = SECONDS): Promise<WrkResult> {
  const args = ['-t', String(THREADS), '-c', String(CONNECTIONS), '-d', `${seconds}s`, '-s', script, `http://127.0.0.1:${port}/ocsp`, '--', bodies];
  const { stdout, stderr } = await run('wrk', args, { encoding: 'utf8', maxBuffer: 1 << 24 });
  const m = /WRK (\{.*\})/.exec(stdout);
  if (!m) throw new Error(`wrk failed: ${stdout}${stderr}`);
  const j = JSON.parse(m[1]!) as { requests: number; duration_us: number; p50_us: number; p99_us: number; status_errors: number; socket_errors: number };
  if (j.requests === 0) throw new Error(`wrk made no requests: ${stdout}${stderr}`);
  return { rps: j.requests / (j.duration_us / 1e6), p50Ms: j.p50_us / 1000, p99Ms: j.p99_us / 1000, statusErrors: j.status_errors, socketErrors: j.socket_errors };
}

/**
 * Waits until an OCSP responder answers a real request (a bare connect-and-close probe would leave
 * `openssl ocsp -port` spinning on EOF, see WRK_SCRIPT).
 */
async function waitForResponder(port: number, body: Uint8Array, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const r = await fetch(`http://127.0.0.1:${port}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(body) });
      await r.arrayBuffer();
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > end) throw new Error(`no OCSP responder answers on port ${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Issues N certificates through the CA (8 in flight; the CA batches its ledger writes); revokes every tenth. */
async function issue(s: Services, n: number): Promise<SignedCertificate[]> {
  const spki = readCertificate((await s.ca.get('jpki-bridge')).certificate).subjectPublicKeyInfo; // any RSA-2048 key
  const out: SignedCertificate[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      while (next < n) {
        const k = next++;
        out.push(await s.ca.issue({ prefecture: '13', kind: 'auth', publicKey: { spki }, municipality: `131${String((k % 23) + 1).padStart(2, '0')}`, actor: 'bench' }));
      }
    }),
  );
  const revocations = [];
  for (let i = 0; i < out.length; i += 10) revocations.push({ serial: out[i]!.serial, caId: CA_ID, reason: REASONS[(i / 10) % REASONS.length]!, actor: 'bench' });
  for (let i = 0; i < revocations.length; i += 500) await s.ca.revokeAll(revocations.slice(i, i + 500));
  return out;
}

/** OpenSSL's index.txt for the same certificates: V or R, expiry, revocation time and reason, serial. */
async function opensslIndex(s: Services): Promise<string> {
  const utc = (ms: number) => new Date(ms).toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
  const names: Record<number, string> = { 0: 'unspecified', 1: 'keyCompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation', 6: 'certificateHold' };
  const lines: string[] = [];
  for (const c of await s.store.certificates.list({ caId: CA_ID, limit: 10_000_000 })) {
    if (c.kind !== 'auth') continue;
    const serial = c.serial.toUpperCase();
    lines.push(
      c.revokedAt === null
        ? `V\t${utc(c.notAfter)}\t\t${serial}\tunknown\t/CN=${c.serial}`
        : `R\t${utc(c.notAfter)}\t${utc(c.revokedAt)},${names[c.revocationReason ?? 0]}\t${serial}\tunknown\t/CN=${c.serial}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** A second responder on the same store, as a restarted or added node: its memory starts empty. */
async function againstFreshResponder(dir: string, bodies: string, script: string, ocspCacheBytes?: number): Promise<WrkResult> {
  const s = await openServices(
    { dataDir: dir, databaseUrl: join(dir, 'jpki.sqlite'), databaseUrlExplicit: true },
    { config: { kms: { type: 'soft' } }, ...(ocspCacheBytes !== undefined ? { ocspCacheBytes } : {}) },
  );
  const app = await buildApp(s);
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
    return await wrk((app.server.address() as { port: number }).port, bodies, script);
  } finally {
    await app.close();
    await s.close();
  }
}



/** A port nobody listens on now. */
async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  await new Promise((r) => server.close(r));
  return port;
}

const MiB = (b: number) => `${(b / 2 ** 20).toFixed(0)} MiB`;
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;


export async function bench(): Promise<void> {
  process.env.JPKI_SQLITE_SYNCHRONOUS ??= 'NORMAL';
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-ocsp-'));
  let services: Services | undefined;
  let openssl: ChildProcess | undefined;
  try {
    services = await openServices({ dataDir: dir, databaseUrl: join(dir, 'jpki.sqlite'), databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
    const s = services;
    await s.ca.initialize({ keySpec: { type: 'RSA', bits: 2048 }, prefectures: PREFECTURES.filter((p) => p.code === '13'), actor: 'bench' });

    let t0 = performance.now();
    const certs = await issue(s, N);
    const issueS = (performance.now() - t0) / 1000;
    console.log(`issued ${fmt(N)} certificates through the CA in ${issueS.toFixed(1)} s (${fmt(N / issueS)}/s), revoked ${fmt(Math.ceil(N / 10))}`);

    // signing ahead: every certificate's SHA-1 response, stored and kept in memory
    const responder = await s.ocspResponders.current(CA_ID);
    const presign = await s.ocsp.presign({ caIds: [CA_ID], warmCache: true, concurrency: 8 });
    console.log(`pre-signed ${fmt(presign.signed)} responses in ${presign.seconds.toFixed(1)} s: ${fmt(presign.perSecond)} responses/s (RSA-2048 delegated responder)`);

    // the request bodies: one per certificate, shuffled (a mix of good and revoked, every certificate asked)
    const ca = await s.ca.get(CA_ID);
    const issuer = { subject: ca.subject, spki: Buffer.from(readCertificate(ca.certificate).subjectPublicKeyInfo) };
    const order = certs.map((c) => c.serial).sort(() => Math.random() - 0.5);
    const bodiesFile = join(dir, 'bodies.hex');
    writeFileSync(bodiesFile, order.map((serial) => encodeOcspRequest([encodeCertId('sha1', issuer, serial)]).toString('hex')).join('\n') + '\n');
    const nonceFile = join(dir, 'nonce-bodies.hex');
    writeFileSync(nonceFile, order.slice(0, 2000).map((serial) => encodeOcspRequest([encodeCertId('sha1', issuer, serial)], randomBytes(16)).toString('hex')).join('\n') + '\n');
    const script = join(dir, 'ocsp.lua');
    writeFileSync(script, WRK_SCRIPT);

    // (ours) the responder, in this process, as `jpki serve` runs it
    const app = await buildApp(s);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const ourPort = (app.server.address() as { port: number }).port;
    const sample = await fetch(`http://127.0.0.1:${ourPort}/ocsp`, {
      method: 'POST',
      headers: { 'content-type': 'application/ocsp-request' },
      body: new Uint8Array(encodeOcspRequest([encodeCertId('sha1', issuer, order[0]!)])),
    });
    const sampleBody = Buffer.from(await sample.arrayBuffer());
    await wrk(ourPort, bodiesFile, script, 2); // warm-up (JIT)
    const ours = await wrk(ourPort, bodiesFile, script);

    // (b) the ceiling: a fastify route that does nothing but send a fixed body of the same size
    const bare = Fastify({ logger: false, keepAliveTimeout: 30_000 });
    bare.addContentTypeParser('application/ocsp-request', { parseAs: 'buffer' }, (_r, body, done) => done(null, body));
    const fixed = Buffer.alloc(sampleBody.length, 0x30);
    bare.post('/ocsp', (_req, reply) => reply.header('content-type', 'application/ocsp-response').send(fixed));
    await bare.listen({ port: 0, host: '127.0.0.1' });
    const barePort = (bare.server.address() as { port: number }).port;
    await wrk(barePort, bodiesFile, script, 2);
    const ceiling = await wrk(barePort, bodiesFile, script);
    await bare.close();

    // (a) OpenSSL's responder on the same certificates, signing with an RSA-2048 key as ours does
    writeFileSync(join(dir, 'index.txt'), await opensslIndex(s));
    writeFileSync(join(dir, 'ca.pem'), toPem(ca.certificate, 'CERTIFICATE'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'rkey.pem', '-out', 'rsigner.pem', '-subj', '/CN=OpenSSL OCSP responder', '-days', '2'], { cwd: dir, stdio: 'ignore' });
    const opensslPort = ourPort + 1 === barePort ? barePort + 1 : ourPort + 1;
    openssl = spawn('openssl', ['ocsp', '-index', 'index.txt', '-port', String(opensslPort), '-rsigner', 'rsigner.pem', '-rkey', 'rkey.pem', '-CA', 'ca.pem', '-nmin', '60'], { cwd: dir, stdio: 'ignore' });
    await waitForResponder(opensslPort, new Uint8Array(encodeOcspRequest([encodeCertId('sha1', issuer, order[0]!)])));
    const ossl = await wrk(opensslPort, bodiesFile, script);
    openssl.kill();
    openssl = undefined;

    // (c) cfssl's Go responder on the same pre-signed responses, (d) nginx handing out one of them as a
    // static file, (e) ours on every core: `jpki serve --workers N` (separate processes, same installation)
    const probe = encodeOcspRequest([encodeCertId('sha1', issuer, order[0]!)]);
    const presigned = await s.store.db.query<{ der: Buffer }>("SELECT der FROM ocsp_responses WHERE ca_id = ? AND hash_algorithm = 'sha1'", [CA_ID]);
    const cfsslPeer = await startCfssl(dir, await freePort(), presigned.map((r) => r.der), probe);
    await wrk(cfsslPeer.port, bodiesFile, script, 2);
    const cfssl = await wrk(cfsslPeer.port, bodiesFile, script);
    const cfsslRss = cfsslPeer.pids().reduce((a, p) => a + residentBytes(p), 0);
    await cfsslPeer.stop();
    const nginxPeer = await startNginx(dir, await freePort(), sampleBody, probe);
    await wrk(nginxPeer.port, bodiesFile, script, 2);
    const nginx = await wrk(nginxPeer.port, bodiesFile, script);
    await nginxPeer.stop();
    const cluster = await startJpki(dir, await freePort(), WORKERS, probe);
    // baseline: the workers warmed by traffic on a hundred responses only (JIT, sockets, buffers), then all
    const fewFile = join(dir, 'few-bodies.hex');
    writeFileSync(fewFile, order.slice(0, 100).map((serial) => encodeOcspRequest([encodeCertId('sha1', issuer, serial)]).toString('hex')).join('\n') + '\n');
    await wrk(cluster.port, fewFile, script, 3);
    // the first store hit loads the responder's key (scrypt: 128 MiB for a moment); measured once that is given back
    await new Promise((r) => setTimeout(r, 2000));
    const baseline = cluster.pids().map(residentBytes);
    // warm-up: every worker loads the responses from the store into memory (each sees about half the requests)
    await wrk(cluster.port, bodiesFile, script, 8);
    const ours2 = await wrk(cluster.port, bodiesFile, script);
    const loaded = cluster.pids().map(residentBytes);
    await cluster.stop();
    const cachedBytes = presigned.reduce((a, r) => a + r.der.length, 0);
    const growth = Math.max(...loaded.map((b, i) => b - (baseline[i] ?? 0)));

    // live: requests with a nonce, each signed now; beside the raw rate of the same key
    await wrk(ourPort, nonceFile, script, 2);
    const live = await wrk(ourPort, nonceFile, script);
    await app.close();
    const key = Reflect.get(responder.signer, 'key') as KeyObject | undefined;
    const tbs = randomBytes(300);
    const rawSync = key ? syncRate(() => nodeSign('sha256', tbs, key), 2000) : NaN;
    const signer: Signer = responder.signer;
    const rawPool = await asyncRate(() => signer.sign(tbs), 8, 2000);

    // the two other states of the cache: a restarted node (memory empty, store full), and a responder that
    // has never seen a request for these certificates (store and memory empty: every first request signs)
    await s.ocsp.close();
    const fromStore = await againstFreshResponder(dir, bodiesFile, script);
    // no memory at all (a budget of one entry): every request reads the store — a responder for 10 M
    // certificates, whose requests spread over more responses than any memory holds
    const storeOnly = await againstFreshResponder(dir, bodiesFile, script, 1);
    await s.store.db.execute('DELETE FROM ocsp_responses');
    const onDemand = await againstFreshResponder(dir, bodiesFile, script);

    console.log(`\nOCSP over HTTP keep-alive on loopback: wrk -t${THREADS} -c${CONNECTIONS} -d${SECONDS}s, ${fmt(N)} certificates, a request per certificate in random order (${sampleBody.length}-byte responses):\n`);
    table([
      ['responder', 'responses/s', 'p50', 'p99', 'non-200 / socket errors'],
      [`jpki serve --workers ${WORKERS}, pre-signed (cached)`, fmt(ours2.rps), `${ours2.p50Ms.toFixed(2)} ms`, `${ours2.p99Ms.toFixed(2)} ms`, `${ours2.statusErrors} / ${ours2.socketErrors}`],
      ['cfssl ocspserve (same pre-signed responses)', fmt(cfssl.rps), `${cfssl.p50Ms.toFixed(2)} ms`, `${cfssl.p99Ms.toFixed(2)} ms`, `${cfssl.statusErrors} / ${cfssl.socketErrors}`],
      ['nginx, one stored response as a static file (ceiling for stored bytes)', fmt(nginx.rps), `${nginx.p50Ms.toFixed(2)} ms`, `${nginx.p99Ms.toFixed(2)} ms`, `${nginx.statusErrors} / ${nginx.socketErrors}`],
      ['jpki, pre-signed (cached), one process', fmt(ours.rps), `${ours.p50Ms.toFixed(2)} ms`, `${ours.p99Ms.toFixed(2)} ms`, `${ours.statusErrors} / ${ours.socketErrors}`],
      ['openssl ocsp -index (signs each)', fmt(ossl.rps), `${ossl.p50Ms.toFixed(2)} ms`, `${ossl.p99Ms.toFixed(2)} ms`, `${ossl.statusErrors} / ${ossl.socketErrors}`],
      ['fastify do-nothing route (ceiling)', fmt(ceiling.rps), `${ceiling.p50Ms.toFixed(2)} ms`, `${ceiling.p99Ms.toFixed(2)} ms`, `${ceiling.statusErrors} / ${ceiling.socketErrors}`],
      ['jpki, live with nonce', fmt(live.rps), `${live.p50Ms.toFixed(2)} ms`, `${live.p99Ms.toFixed(2)} ms`, `${live.statusErrors} / ${live.socketErrors}`],
      ['jpki after a restart (memory empty, store full: the 10 M case, every request a miss at first)', fmt(fromStore.rps), `${fromStore.p50Ms.toFixed(2)} ms`, `${fromStore.p99Ms.toFixed(2)} ms`, `${fromStore.statusErrors} / ${fromStore.socketErrors}`],
      ['jpki from the store only (memory budget of one entry: every request a store read)', fmt(storeOnly.rps), `${storeOnly.p50Ms.toFixed(2)} ms`, `${storeOnly.p99Ms.toFixed(2)} ms`, `${storeOnly.statusErrors} / ${storeOnly.socketErrors}`],
      ['jpki signing on first request (store empty)', fmt(onDemand.rps), `${onDemand.p50Ms.toFixed(2)} ms`, `${onDemand.p99Ms.toFixed(2)} ms`, `${onDemand.statusErrors} / ${onDemand.socketErrors}`],
    ]);
    console.log('');
    table([
      ['ratio', 'value', 'target'],
      [`jpki --workers ${WORKERS} ÷ cfssl ocspserve`, `${(ours2.rps / cfssl.rps).toFixed(2)} ×`, '≥ 2 ×'],
      [`jpki --workers ${WORKERS} ÷ nginx static file`, pct(ours2.rps, nginx.rps), '≥ 50 %'],
      [`jpki --workers ${WORKERS} p99`, `${ours2.p99Ms.toFixed(2)} ms`, '≤ 5 ms'],
      [
        `resident memory per worker after loading ${fmt(presigned.length)} responses (${MiB(cachedBytes)} of DER)`,
        `+${MiB(growth)} (${(growth / cachedBytes).toFixed(2)} × the responses; baseline ${baseline.map(MiB).join(', ')}; cfssl holds them in ${MiB(cfsslRss)})`,
        '≤ 2 ×',
      ],
      ['pre-signed ÷ openssl ocsp', `${(ours.rps / ossl.rps).toFixed(1)} ×`, '≥ 25 ×'],
      ['pre-signed ÷ do-nothing ceiling', pct(ours.rps, ceiling.rps), '≥ 60 %'],
      ['live (nonce) ÷ raw signing: same key, node:crypto sync, 1 core', `${pct(live.rps, rawSync)} (${fmt(rawSync)}/s)`, '≥ 70 %'],
      ['live (nonce) ÷ raw signing: same key, 8 in flight on the libuv pool (both cores, no HTTP, no wrk)', `${pct(live.rps, rawPool)} (${fmt(rawPool)}/s)`, ''],
    ]);
    const national = 2e8;
    console.log(
      `\nSigning ahead: ${fmt(presign.perSecond)} responses/s here, so ${fmt(national / 1e6)} M certificates (about two per resident) would need ` +
        `${(national / presign.perSecond / 3600).toFixed(1)} h of both cores per refresh (every 12 h), and ${((national * sampleBody.length) / 2 ** 30).toFixed(0)} GiB of responses.`,
    );
  } finally {
    openssl?.kill();
    await services?.close();
    rmSync(dir, { recursive: true, force: true });
  }

  const n = Number(process.env.BENCH_CRL_PIPELINE ?? 1_000_000);
  if (n > 0) await crlPipelineBench(n);
}
