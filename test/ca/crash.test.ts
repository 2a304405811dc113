/**
 * The `kill -9` test (issue 10): processes doing the CA's work — counter issuances onto cards, issuances
 * through the CA and through `jpki ca issue`, revocations, CRL generations — are killed at random moments,
 * many times. Afterwards, with the sweeper run: no serial twice; every certificate that was signed is in the
 * store, checked against what the cards and the output files hold; every revocation is in the next CRL;
 * nothing is left reserved or signed-but-unconfirmed; the audit chain verifies. Bounded in time for CI.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FixedClock } from '../../src/common/clock.js';
import { openServices, type Services } from '../../src/compose/services.js';
import { writeConfig } from '../../src/compose/data-dir.js';
import { decodeCardImage } from '../../src/card/card-image.js';
import { cardFabricationSecret } from '../../src/reader/index.js';
import { PREFECTURES } from '../../src/pki/prefectures.js';
import { scanCrl } from '../../src/pki/crl-scanner.js';
import { fromPem } from '../../src/pki/pem.js';
import { readTlv, bytesOf } from '../../src/pki/der.js';
import { availableStoreKinds, dropSchemaOf, freshStoreUrl } from '../support/stores.js';
import { jpki, JPKI_BIN } from '../support/cli.js';

const kinds = await availableStoreKinds();
const ROOT = join(import.meta.dirname, '..', '..');
/** Rounds of worker kills and of `jpki ca issue` kills per store (CI time is bounded: ~1 minute a store). */
const WORKER_ROUNDS = Number(process.env.JPKI_CRASH_ROUNDS ?? 8);
const CLI_ROUNDS = Number(process.env.JPKI_CRASH_CLI_ROUNDS ?? 6);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const between = (lo: number, hi: number) => lo + Math.floor(Math.random() * (hi - lo));

/** Starts a process and resolves once its output matches `ready` (or it exits). */
function start(args: string[], ready: RegExp | undefined): Promise<{ child: ChildProcess; output: () => string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  return new Promise((resolve) => {
    if (!ready) return resolve({ child, output: () => out });
    const check = () => ready.test(out) && resolve({ child, output: () => out });
    child.stdout!.on('data', check);
    child.on('exit', () => resolve({ child, output: () => out }));
  });
}

