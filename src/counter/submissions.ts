import { createHash } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { canonicalJson, type Scoped, type ScopedStore } from '../store/index.js';
import { CounterError } from './errors.js';
import type { Operator } from './operators.js';

/** A card session plus signing takes seconds; a reservation older than this belongs to a dead process. */
export const SUBMISSION_LEASE_MS = 2 * 60_000;

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9_.:-]{8,128}$/;

/** Seals a submission: stores its result in the transaction that produced it. */
export type Seal = (tx: Scoped<'submissions'>, result: unknown) => Promise<void>;

export interface SubmissionOutcome<T> {
  result: T;
  /** True when this is the stored result of an earlier request with the same key. */
  replayed: boolean;
}

/**
 * Idempotent submissions. Each counter action carries a client key (the API's Idempotency-Key header, one
 * per CLI run). The key is reserved before any work (so a double click waits instead of acting twice), the
 * result is stored in the same transaction as the action's effects (so "done" and "stored" cannot
 * disagree), and a repeated key returns that first result. A failure releases the key: nothing was done, so
 * a retry may run again. Secrets (PINs) never enter the stored request hash or result.
 */
export class Submissions {
  constructor(private readonly deps: { store: ScopedStore<'submissions'>; clock: Clock }) {}

  async run<T>(operator: Operator, key: string, action: string, request: unknown, work: (seal: Seal) => Promise<T>): Promise<SubmissionOutcome<T>> {
    if (!IDEMPOTENCY_KEY_PATTERN.test(key ?? ''))
      throw new CounterError('COUNTER_IDEMPOTENCY_KEY_REQUIRED', 'an idempotency key of 8–128 characters (A–Z, a–z, 0–9, _ . : -) is needed', {
        field: 'Idempotency-Key',
      });
    const { store, clock } = this.deps;
    const requestHash = createHash('sha256').update(canonicalJson({ action, request })).digest('hex');
    const now = clock.now().getTime();
    const reserved = await store.transaction((tx) =>
      tx.submissions.reserve({ operatorId: operator.id, key, action, requestHash, leaseUntil: now + SUBMISSION_LEASE_MS, createdAt: now }),
    );
    if (!reserved.created) {
      const r = reserved.record;
      if (r.action !== action || r.requestHash !== requestHash)
        throw new CounterError('COUNTER_IDEMPOTENCY_KEY_REUSED', `the idempotency key ${key} was used for a different request`, { key });
      if (r.state === 'done') return { result: r.result as T, replayed: true };
      const tookOver = r.leaseUntil < now && (await store.transaction((tx) => tx.submissions.takeOver(operator.id, key, now, now + SUBMISSION_LEASE_MS)));
      if (!tookOver) throw new CounterError('COUNTER_SUBMISSION_IN_PROGRESS', `a request with the idempotency key ${key} is still being processed`, { key });
    }
    let sealed = false;
    try {
      const result = await work(async (tx, value) => {
        if (!(await tx.submissions.complete(operator.id, key, value)))
          throw new CounterError('COUNTER_SUBMISSION_IN_PROGRESS', `the idempotency key ${key} was taken over meanwhile`, { key });
        sealed = true;
      });
      if (!sealed) throw new Error(`counter action ${action} finished without sealing its submission`);
      return { result, replayed: false };
    } catch (e) {
      // Only a pending reservation is deleted: if the sealing transaction did commit, the result stays.
      await store.transaction((tx) => tx.submissions.release(operator.id, key)).catch(() => undefined);
      throw e;
    }
  }
}
