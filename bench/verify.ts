/**
 * The relying party's verifier (`npm run bench -- verify`): verifications per second of a signed application
 * — a detached CMS from a resident's RSA-2048 key, the full path agency CA → GPKI bridge → JPKI bridge →
 * Tokyo governor → resident (RSA-2048 CA keys, as `jpki init` makes them), revocation of every certificate
 * on it (OCSP for the resident, ARLs for the cross-certificates) fetched once over HTTP from a running
 * service and then served from the verifier's cache — beside raw `crypto.verify` RSA-2048 in the same run.
 * A path is four RSA verifications plus the CMS signature; the verifier caches checked certificate
 * signatures, so a repeat verification pays the CMS signature and the parsing.
 *
 * The rows are measured in turns of 100 ms, each for BENCH_VERIFY_SECONDS (default 5) in all.
 */
import { constants, createHash, generateKeyPairSync, privateEncrypt, sign, verify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../src/common/clock.js';
import { openServices } from '../src/compose/services.js';
import { relyingPartyVerifier } from '../src/compose/verifier.js';
import { signDetached } from '../src/pki/cms-sign.js';
import { PREFECTURES } from '../src/pki/prefectures.js';
import { buildApp } from '../src/server/app.js';
import { createVerifier } from '../src/verifier/index.js';
import { checkCms } from '../src/verifier/cms.js';
import { readSignedData } from '../src/pki/cms-reader.js';
import * as asn1js from 'asn1js';
import { interleavedRates, markdownTable as table } from './measure.js';

const MS = Number(process.env.BENCH_VERIFY_SECONDS ?? 5) * 1000;

export async function bench(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-verify-'));
  const port = 20000 + Math.floor(Math.random() * 20000);
  const services = await openServices(
    { dataDir: dir, databaseUrl: join(dir, 'jpki.sqlite'), databaseUrlExplicit: true },
    { config: { kms: { type: 'soft' } }, clock: systemClock, publicUrl: `http://127.0.0.1:${port}` },
  );
  const app = await buildApp(services);
  try {
    await services.ca.initialize({ keySpec: { type: 'RSA', bits: 2048 }, prefectures: PREFECTURES.filter((p) => p.code === '13'), actor: 'bench' });
    await services.crlUpdater.runOnce();
    await app.listen({ port, host: '127.0.0.1' });
    services.ocsp.startUpdater({ presign: 'on-demand' });

    const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const issued = await services.ca.issue({
      prefecture: '13',
      kind: 'sign',
      publicKey: { spki: publicKey.export({ type: 'spki', format: 'der' }) },
      facts: { name: '公的 一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' },
      municipality: '13103',
      actor: 'bench',
    });
    const content = Buffer.from('転出届\n氏名: 公的 一郎\n転出先: 大阪府大阪市中央区大手前2丁目\n'.repeat(20));
    const signature = await signDetached({
      content,
      certificate: issued.der,
      signingTime: new Date(Math.floor(Date.now() / 1000) * 1000),
      signDigestInfo: async (di) => privateEncrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, di),
    });

    const verifier = await relyingPartyVerifier(services.store, { clock: systemClock });
    const t0 = performance.now();
    const first = await verifier.verify({ signature, content });
    const coldMs = performance.now() - t0;
    if (first.verdict !== 'valid') throw new Error(`the bench application does not verify: ${JSON.stringify(first.reasons)}`);
    console.log(`path: ${first.path.map((p) => p.subject.replace(/^.*CN=/, '')).join(' → ')} (${first.path.length - 1} certificates checked, revocation: ${first.path.slice(1).map((p) => p.revocation.source).join(', ')})`);

    // no caches: a fresh verifier per call (every signature on the path checked again, revocation data parsed again)
    const noCache = createVerifierFromScratch(services, signature, content);
    const data = createHash('sha256').update(content).digest();
    const rawSig = sign('sha256', data, privateKey);
    // measured in turns, so that the ratios to the raw rate hold on a loaded machine
    const [rawRate, verifyRate, uncachedRate, cmsRate, readerRate, decodeRate] = await interleavedRates(
      [
        () => {
          if (!verify('sha256', data, publicKey, rawSig)) throw new Error('raw verify failed');
        },
        async () => {
          const r = await verifier.verify({ signature, content });
          if (r.verdict !== 'valid') throw new Error('verification failed under load');
        },
        noCache,
        () => checkCms(signature, content),
        () => readSignedData(signature),
        () => asn1js.fromBER(new Uint8Array(signature).buffer),
      ],
      MS,
    );

    table([
      ['operation', 'rate', 'vs raw RSA-2048 verify'],
      ['node:crypto verify RSA-2048 (raw, one signature)', `${rawRate.toFixed(0)} /s`, '100 %'],
      ['jpki verifier: CMS + bridge path + cached revocation', `${verifyRate.toFixed(0)} /s`, `${((100 * verifyRate) / rawRate).toFixed(1)} %`],
      ['jpki verifier, nothing cached but the fetched CRL/OCSP bytes', `${uncachedRate.toFixed(0)} /s`, `${((100 * uncachedRate) / rawRate).toFixed(1)} %`],
      [`of which: checkCms (fast DER reader, cached certificates) + CMS signature alone`, `${cmsRate.toFixed(0)} /s`, `${((100 * cmsRate) / rawRate).toFixed(1)} %`],
      [`of which: readSignedData (pki/cms-reader.ts) of the ${signature.length}-byte CMS alone`, `${readerRate.toFixed(0)} /s`, `${((100 * readerRate) / rawRate).toFixed(1)} %`],
      [`for comparison: asn1js.fromBER of the same CMS alone`, `${decodeRate.toFixed(0)} /s`, `${((100 * decodeRate) / rawRate).toFixed(1)} %`],
      ['first verification (fetches OCSP + 3 ARLs over HTTP)', `${coldMs.toFixed(1)} ms`, ''],
    ]);
  } finally {
    await app.close();
    await services.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A verifier without its signature cache: CRLs and the OCSP response handed in as bytes, fetched once. */
function createVerifierFromScratch(services: Awaited<ReturnType<typeof openServices>>, signature: Buffer, content: Buffer): () => Promise<void> {
  let fn: (() => Promise<void>) | undefined;
  return async () => {
    if (!fn) {
      const [authorities, crosses] = await Promise.all([services.store.authorities.list(), services.store.certificates.list({ kind: 'cross' })]);
      const fetched = new Map<string, Uint8Array>();
      const fetcher = {
        async fetch(url: string, request: { body?: Uint8Array; signal: AbortSignal }) {
          const key = `${url}|${request.body ? Buffer.from(request.body).toString('hex') : ''}`;
          let v = fetched.get(key);
          if (!v) {
            const res = await fetch(url, { method: request.body ? 'POST' : 'GET', ...(request.body ? { body: new Uint8Array(request.body), headers: { 'content-type': 'application/ocsp-request' } } : {}) });
            v = new Uint8Array(await res.arrayBuffer());
            fetched.set(key, v);
          }
          return v;
        },
      };
      fn = async () => {
        const v = createVerifier({
          anchors: authorities.filter((a) => a.kind === 'agency').map((a) => a.certificate),
          intermediates: [...authorities.map((a) => a.certificate), ...crosses.map((c) => c.der)],
          revocation: { fetcher },
        });
        const r = await v.verify({ signature, content });
        if (r.verdict !== 'valid') throw new Error(`uncached verification failed: ${JSON.stringify(r.reasons)}`);
      };
    }
    await fn();
  };
}
