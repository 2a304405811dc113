/**
 * Issuance benchmark: certificates per second through the whole CA path — CSR in (parsed, self-signature
 * verified, key strength checked), TBS built, linted, signed with the prefectural CA's RSA-2048 key,
 * stored with its audit record in one transaction — beside the raw `crypto.sign` RSA-2048 rate measured in
 * the same run, and beside @peculiar/x509's builder doing only build + sign (no CSR, no store).
 *
 * BENCH_ISSUE_SECONDS (default 5) per measurement; BENCH_STORES=sqlite,postgres (default sqlite).
 */
import 'reflect-metadata';
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { openServices } from '../src/compose/services.js';
import { PREFECTURES } from '../src/pki/prefectures.js';
import { randomSerial } from '../src/ca/serial.js';
import { asyncRate, syncRate } from './measure.js';

const SECONDS = Number(process.env.BENCH_ISSUE_SECONDS ?? 5);
const rate = (op: () => Promise<unknown>, inFlight = 1) => asyncRate(op, inFlight, SECONDS * 1000);
const STORES = (process.env.BENCH_STORES ?? 'sqlite').split(',');
const FACTS = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };


/** Distinct CSRs from a few keys: key generation is not what is measured. */
async function makeCsrs(n: number): Promise<Uint8Array[]> {
  const keys = await Promise.all(
    Array.from({ length: 4 }, () => crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])),
  );
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=resident ${i}`, keys: keys[i % keys.length]!, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
    out.push(new Uint8Array(csr.rawData));
  }
  return out;
}

export async function bench(): Promise<void> {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tbsLike = Buffer.alloc(1100, 7); // about the size of a resident certificate's TBS
  const rawSync = syncRate(() => nodeSign('sha256', tbsLike, rsa.privateKey), SECONDS * 1000);
  const rawAsync = await rate(() => new Promise((res, rej) => nodeSign('sha256', tbsLike, rsa.privateKey, (e, s) => (e ? rej(e) : res(s)))), 8);
  console.log(`raw crypto.sign RSA-2048 (sync, one core):        ${rawSync.toFixed(0)} /s`);
  console.log(`raw crypto.sign RSA-2048 (async, 8 in flight):    ${rawAsync.toFixed(0)} /s`);

  // @peculiar/x509: build + sign only, for reference (the library route the notes measured at ~1/10 of raw).
  const webKey = await crypto.subtle.importKey('pkcs8', rsa.privateKey.export({ type: 'pkcs8', format: 'der' }), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, false, ['sign']);
  const leafPublic = new x509.PublicKey(new Uint8Array(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' })));
  const peculiar = await rate(
    () =>
      x509.X509CertificateGenerator.create({
        serialNumber: randomSerial().toString('hex'),
        issuer: 'C=JP, O=JPKI, CN=Tokyo',
        subject: 'C=JP, CN=resident',
        notBefore: new Date(),
        notAfter: new Date(Date.now() + 3 * 365 * 86400_000),
        publicKey: leafPublic,
        signingKey: webKey,
        signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
        extensions: [new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation, true)],
      }),
    8,
  );
  console.log(`@peculiar/x509 build + sign only (8 in flight):   ${peculiar.toFixed(0)} /s  (${((100 * peculiar) / rawSync).toFixed(0)} % of raw sync)`);

  const csrs = await makeCsrs(256);
  for (const kind of STORES) {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-issue-'));
    const url =
      kind === 'postgres'
        ? `postgres://postgres@127.0.0.1:5432/test?schema=bench_${process.pid}`
        : join(dir, 'jpki.sqlite');
    const s = await openServices({ dataDir: dir, databaseUrl: url, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
    try {
      await s.ca.initialize({ keySpec: { type: 'RSA', bits: 2048 }, prefectures: PREFECTURES.filter((p) => p.code === '13'), actor: 'bench' });
      let i = 0;
      const issueOne = () =>
        s.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: csrs[i++ % csrs.length]! }, facts: FACTS, municipality: '13103', actor: 'bench' });
      await rate(issueOne, 4); // warm up: JIT, statement cache, signer cache
      const seq = await rate(issueOne, 1);
      const par = await rate(issueOne, 8);
      const n = (await s.store.certificates.list({ caId: 'pref-13', kind: 'sign', limit: 10_000_000 })).length;
      console.log(`issuance on ${kind} (CSR → signed, stored, audited), sequential: ${seq.toFixed(0)} /s  (${((100 * seq) / rawSync).toFixed(0)} % of raw sync)`);
      console.log(`issuance on ${kind}, 8 in flight:                             ${par.toFixed(0)} /s  (${((100 * par) / rawSync).toFixed(0)} % of raw sync)  [${n} certificates stored]`);
      const audit = await s.store.audit.verify();
      if (!audit.ok) throw new Error('audit chain broken after the benchmark');
      if (kind === 'postgres') await (s.store.db as unknown as { dropSchema(): Promise<void> }).dropSchema();
    } finally {
      await s.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }
}