async function kill9(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

/** The DER certificate at the start of a card's certificate file (filler after it), or undefined. */
function certificateIn(file: Buffer): Buffer | undefined {
  if (file.length === 0 || file[0] !== 0x30) return undefined;
  try {
    return Buffer.from(bytesOf(file, readTlv(file, 0)));
  } catch {
    return undefined;
  }
}

describe.each(kinds)('kill -9 during issuance, revocation and CRL generation (%s)', (storeKind) => {
  let dir: string;
  let data: string;
  let url: string;
  const stats = { workerKills: 0, selfKills: 0, cliKills: 0, counterIssued: 0, issued: 0, revoked: 0, crls: 0 };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-crash-'));
    data = join(dir, 'data');
    url = freshStoreUrl(storeKind, join(data, 'jpki.sqlite'));
    mkdirSync(join(data, 'cards'), { recursive: true });
    mkdirSync(join(dir, 'out'));
    const s = await openServices({ dataDir: data, databaseUrl: url, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
    try {
      await s.ca.initialize({ keySpec: { type: 'EC', curve: 'P-256' }, prefectures: PREFECTURES.filter((p) => p.code === '13'), actor: 'test' });
      await s.counter.operators.add({ name: 'crash-clerk', municipality: '13103', role: 'clerk', password: 'correct-horse-42' }, 'test');
      for (const [i, name] of ['公的 一郎', '公的 花子', '認証 太郎', '署名 次郎'].entries())
        await s.register.add({ name, dateOfBirth: `198${i}-04-0${i + 1}`, sex: String((i % 2) + 1), address: `東京都港区虎ノ門${i + 1}丁目`, municipality: '13103' }, 'test');
      cardFabricationSecret(data, { create: true });
    } finally {
      await s.close();
    }
    writeConfig(data, { kms: { type: 'soft' }, databaseUrl: url });
    writeFileSync(join(dir, 'auth.pub.pem'), generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'pem' }));
  }, 120_000);

  afterAll(async () => {
    if (storeKind === 'postgres' && url) await dropSchemaOf(url);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it(
    'leaves no serial twice, no signed certificate unrecorded, no revocation off the next CRL, and a verifiable audit chain',
    async () => {
      // 1. Workers killed at random moments while they issue (counter and CA), revoke and make CRLs.
      // Every other round the worker also dies by itself at one of the most dangerous points, in turn.
      const points = ['after-reserve', 'after-sign', 'before-confirm', 'crl-signed'];
      for (let round = 0; round < WORKER_ROUNDS; round++) {
        const point = round % 2 === 1 ? points[((round - 1) / 2) % points.length]! : 'none';
        const w = await start([join(ROOT, 'bin', 'run-ts.js'), 'test/ca/support/crash-worker.ts', data, url, String(round), point], /ready\n/);
        await Promise.race([new Promise((r) => w.child.once('exit', r)), sleep(between(300, 3000))]);
        if (w.output().includes("dying at")) (stats.selfKills++, console.log(`round ${round}: ${w.output().split("\n").filter((l) => l.startsWith("dying")).join(" ")}`));
        await kill9(w.child);
        stats.workerKills++;
        for (const line of w.output().split('\n')) {
          if (line.startsWith('counter ')) stats.counterIssued++;
          else if (line.startsWith('issued ')) stats.issued++;
          else if (line.startsWith('revoked ')) stats.revoked++;
          else if (line.startsWith('crl ')) stats.crls++;
        }
        expect(w.output()).not.toMatch(/\n\s+at .*\.ts:\d+/); // no crash of its own before the kill
      }
      // 2. `jpki ca issue` killed at random moments (and some left to finish).
      const outputs: string[] = [];
      for (let round = 0; round < CLI_ROUNDS; round++) {
        const out = join(dir, 'out', `cli-${round}.pem`);
        outputs.push(out);
        const p = await start([JPKI_BIN, '--data', data, 'ca', 'issue', '--prefecture', '13', '--public-key', join(dir, 'auth.pub.pem'), '--kind', 'auth', '--out', out], undefined);
        // every third run is left to finish: its file must be in the store too
        const exited = new Promise((r) => p.child.once('exit', r));
        await (round % 3 === 2 ? exited : Promise.race([exited, sleep(between(200, 2500))]));
        if (p.child.exitCode === null) stats.cliKills++;
        await kill9(p.child);
      }

      // 3. After the crashes: the sweeper settles every open reservation (nothing is running any more).
      const sweep = jpki(['--data', data, 'ca', 'sweep', '--grace', '0']);
      expect(sweep.stderr).toBe('');
      expect(sweep.status).toBe(0);

      const s: Services = await openServices({ dataDir: data, databaseUrl: url, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } }, clock: new FixedClock(Date.now()) });
      try {
        const all = await s.store.certificates.list({ limit: 10_000_000 });
        // no serial twice: not under a CA, not across the ledger
        const seen = new Set<string>();
        for (const c of all) {
          expect(seen.has(`${c.caId}/${c.serial}`)).toBe(false);
          seen.add(`${c.caId}/${c.serial}`);
        }
        const ledger = await s.ca.ledgerCounts();
        expect(ledger.reserved).toBe(0);
        expect(ledger.signed).toBe(0);
        const stored = new Map(all.map((c) => [`${c.caId}/${c.serial}`, c]));
        const byDer = new Map(all.map((c) => [c.der.toString('base64'), c]));

        // every certificate on a card is in the store, byte for byte
        const fabrication = cardFabricationSecret(data, { create: false });
        let onCards = 0;
        for (const f of readdirSync(join(data, 'cards')).filter((x) => x.endsWith('.card'))) {
          const image = readFileSync(join(data, 'cards', f));
          if (image.length === 0) continue;
          const { state } = decodeCardImage(image, fabrication);
          for (const file of ['sign', 'auth'] as const) {
            const der = certificateIn(state.certificates[file]);
            if (!der) continue;
            onCards++;
            expect(byDer.has(der.toString('base64')), `${f} ${file}`).toBe(true);
          }
        }
        // every certificate `jpki ca issue` wrote is in the store, byte for byte
        let written = 0;
        for (const out of outputs) {
          if (!existsSync(out)) continue;
          written++;
          expect(byDer.has(fromPem(readFileSync(out, 'utf8'), ['CERTIFICATE'])!.toString('base64'))).toBe(true);
        }

        // every revocation is on the next CRL, and nothing else is
        const crl = await s.crls.generate('pref-13', { type: 'full' }, 'test');
        const listed = new Set([...scanCrl(crl.der).entries()].map((e) => e.serialHex));
        const revoked = all.filter((c) => c.caId === 'pref-13' && c.revokedAt !== null).map((c) => c.serial);
        expect([...listed].sort()).toEqual([...new Set(revoked)].sort());
        for (const serial of listed) expect(stored.get(`pref-13/${serial}`)?.revokedAt).not.toBeNull();

        // the audit chain and its checkpoints verify, and every certificate has its records
        const report = await s.audit.verify();
        expect(report.problems).toEqual([]);
        console.log(
          `kill -9 (${storeKind}): ${stats.workerKills} worker kills (${stats.selfKills} at a chosen point), ${stats.cliKills} CLI kills; finished before the kills: ${stats.counterIssued} counter issuances, ${stats.issued} CA issuances, ${stats.revoked} revocations, ${stats.crls} CRLs; ` +
            `${all.length} certificates stored, ${onCards} on cards, ${written} CLI files, ${listed.size} revoked on the CRL; ledger ${JSON.stringify(ledger)}; swept: ${sweep.stdout.split('\n')[0]}`,
        );
      } finally {
        await s.close();
      }
      // and the CLI agrees
      const verify = jpki(['--data', data, 'audit', 'verify']);
      expect(verify.stderr).toBe('');
      expect(verify.status).toBe(0);
    },
    15 * 60_000,
  );
});
