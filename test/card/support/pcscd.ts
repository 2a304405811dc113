import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, openSync, readFileSync } from 'node:fs';
import { open, readFile, stat, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { commandExists, fileExists } from '../../support/system.js';

/**
 * The real middleware for the card tests and the card benchmark: Debian's pcscd with the vpcd driver, OpenSC
 * and OpenSSL (card-protocol §9). There is one pcscd per machine: if one runs (.ci/run starts it), it is used
 * as it is; otherwise we start `pcscd --foreground --debug --apdu` ourselves (we run as root) and stop it,
 * by its pid, when done.
 */
export const PCSCD_SOCKET = '/run/pcscd/pcscd.comm';
export const VPCD_DRIVER = '/usr/lib/pcsc/drivers/serial/libifdvpcd.so';
export const OPENSC_PKCS11 = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';

export function middlewareAvailable(): boolean {
  return ['pcscd', 'opensc-tool', 'pkcs15-tool', 'pkcs11-tool', 'openssl'].every(commandExists) && fileExists(VPCD_DRIVER) && fileExists(OPENSC_PKCS11);
}

export interface Pcscd {
  /** Set when we started it (and so must stop it). */
  child: ChildProcess | null;
  log: string | null;
  stop(): Promise<void>;
}

function running(): boolean {
  return spawnSync('pgrep', ['-x', 'pcscd'], { stdio: 'ignore' }).status === 0;
}

/**
 * Whether something listens on the vpcd port, read from /proc/net/tcp (connecting would insert a "card").
 * vpcd's ports 35963/35964 lie in Linux's ephemeral range: when an outgoing connection happens to hold one,
 * vpcd cannot bind and pcscd drops both vpcd readers. (`sysctl net.ipv4.ip_local_reserved_ports=35963-35964`
 * prevents that on a machine that runs pcscd.)
 */
export function vpcdListening(port = 35963): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    try {
      for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
        const [, local, , state] = line.trim().split(/\s+/);
        if (state === '0A' && `${local} `.includes(hex)) return true;
      }
    } catch {
      // no such table
    }
  }
  return false;
}

export async function ensurePcscd(): Promise<Pcscd> {
  if (running() && existsSync(PCSCD_SOCKET)) {
    if (!vpcdListening()) throw new Error('pcscd runs but vpcd does not listen on 35963 (see its log: "Address already in use"?); restart pcscd');
    return { child: null, log: null, stop: async () => {} };
  }
  const log = join(tmpdir(), `jpki-card-pcscd-${process.pid}.log`);
  const out = openSync(log, 'a');
  // Right after a pcscd is killed its pid may linger for a moment and a new one refuses to start: retry.
  for (let attempt = 0; attempt < 10; attempt++) {
    const child = spawn('pcscd', ['--foreground', '--debug', '--apdu'], { stdio: ['ignore', out, out] });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    for (let i = 0; i < 50; i++) {
      if (existsSync(PCSCD_SOCKET) && child.exitCode === null) {
        await new Promise((r) => setTimeout(r, 200));
        if (!vpcdListening()) break; // vpcd could not bind its port: start again
        return {
          child,
          log,
          stop: async () => {
            if (child.exitCode !== null) return;
            child.kill('SIGTERM');
            await exited;
          },
        };
      }
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    if (child.exitCode === null) child.kill('SIGTERM');
    await exited;
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`could not start pcscd (log: ${log})`);
}

/** Whether pcscd sees a card in reader 0 ("Virtual PCD 00 00"). */
export function cardInReader(): boolean {
  return spawnSync('opensc-tool', ['-r', '0', '-a'], { stdio: 'ignore', timeout: 15_000 }).status === 0;
}

export async function waitForCard(present: boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (cardInReader() !== present) {
    if (Date.now() > until) throw new Error(`the card did not ${present ? 'appear in' : 'leave'} "Virtual PCD 00 00" within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** Runs a middleware tool; output is stdout and stderr together, as a user sees it. */
export function tool(cmd: string, args: string[], env: Record<string, string> = {}): { status: number; output: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { status: r.status ?? -1, output: `${r.stdout ?? ''}${r.stderr ?? ''}` };
}

/** PKCS#11 slot id of the token with this label (OpenSC gives the card two: one per PIN, card-protocol §7.3). */
export function slotOf(tokenLabel: string): string {
  const listing = execFileSync('pkcs11-tool', ['--module', OPENSC_PKCS11, '-L'], { encoding: 'utf8' });
  const slots = listing.split(/^Slot /m).slice(1);
  for (const s of slots) {
    const id = /^\d+ \((0x[0-9a-f]+)\)/.exec(s)?.[1];
    if (id && s.includes(`token label        : ${tokenLabel}`)) return String(Number.parseInt(id, 16));
  }
  throw new Error(`no PKCS#11 slot with token "${tokenLabel}" in:\n${listing}`);
}

/**
 * There is one pcscd per machine and one vpcd port (35963, reader "Virtual PCD 00 00"), and vitest runs test
 * files in parallel: every test file that drives pcscd (test/card/pcsc-stack.test.ts, test/e2e/) holds this
 * lock while it does. The lock is a file in the temp dir created exclusively ('wx') holding the owner's pid;
 * a lock whose process is gone (a killed test run) is taken over. Returns the release function.
 */
export const PCSCD_LOCK = join(tmpdir(), 'jpki-pcscd.lock');

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export async function acquirePcscdLock(timeoutMs = 15 * 60_000): Promise<() => Promise<void>> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    try {
      const file = await open(PCSCD_LOCK, 'wx', 0o644);
      await file.writeFile(`${process.pid}\n`);
      await file.close();
      let held = true;
      return async () => {
        if (!held) return;
        held = false;
        // Only our own lock: never remove one another process took over meanwhile.
        if ((await readFile(PCSCD_LOCK, 'utf8').catch(() => '')).trim() === String(process.pid)) await unlink(PCSCD_LOCK).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const content = (await readFile(PCSCD_LOCK, 'utf8').catch(() => '')).trim();
    const holder = /^\d+$/.test(content) ? Number(content) : null;
    // An empty file is a lock being written; one left empty for long was abandoned mid-write.
    const abandoned = holder === null && Date.now() - ((await stat(PCSCD_LOCK).catch(() => null))?.mtimeMs ?? Date.now()) > 10_000;
    if ((holder !== null && !processAlive(holder)) || abandoned) {
      await unlink(PCSCD_LOCK).catch(() => undefined);
      continue;
    }
    if (Date.now() > until) throw new Error(`pcscd is still in use by process ${holder ?? '?'} after ${timeoutMs} ms (lock file ${PCSCD_LOCK})`);
    await new Promise((r) => setTimeout(r, 250));
  }
}
