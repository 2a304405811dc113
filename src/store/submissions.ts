import type { SqlExecutor } from './database.js';

/** One idempotent submission: the key a client sent with a request and, once done, its result. */
export interface SubmissionRecord {
  operatorId: string;
  key: string;
  action: string;
  requestHash: string;
  state: 'pending' | 'done';
  result: unknown;
  leaseUntil: number;
  createdAt: number;
}

interface Row {
  operator_id: string;
  idem_key: string;
  action: string;
  request_hash: string;
  state: 'pending' | 'done';
  result: string | null;
  lease_until: number;
  created_at: number;
  [k: string]: unknown;
}

const fromRow = (r: Row): SubmissionRecord => ({
  operatorId: r.operator_id,
  key: r.idem_key,
  action: r.action,
  requestHash: r.request_hash,
  state: r.state,
  result: r.result === null ? null : (JSON.parse(r.result) as unknown),
  leaseUntil: Number(r.lease_until),
  createdAt: Number(r.created_at),
});

/** Idempotency keys of counter submissions (Stripe-style): reserve, then complete with the result. */
export class SubmissionRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Inserts a pending reservation unless the key exists; returns the row as it now stands. */
  async reserve(s: Omit<SubmissionRecord, 'state' | 'result'>): Promise<{ created: boolean; record: SubmissionRecord }> {
    const n = await this.sql.execute(
      `INSERT INTO counter_submissions (operator_id, idem_key, action, request_hash, state, result, lease_until, created_at)
       VALUES (?, ?, ?, ?, 'pending', NULL, ?, ?) ON CONFLICT (operator_id, idem_key) DO NOTHING`,
      [s.operatorId, s.key, s.action, s.requestHash, s.leaseUntil, s.createdAt],
    );
    return { created: n === 1, record: (await this.get(s.operatorId, s.key))! };
  }

  async get(operatorId: string, key: string): Promise<SubmissionRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM counter_submissions WHERE operator_id = ? AND idem_key = ?', [operatorId, key]);
    return r && fromRow(r);
  }

  /** Takes over a pending reservation whose lease ran out (its process died). */
  async takeOver(operatorId: string, key: string, now: number, leaseUntil: number): Promise<boolean> {
    const n = await this.sql.execute(
      `UPDATE counter_submissions SET lease_until = ? WHERE operator_id = ? AND idem_key = ? AND state = 'pending' AND lease_until < ?`,
      [leaseUntil, operatorId, key, now],
    );
    return n === 1;
  }

  /** Stores the result; call it in the transaction that produced it. */
  async complete(operatorId: string, key: string, result: unknown): Promise<boolean> {
    const n = await this.sql.execute(`UPDATE counter_submissions SET state = 'done', result = ? WHERE operator_id = ? AND idem_key = ? AND state = 'pending'`, [
      JSON.stringify(result),
      operatorId,
      key,
    ]);
    return n === 1;
  }

  /** Gives a reservation up after the work failed, so that a retry with the same key runs again. */
  async release(operatorId: string, key: string): Promise<void> {
    await this.sql.execute(`DELETE FROM counter_submissions WHERE operator_id = ? AND idem_key = ? AND state = 'pending'`, [operatorId, key]);
  }
}
