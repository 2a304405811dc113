/**
 * The IC card: APDU round trips per second and signature latency, in-process and through the real middleware
 * (`jpki card serve` → vpcd → pcscd → pcsclite / OpenSC). `npm run bench -- card`.
 *
 * Through pcscd the figures are taken twice: on the default connection (127.0.0.1:35963), where Debian's
 * vpcd 0.8 costs a delayed ACK per APDU (about 40 ms, see docs/card.md), and, when we are root, once more
 * over 127.0.0.2 with a `quickack` loopback route that the bench adds and removes again.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { JpkiClient, PcscReader, createCardFile, digestInfoOf, openInProcessReader } from '../src/reader/index.js';
import { cardIssuerFromMasterKey } from '../src/card/index.js';

const BENCH_ISSUER_MASTER_KEY = Buffer.alloc(32, 0x42);
import { AUTH_PIN, SIGN_PIN, personalise } from '../test/card/support/cards.js';
import { OPENSC_PKCS11, cardInReader, ensurePcscd, middlewareAvailable, waitForCard } from '../test/card/support/pcscd.js';

const MS = Number(process.env.JPKI_BENCH_MS ?? 1500);
const JPKI_BIN = join(import.meta.dirname, '..', 'bin', 'jpki.js');
const SELECT_EF = Buffer.from('00A4020C02000A', 'hex');
const READ_256 = Buffer.from('00B0000000', 'hex');
const DIGEST_INFO = digestInfoOf('sha256', Buffer.from('bench'));

interface Stats {
  n: number;
  mean: number;
  p50: number;
  p95: number;
}

async function latency(fn: () => Promise<unknown> | unknown, { ms = MS, max = 10_000, min = 3, warmup = 2 } = {}): Promise<Stats> {
  for (let i = 0; i < warmup; i++) await fn();
  const times: number[] = [];
  const end = performance.now() + ms;
  while ((performance.now() < end || times.length < min) && times.length < max) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const q = (f: number) => times[Math.min(times.length - 1, Math.floor(f * times.length))]!;
  return { n: times.length, mean: times.reduce((a, b) => a + b, 0) / times.length, p50: q(0.5), p95: q(0.95) };
}

const fmt = (s: Stats) => `mean ${s.mean.toFixed(2)} ms, p50 ${s.p50.toFixed(2)} ms, p95 ${s.p95.toFixed(2)} ms (n=${s.n})`;
const perSecond = (s: Stats) => `${Math.round(1000 / s.mean).toLocaleString('en')} /s`;

async function makeCard(dir: string): Promise<{ dataDir: string; cardFile: string }> {
  const dataDir = join(dir, 'data');
  const cardFile = join(dir, 'bench.card');
  // The bench's own card world: a fixed issuer master key (raw bytes are for tools and tests, never the service).
  const issuer = cardIssuerFromMasterKey(BENCH_ISSUER_MASTER_KEY);
  await createCardFile(cardFile, { dataDir, issuer });
  const reader = await openInProcessReader(cardFile, { dataDir });
  await personalise(new JpkiClient(reader), BENCH_ISSUER_MASTER_KEY);
  await reader.close();
  return { dataDir, cardFile };
}

async function inProcess(dataDir: string, cardFile: string): Promise<void> {
  console.log('\n### in-process (card image on disk, fsync on every counter change)');
  const reader = await openInProcessReader(cardFile, { dataDir });
  const client = new JpkiClient(reader);
  await client.selectAp();
  const select = await latency(() => reader.transmit(SELECT_EF));
  console.log(`APDU round trip (SELECT EF):          ${perSecond(select)}  (${fmt(select)})`);
  const read = await latency(() => reader.transmit(READ_256));
  console.log(`APDU round trip (READ BINARY 256):    ${perSecond(read)}  (${fmt(read)})`);
  const verify = await latency(() => client.verifyPin('sign', SIGN_PIN));
  console.log(`VERIFY (2 persisted counter writes):  ${fmt(verify)}`);
  await client.verifyPin('sign', SIGN_PIN);
  const sign = await latency(() => client.sign('sign', DIGEST_INFO));
  console.log(`COMPUTE DIGITAL SIGNATURE (RSA-2048): ${fmt(sign)}`);
  const both = await latency(async () => {
    await client.verifyPin('sign', SIGN_PIN);
    await client.sign('sign', DIGEST_INFO);
  });
  console.log(`VERIFY + SELECT + SIGN:               ${fmt(both)}`);
  await reader.close();
}

function serve(dataDir: string, cardFile: string, vpcd: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, [JPKI_BIN, '--data', dataDir, 'card', 'serve', '--card', cardFile, '--vpcd', vpcd], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (/inserted into vpcd/.test(err)) resolve(child);
    });
    child.once('exit', (code) => reject(new Error(`jpki card serve exited with ${code}: ${err}`)));
  });
}

async function stopServe(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await waitForCard(false);
}

function pkcs11Sessions(run: (p: pkcs11js.PKCS11) => Promise<void>): Promise<void> {
  const p = new pkcs11js.PKCS11();
  p.load(OPENSC_PKCS11);
  p.C_Initialize();
  return run(p).finally(() => p.C_Finalize());
}

function slotFor(p: pkcs11js.PKCS11, label: string): Buffer {
  const slot = p.C_GetSlotList(true).find((s) => p.C_GetTokenInfo(s).label.trim() === label);
  if (!slot) throw new Error(`no token "${label}"`);
  return slot;
}

function privateKey(p: pkcs11js.PKCS11, session: Buffer, id: number): Buffer {
  p.C_FindObjectsInit(session, [
    { type: pkcs11js.CKA_CLASS, value: pkcs11js.CKO_PRIVATE_KEY },
    { type: pkcs11js.CKA_ID, value: Buffer.from([id]) },
  ]);
  const key = p.C_FindObjects(session);
  p.C_FindObjectsFinal(session);
  if (!key) throw new Error(`no private key with id ${id}`);
  return key;
}

async function throughPcscd(label: string, dataDir: string, cardFile: string, vpcd: string): Promise<void> {
  console.log(`\n### through pcscd: ${label} (jpki card serve --vpcd ${vpcd})`);
  const child = await serve(dataDir, cardFile, vpcd);
  try {
    await waitForCard(true);
    const heavy = label.startsWith('default');
    const reader = await PcscReader.connect({ timeoutMs: 20_000 });
    const client = new JpkiClient(reader);
    await client.selectAp();
    const select = await latency(() => reader.transmit(SELECT_EF), { ms: heavy ? 1000 : MS });
    console.log(`pcsclite APDU round trip (SELECT EF):      ${perSecond(select)}  (${fmt(select)})`);
    const both = await latency(
      async () => {
        await client.verifyPin('sign', SIGN_PIN);
        await client.sign('sign', DIGEST_INFO);
      },
      { ms: heavy ? 1000 : MS },
    );
    console.log(`pcsclite VERIFY + SELECT + SIGN:           ${fmt(both)}`);
    await reader.close();

    const data = Buffer.from('bench');
    await pkcs11Sessions(async (p) => {
      const signSession = p.C_OpenSession(slotFor(p, 'JPKI (Digital Signature PIN)'), pkcs11js.CKF_SERIAL_SESSION);
      p.C_Login(signSession, pkcs11js.CKU_USER, SIGN_PIN);
      const signKey = privateKey(p, signSession, 2);
      // The signing key is "always authenticate": every signature is C_SignInit, a context-specific login, C_Sign.
      const signing = await latency(
        () => {
          p.C_SignInit(signSession, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, signKey);
          p.C_Login(signSession, pkcs11js.CKU_CONTEXT_SPECIFIC, SIGN_PIN);
          p.C_Sign(signSession, data, Buffer.alloc(256));
        },
        { ms: heavy ? 1000 : MS },
      );
      console.log(`OpenSC PKCS#11, signing key (login + sign): ${fmt(signing)}`);
      p.C_CloseSession(signSession);
      const authSession = p.C_OpenSession(slotFor(p, 'JPKI (User Authentication PIN)'), pkcs11js.CKF_SERIAL_SESSION);
      p.C_Login(authSession, pkcs11js.CKU_USER, AUTH_PIN);
      const authKey = privateKey(p, authSession, 1);
      const auth = await latency(
        () => {
          p.C_SignInit(authSession, { mechanism: pkcs11js.CKM_SHA256_RSA_PKCS }, authKey);
          p.C_Sign(authSession, data, Buffer.alloc(256));
        },
        { ms: heavy ? 1000 : MS },
      );
      console.log(`OpenSC PKCS#11, auth key (sign, logged in): ${fmt(auth)}`);
      p.C_CloseSession(authSession);
    });

    const message = join(tmpdir(), `jpki-bench-${process.pid}.txt`);
    await writeFile(message, 'bench');
    const slotList = spawnSync('pkcs11-tool', ['--module', OPENSC_PKCS11, '-L'], { encoding: 'utf8' }).stdout;
    const signSlot = /Slot (\d+) \(0x[0-9a-f]+\)[^\n]*\n\s+token label\s+: JPKI \(Digital Signature PIN\)/.exec(slotList)?.[1] ?? '1';
    for (const [what, env] of [
      ['pkcs11-tool --sign (process, all probes): ', {}],
      ['pkcs11-tool --sign, OPENSC_DRIVER=jpki:    ', { OPENSC_DRIVER: 'jpki' }],
    ] as const) {
      const run = await latency(
        () => {
          const r = spawnSync('pkcs11-tool', ['--module', OPENSC_PKCS11, '--slot', signSlot, '--login', '--pin', SIGN_PIN, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', '02', '-i', message, '-o', '/dev/null'], { env: { ...process.env, ...env }, stdio: 'ignore' });
          if (r.status !== 0) throw new Error(`pkcs11-tool failed (${r.status})`);
        },
        { ms: heavy ? 1 : MS, min: 3, warmup: 1 },
      );
      console.log(`${what}${fmt(run)}`);
    }
  } finally {
    await stopServe(child);
  }
}

/** The loopback route that makes our side of the vpcd connection ACK at once (docs/card.md). */
function addQuickackRoute(): 'added' | 'present' | 'unavailable' {
  const show = spawnSync('ip', ['route', 'show', 'table', 'local', '127.0.0.2'], { encoding: 'utf8' });
  if (show.status !== 0) return 'unavailable';
  if (/quickack 1/.test(show.stdout)) return 'present';
  const add = spawnSync('ip', ['route', 'add', 'local', '127.0.0.2/32', 'dev', 'lo', 'table', 'local', 'quickack', '1'], { encoding: 'utf8' });
  return add.status === 0 ? 'added' : 'unavailable';
}

export async function bench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'jpki-bench-card-'));
  try {
    const { dataDir, cardFile } = await makeCard(dir);
    await inProcess(dataDir, cardFile);
    if (!middlewareAvailable()) {
      console.log('\n(pcscd, vpcd or OpenSC not installed: no figures through pcscd)');
      return;
    }
    const pcscd = await ensurePcscd();
    try {
      if (cardInReader()) {
        console.log('\n(a card is already in "Virtual PCD 00 00": no figures through pcscd)');
        return;
      }
      await throughPcscd('default connection', dataDir, cardFile, '127.0.0.1:35963');
      const route = addQuickackRoute();
      if (route === 'unavailable') {
        console.log('\n(cannot add the quickack loopback route (not root?): no tuned figures)');
        return;
      }
      try {
        await throughPcscd(`quickack loopback route (${route === 'added' ? 'added for the bench' : 'already configured'})`, dataDir, cardFile, '127.0.0.2:35963');
      } finally {
        if (route === 'added') spawnSync('ip', ['route', 'del', 'local', '127.0.0.2/32', 'dev', 'lo', 'table', 'local']);
      }
    } finally {
      await pcscd.stop();
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
