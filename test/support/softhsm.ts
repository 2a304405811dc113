/**
 * A throw-away SoftHSM2 token for tests (and benchmarks):
 *
 *   if (!needs('SoftHSM2', softHsmAvailable())) return;   // in describe.runIf(...)
 *   const t = await createSoftHsmToken('test-ca');
 *   const km = await openKeyManager({ type: 'pkcs11', module: t.module, token: t.label, pin: t.pin });
 *   …
 *   await km.close(); await t.cleanup();
 *
 * All tokens of one process live in one temporary token directory described by one softhsm2.conf, and
 * `process.env.SOFTHSM2_CONF` points at it. SoftHSM reads that file and scans the directory when the module
 * is initialised, so create every token a test file needs BEFORE opening the first pkcs11 key manager (or
 * close all managers first: the module is finalised with the last one and re-reads the directory next time).
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { commandExists, fileExists, SOFTHSM_MODULE } from './system.js';

const run = promisify(execFile);

export interface SoftHsmToken {
  /** Path of the softhsm2.conf (also in process.env.SOFTHSM2_CONF). */
  conf: string;
  /** The PKCS#11 module to load. */
  module: string;
  label: string;
  pin: string;
  soPin: string;
  /** Deletes this token; the last cleanup of the process removes the directory too. */
  cleanup(): Promise<void>;
}

export function softHsmAvailable(): boolean {
  return fileExists(SOFTHSM_MODULE) && commandExists('softhsm2-util');
}

let shared: { dir: string; conf: string; tokens: Set<string> } | undefined;
/** Token creation is serialised: two concurrent `--init-token --free` could pick the same free slot. */
let queue: Promise<unknown> = Promise.resolve();

async function sharedDir(): Promise<NonNullable<typeof shared>> {
  if (!shared) {
    const dir = await mkdtemp(join(tmpdir(), 'jpki-softhsm-'));
    await mkdir(join(dir, 'tokens'), { mode: 0o700 });
    const conf = join(dir, 'softhsm2.conf');
    await writeFile(
      conf,
      [`directories.tokendir = ${join(dir, 'tokens')}`, 'objectstore.backend = file', 'log.level = ERROR', 'slots.removable = false', ''].join('\n'),
    );
    shared = { dir, conf, tokens: new Set() };
  }
  process.env.SOFTHSM2_CONF = shared.conf;
  return shared;
}

export function createSoftHsmToken(label: string): Promise<SoftHsmToken> {
  const next = queue.then(() => initToken(label));
  queue = next.catch(() => {});
  return next;
}

async function initToken(label: string): Promise<SoftHsmToken> {
  const s = await sharedDir();
  if (s.tokens.has(label)) throw new Error(`a SoftHSM test token labelled ${label} already exists in this process`);
  const pin = `user-${randomBytes(6).toString('hex')}`;
  const soPin = `so-${randomBytes(6).toString('hex')}`;
  const env = { ...process.env, SOFTHSM2_CONF: s.conf };
  await run('softhsm2-util', ['--init-token', '--free', '--label', label, '--so-pin', soPin, '--pin', pin], { env });
  s.tokens.add(label);
  return {
    conf: s.conf,
    module: SOFTHSM_MODULE,
    label,
    pin,
    soPin,
    async cleanup() {
      if (!shared?.tokens.delete(label)) return;
      await run('softhsm2-util', ['--delete-token', '--token', label], { env }).catch(() => {});
      if (shared.tokens.size === 0) {
        await rm(shared.dir, { recursive: true, force: true });
        if (process.env.SOFTHSM2_CONF === shared.conf) delete process.env.SOFTHSM2_CONF;
        shared = undefined;
      }
    },
  };
}
