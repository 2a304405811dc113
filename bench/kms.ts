/**
 * Signing rates of the key store, next to the raw rates it is built on:
 *  - software: node:crypto sync sign (one core) vs the soft signer (async crypto.sign on the libuv pool),
 *    awaited one at a time and with several in flight;
 *  - SoftHSM2: pkcs11js sync C_Sign on one session vs the PKCS#11 signer (C_SignAsync over a session pool).
 * RSA-2048 and ECDSA P-256. `npm run bench -- kms`.
 */
import { sign as nodeSign, type KeyObject } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { openKeyManager, type KeyManager } from '../src/kms/index.js';
import type { KeySpec, Signer } from '../src/pki/signer.js';
import { createSoftHsmToken, softHsmAvailable } from '../test/support/softhsm.js';
import { asyncRate as asyncRateFor, syncRate as syncRateFor } from './measure.js';

const MS = Number(process.env.JPKI_BENCH_MS ?? 1500);
const TBS = Buffer.alloc(1200, 0x5a); // about the size of an end-entity TBSCertificate
const syncRate = (fn: () => void) => syncRateFor(fn, MS);
const asyncRate = (fn: () => Promise<unknown>, inFlight: number) => asyncRateFor(fn, inFlight, MS);



type Row = { what: string; rate: number; base?: number };
const rows: Row[] = [];
const add = (what: string, rate: number, base?: number) => rows.push({ what, rate, ...(base ? { base } : {}) });

async function signerRows(prefix: string, signer: Signer, base: number, windows: number[]) {
  add(`${prefix}, sequential`, await asyncRate(() => signer.sign(TBS), 1), base);
  for (const w of windows) add(`${prefix}, ${w} in flight`, await asyncRate(() => signer.sign(TBS), w), base);
}

const SPECS: [string, KeySpec][] = [
  ['RSA-2048', { type: 'RSA', bits: 2048 }],
  ['ECDSA P-256', { type: 'EC', curve: 'P-256' }],
];

async function software() {
  const dir = await mkdtemp(join(tmpdir(), 'jpki-bench-kms-'));
  try {
    const km = await openKeyManager({ type: 'soft', dir, passphrase: 'bench' });
    for (const [name, spec] of SPECS) {
      const { uri } = await km.createKey(name.replace(/\W+/g, '-').toLowerCase(), spec);
      const signer = await km.getSigner(uri);
      // The baseline: a KeyObject signed with synchronously, as raw as node:crypto gets.
      const key = Reflect.get(signer, 'key') as KeyObject;
      const base = syncRate(() => nodeSign('sha256', TBS, key));
      add(`soft ${name}: node:crypto sync sign (baseline, 1 core)`, base, base);
      await signerRows(`soft ${name}: KeyManager signer`, signer, base, [4, 8, 16]);
    }
    await km.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** pkcs11js directly: one session, C_SignInit + sync C_Sign (the module is not shared with a KeyManager here). */
function rawPkcs11Rate(module: string, token: string, pin: string, label: string, ecdsa: boolean): number {
  const P = pkcs11js;
  const lib = new P.PKCS11();
  lib.load(module);
  lib.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
  try {
    const slot = lib.C_GetSlotList(true).find((s) => lib.C_GetTokenInfo(s).label.trimEnd() === token)!;
    const s = lib.C_OpenSession(slot, P.CKF_SERIAL_SESSION);
    lib.C_Login(s, P.CKU_USER, pin);
    lib.C_FindObjectsInit(s, [
      { type: P.CKA_CLASS, value: P.CKO_PRIVATE_KEY },
      { type: P.CKA_LABEL, value: label },
    ]);
    const key = lib.C_FindObjects(s, 1)[0]!;
    lib.C_FindObjectsFinal(s);
    const out = Buffer.alloc(512);
    const digest = Buffer.alloc(32, 1);
    return syncRate(() => {
      lib.C_SignInit(s, { mechanism: ecdsa ? P.CKM_ECDSA : P.CKM_SHA256_RSA_PKCS }, key);
      lib.C_Sign(s, ecdsa ? digest : TBS, out);
    });
  } finally {
    lib.C_Finalize();
    lib.close();
  }
}

async function softHsm() {
  if (!softHsmAvailable()) {
    console.log('(SoftHSM2 not installed: PKCS#11 rows skipped)');
    return;
  }
  const t = await createSoftHsmToken('jpki-bench');
  const config = { type: 'pkcs11' as const, module: t.module, token: t.label, pin: t.pin };
  try {
    const setup = await openKeyManager(config);
    const uris: string[] = [];
    for (const [name, spec] of SPECS) uris.push((await setup.createKey(name.replace(/\W+/g, '-').toLowerCase(), spec)).uri);
    await setup.close();

    for (const [i, [name, spec]] of SPECS.entries()) {
      const base = rawPkcs11Rate(t.module, t.label, t.pin, name.replace(/\W+/g, '-').toLowerCase(), spec.type === 'EC');
      add(`SoftHSM ${name}: pkcs11js sync C_Sign, 1 session (baseline)`, base, base);
      for (const sessions of [1, 2, 4]) {
        const km: KeyManager = await openKeyManager({ ...config, sessions });
        const signer = await km.getSigner(uris[i]!);
        if (sessions === 1) add(`SoftHSM ${name}: KeyManager signer, 1 session, sequential`, await asyncRate(() => signer.sign(TBS), 1), base);
        add(`SoftHSM ${name}: KeyManager signer, ${sessions} session(s), ${2 * sessions} in flight`, await asyncRate(() => signer.sign(TBS), 2 * sessions), base);
        await km.close();
      }
    }
  } finally {
    await t.cleanup();
  }
}

export async function bench(): Promise<void> {
  await software();
  await softHsm();
  const w = Math.max(...rows.map((r) => r.what.length));
  console.log(`${'operation'.padEnd(w)} | signatures/s | vs baseline`);
  console.log(`${'-'.repeat(w)} | ------------ | -----------`);
  for (const r of rows)
    console.log(`${r.what.padEnd(w)} | ${Math.round(r.rate).toLocaleString('en-US').padStart(12)} | ${r.base ? `${Math.round((100 * r.rate) / r.base)} %`.padStart(11) : ''}`);
}
