import { createHash } from 'node:crypto';
import type { SqlExecutor } from './database.js';

/**
 * The tamper-evident audit log: an append-only hash chain. Record n stores
 * hash_n = SHA-256(hash_{n-1} ‖ canonical JSON of record n); changing, removing or reordering any record
 * breaks every later link, which `verify` reports as the first broken record. Records are appended in the
 * same transaction as the state change they describe, so a change without its record cannot commit.
 */
export interface AuditEntry {
  /** Who acted: 'cli', 'system', 'operator:<name>', 'register', … */
  actor: string;
  /** What happened, dotted: 'ca.init', 'certificate.issue', 'certificate.revoke', 'crl.issue', … */
  action: string;
  /** What it happened to: 'pref-13/1f2e…', 'resident:…' */
  target: string;
  details?: Record<string, unknown>;
}

export interface AuditRecord extends Required<AuditEntry> {
  seq: number;
  at: number;
  prevHash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

interface AuditRow {
  seq: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: string;
  prev_hash: string;
  hash: string;
  [k: string]: unknown;
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const keys = Object.keys(value as object)
    .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`).join(',')}}`;
}

export function recordHash(prevHash: string, r: { seq: number; at: number; actor: string; action: string; target: string; details: string }): string {
  return createHash('sha256')
    .update(prevHash)
    .update(canonicalJson([r.seq, r.at, r.actor, r.action, r.target, r.details]))
    .digest('hex');
}

export type AuditVerification =
  | { ok: true; records: number; headHash: string }
  | { ok: false; records: number; brokenAt: number; reason: string };

/** Text as both databases keep it: well-formed UTF-16 (lone surrogates → U+FFFD), no NUL (→ U+FFFD). */
function storable(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/g, '\uFFFD');
}

export class AuditLog {
  constructor(private readonly sql: SqlExecutor) {}

  /** Appends one record. Must run inside the transaction of the change it records. */
  async append(entry: AuditEntry, at: number): Promise<AuditRecord> {
    // PostgreSQL: concurrent transactions must take turns at the head of the chain. SQLite's
    // BEGIN IMMEDIATE already admits one writer at a time.
    if (this.sql.dialect === 'postgres') await this.sql.execute('SELECT pg_advisory_xact_lock(4242002)');
    const head = await this.sql.queryOne<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    const seq = (head?.seq ?? 0) + 1;
    const prevHash = head?.hash ?? GENESIS_HASH;
    const details = canonicalJson(entry.details ?? {});
    // Hashed exactly as stored: a lone surrogate (stored as U+FFFD) or a NUL (refused by PostgreSQL) in a
    // name someone typed made the record look altered — found by fuzzing: any login attempt could do it.
    const [actor, action, target] = [storable(entry.actor), storable(entry.action), storable(entry.target)];
    const hash = recordHash(prevHash, { seq, at, actor, action, target, details });
    await this.sql.execute('INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)', [
      seq,
      at,
      actor,
      action,
      target,
      details,
      prevHash,
      hash,
    ]);
    return { seq, at, actor, action, target, details: entry.details ?? {}, prevHash, hash };
  }

  /** Records in order, optionally filtered; `details` parsed. */
  async list(filter: { action?: string; target?: string; actor?: string; afterSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.action) (where.push('action = ?'), params.push(filter.action));
    if (filter.target) (where.push('target = ?'), params.push(filter.target));
    if (filter.actor) (where.push('actor = ?'), params.push(filter.actor));
    if (filter.afterSeq !== undefined) (where.push('seq > ?'), params.push(filter.afterSeq));
    const rows = await this.sql.query<AuditRow>(
      `SELECT * FROM audit_log ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq LIMIT ?`,
      [...params, filter.limit ?? 1_000_000],
    );
    return rows.map(toRecord);
  }

  /**
   * Walks the whole chain in batches and reports the first record whose link or content does not check out.
   * A truncated tail cannot be seen from inside the chain: compare `headHash` with a copy kept elsewhere.
   */
  async verify(batch = 5000): Promise<AuditVerification> {
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    for (;;) {
      const rows = await this.sql.query<AuditRow>('SELECT * FROM audit_log WHERE seq >= ? ORDER BY seq LIMIT ?', [expectedSeq, batch]);
      if (rows.length === 0) break;
      for (const r of rows) {
        if (r.seq !== expectedSeq)
          return { ok: false, records: count, brokenAt: expectedSeq, reason: `record ${expectedSeq} is missing (next is ${r.seq})` };
        if (r.prev_hash !== prev)
          return { ok: false, records: count, brokenAt: r.seq, reason: `record ${r.seq} does not link to record ${r.seq - 1}` };
        if (recordHash(prev, r) !== r.hash)
          return { ok: false, records: count, brokenAt: r.seq, reason: `record ${r.seq} was altered (its hash does not match its content)` };
        prev = r.hash;
        expectedSeq++;
        count++;
      }
    }
    return { ok: true, records: count, headHash: prev };
  }
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
