/**
 * The signing threads of the software key store: worker threads that make every signature of a software key
 * (node:crypto's `sign`, synchronously there, one after the other), one fewer than the machine has cores
 * (at least one), so that one core is left to the event loop.
 *
 * Why not async `crypto.sign` on the libuv pool: issuance keeps many signatures in flight, and the pool's four
 * threads then all sign at once beside the event loop — on two cores the event loop, which does everything
 * else of an issuance, got a fraction of a core while they ran, and the ledger's fdatasync, also a pool job,
 * queued behind the signatures. Threads of their own leave the event loop its core and the pool free for the
 * disk (docs/ca.md, "The signing threads").
 *
 * The key never leaves the process: a KeyObject is handed to the thread once (node clones the handle, not
 * bytes through JavaScript) and forgotten there when the caller's KeyObject is collected. The thread keeps
 * the process alive only while a signature is pending; if it dies, the pending signatures fail and the next
 * one starts a new thread.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { KeyObject } from 'node:crypto';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { sign } = require('node:crypto');
const keys = new Map();
parentPort.on('message', (m) => {
  if (m.type === 'key') return void keys.set(m.keyId, m.key);
  if (m.type === 'forget') return void keys.delete(m.keyId);
  let signature;
  try {
    signature = sign(m.digest, m.data, keys.get(m.keyId));
  } catch (e) {
    return parentPort.postMessage({ id: m.id, error: String((e && e.message) || e) });
  }
  parentPort.postMessage({ id: m.id, signature });
});
`;

type Reply = { id: number; signature?: Uint8Array; error?: string };

interface Pending {
  resolve: (signature: Buffer) => void;
  reject: (e: Error) => void;
}

class SigningThread {
  // execArgv: [] so that the source is always read as CommonJS (a parent run with --input-type=module would
  // otherwise pass that on) and no loader of the parent's (--import) runs in the thread
  private readonly worker = new Worker(SOURCE, { eval: true, name: 'jpki-signing', execArgv: [] });
  readonly pending = new Map<number, Pending>();
  private readonly keyIds = new WeakMap<KeyObject, number>();
  private readonly forget = new FinalizationRegistry<number>((keyId) => {
    if (!this.dead) this.worker.postMessage({ type: 'forget', keyId });
  });
  private nextId = 1;
  private nextKeyId = 1;
  dead = false;

  constructor(onDeath: () => void) {
    this.worker.on('message', (m: Reply) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.signature) p.resolve(Buffer.from(m.signature.buffer, m.signature.byteOffset, m.signature.byteLength));
      else p.reject(new Error(m.error ?? 'the signing thread gave no signature'));
      if (this.pending.size === 0) this.worker.unref();
    });
    const die = (why: Error) => {
      if (this.dead) return;
      this.dead = true;
      onDeath();
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
    };
    this.worker.on('error', die);
    this.worker.on('exit', (code) => die(new Error(`the signing thread stopped (exit code ${code})`)));
    this.worker.unref();
  }

  utilization(): { active: number; idle: number } {
    return this.worker.performance.eventLoopUtilization();
  }

  sign(digest: string, data: Uint8Array, key: KeyObject): Promise<Buffer> {
    let keyId = this.keyIds.get(key);
    if (keyId === undefined) {
      keyId = this.nextKeyId++;
      this.keyIds.set(key, keyId);
      this.forget.register(key, keyId);
      this.worker.postMessage({ type: 'key', keyId, key });
    }
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      if (this.pending.size === 1) this.worker.ref();
      this.worker.postMessage({ type: 'sign', id, keyId, digest, data });
    });
  }
}

/** How many signing threads a process runs: one core is left to the event loop. */
const SIGNING_THREADS = Math.max(1, availableParallelism() - 1);

const threads: (SigningThread | undefined)[] = new Array(SIGNING_THREADS).fill(undefined);

/**
 * How long the signing threads running now have been busy and idle since they started, in ms (their event
 * loops' utilization): for measuring whether they are what limits a process (bench/issuance.ts).
 */
export function signingThreadTime(): { active: number; idle: number } {
  let active = 0;
  let idle = 0;
  for (const t of threads) {
    if (!t || t.dead) continue;
    const u = t.utilization();
    active += u.active;
    idle += u.idle;
  }
  return { active, idle };
}

/**
 * Signs `data` with `key` (a private KeyObject) on the signing thread with the fewest signatures pending;
 * threads start on first use.
 */
export function signOnThread(digest: string, data: Uint8Array, key: KeyObject): Promise<Buffer> {
  let best = 0;
  for (let i = 0; i < threads.length; i++) {
    const t = threads[i];
    if (!t) {
      best = i;
      break;
    }
    if (t.pending.size < threads[best]!.pending.size) best = i;
  }
  const thread = (threads[best] ??= new SigningThread(() => {
    if (threads[best] === thread) threads[best] = undefined;
  }));
  return thread.sign(digest, data, key);
}
