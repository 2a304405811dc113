import { hash } from 'node:crypto';
import type { Database, SqlExecutor } from './database.js';
import { rowsPlaceholders } from './database.js';

/**
 * The tamper-evident audit log: an append-only hash chain. Record n stores
 * hash_n = SHA-256(hash_{n-1} ‖ canonical JSON of record n); changing, removing or reordering any record
 * breaks every later link, which `verify` reports as the first broken record.
 *
 * On PostgreSQL writing is split in two so that the chain head does not serialise every state change
 * (issue 12): a change appends its record to the audit inbox in its own transaction — so a change without
 * its record cannot commit — and one writer at a time (`AuditChainer`) moves committed inbox records into
 * the chain in batches, up to ~100 ms later. On SQLite, whose writers take turns anyway, a change links its
 * records into the chain in its own transaction (`appendToChain`). Signed checkpoints of the head (src/audit/) make a truncated or
 * re-hashed tail visible.
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

/** A signed statement "record `seq` of the chain has hash `headHash`" (migration 030). */
export interface AuditCheckpoint {
  seq: number;
  headHash: string;
  at: number;
  /** Hex SHA-256 of the audit key's SubjectPublicKeyInfo. */
  keyId: string;
  algorithm: string;
  signature: Buffer;
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

interface InboxRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  target: string;
  details: string;
  [k: string]: unknown;
}

/** JSON with object keys sorted at every level, so the hash does not depend on insertion order. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i ? ',' : '') + canonicalJson(value[i]);
    return `${out}]`;
  }
  // loops, not filter/sort/map/join chains: two records of every issuance go through here (issue 12)
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o).sort();
  let out = '{';
  for (const k of keys) {
    const v = o[k];
    if (v === undefined) continue;
    out += `${out.length > 1 ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

/** hash_n = SHA-256(hash_{n-1} ‖ canonical JSON of [seq, at, actor, action, target, details]). */
export function recordHash(prevHash: string, r: { seq: number; at: number; actor: string; action: string; target: string; details: string }): string {
  // the canonical JSON of that array, written out: every element is a number or a string
  const json = `[${JSON.stringify(Number(r.seq))},${JSON.stringify(Number(r.at))},${JSON.stringify(r.actor)},${JSON.stringify(r.action)},${JSON.stringify(r.target)},${JSON.stringify(r.details)}]`;
  return hash('sha256', prevHash + json, 'hex');
}

/** The bytes an audit checkpoint signs: fixed text, so any verifier can rebuild them. */
export function checkpointMessage(c: Pick<AuditCheckpoint, 'seq' | 'headHash' | 'at'>): Buffer {
  return Buffer.from(`jpki audit checkpoint v1\nseq ${c.seq}\nhead ${c.headHash}\nat ${c.at}\n`, 'utf8');
}

export type AuditVerification =
  | { ok: true; records: number; headHash: string }
  | { ok: false; records: number; brokenAt: number; reason: string };

/** PostgreSQL advisory lock: one chain writer at a time, across every process on the database. */
const CHAIN_LOCK = 4242002;
/** Inbox records moved per chain transaction. */
const CHAIN_BATCH = 2000;

/**
 * Text as both databases keep it: well-formed UTF-16 (lone surrogates → U+FFFD), no NUL (→ U+FFFD). A lone
 * surrogate in a name someone typed (any login attempt) made a record look altered, and a NUL was refused by
 * PostgreSQL — found by fuzzing.
 */
export function storable(text: string): string {
  return text.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]|\0/g, '\uFFFD');
}

/** Appending: what every module's transaction may do with the audit log, and nothing more. */
export class AuditInbox {
  constructor(private readonly sql: SqlExecutor) {}

  /** Appends one record (inside the transaction of the change it records). */
  async append(entry: AuditEntry, at: number): Promise<void> {
    await this.sql.execute('INSERT INTO audit_inbox (at, actor, action, target, details) VALUES (?, ?, ?, ?, ?)', [
      at,
      storable(entry.actor),
      storable(entry.action),
      storable(entry.target),
      canonicalJson(entry.details ?? {}),
    ]);
  }

  /** Appends several records with one statement (the CA's batched issuance path). */
  async appendAll(entries: readonly AuditEntry[], at: number): Promise<void> {
    for (let i = 0; i < entries.length; i += 400) {
      const chunk = entries.slice(i, i + 400);
      await this.sql.execute(
        `INSERT INTO audit_inbox (at, actor, action, target, details) VALUES ${rowsPlaceholders(chunk.length, 5)}`,
        chunk.flatMap((e) => [at, storable(e.actor), storable(e.action), storable(e.target), canonicalJson(e.details ?? {})]),
      );
    }
  }
}

/**
 * The chain writer: moves committed inbox records into the hash chain, in id order, many per transaction.
 * `request()` schedules a pass shortly (changes call it after appending); `drain()` runs passes until the
 * inbox is empty (before reading the log, and when the process closes the store).
 */
export class AuditChainer {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<number> | undefined;
  private again = false;
  private closed = false;

  constructor(
    private readonly db: Database,
    private readonly delayMs = 100,
  ) {}

  request(): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain().catch(() => undefined); // the next request or drain picks the records up
    }, this.delayMs);
    this.timer.unref();
  }

  /** Chains everything committed to the inbox so far; resolves to the number of records chained. */
  drain(): Promise<number> {
    if (this.running) {
      this.again = true;
      return this.running.then(() => this.drain());
    }
    this.running = (async () => {
      let total = 0;
      try {
        do {
          this.again = false;
          for (;;) {
            // announce: false — nobody follows the chain, and a NOTIFY would queue this commit behind every other one
            const n = await this.db.transaction((tx) => chainBatch(tx), { announce: false });
            total += n;
            if (n < CHAIN_BATCH) break;
          }
        } while (this.again);
      } finally {
        this.running = undefined;
      }
      return total;
    })();
    return this.running;
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.drain().catch(() => undefined);
  }
}

/**
 * One batch: the head and the oldest inbox records (one query), linked, inserted and removed from the inbox
 * (on PostgreSQL one statement per 500). With the lock and the commit that is four round trips a pass.
 */
async function chainBatch(tx: SqlExecutor): Promise<number> {
  if (tx.dialect === 'postgres') await tx.execute(`SELECT pg_advisory_xact_lock(${CHAIN_LOCK})`);
  const inbox = await tx.query<InboxRow & { head_seq: number | null; head_hash: string | null }>(
    `SELECT i.id, i.at, i.actor, i.action, i.target, i.details, h.seq AS head_seq, h.hash AS head_hash
       FROM (SELECT * FROM audit_inbox ORDER BY id LIMIT ?) i
       LEFT JOIN (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) h ON 1 = 1
      ORDER BY i.id`,
    [CHAIN_BATCH],
  );
  if (inbox.length === 0) return 0;
  let seq = Number(inbox[0]!.head_seq ?? 0);
  let prev = inbox[0]!.head_hash ?? GENESIS_HASH;
  const values: (string | number)[] = [];
  for (const r of inbox) {
    seq++;
    const at = Number(r.at);
    const hash = recordHash(prev, { seq, at, actor: r.actor, action: r.action, target: r.target, details: r.details });
    values.push(seq, at, r.actor, r.action, r.target, r.details, prev, hash);
    prev = hash;
  }
  for (let i = 0; i < inbox.length; i += 500) {
    const n = Math.min(500, inbox.length - i);
    const ids = inbox.slice(i, i + n).map((r) => Number(r.id));
    const insert = `INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES ${rowsPlaceholders(n, 8)}`;
    // exactly the ids read: an id between them may belong to a transaction still open (not chained yet)
    const remove = `DELETE FROM audit_inbox WHERE id IN (${ids.map(() => '?').join(', ')})`;
    if (tx.dialect === 'postgres') {
      await tx.execute(`WITH chained AS (${remove}) ${insert}`, [...ids, ...values.slice(i * 8, (i + n) * 8)]);
    } else {
      await tx.execute(insert, values.slice(i * 8, (i + n) * 8));
      await tx.execute(remove, ids);
    }
  }
  return inbox.length;
}

/** The head of the chain and whether the inbox holds anything (one row, also for an empty log). */
const HEAD_AND_INBOX = `SELECT EXISTS (SELECT 1 FROM audit_inbox) AS pending, h.seq AS seq, h.hash AS hash
  FROM (SELECT 1 AS one) x LEFT JOIN (SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1) h ON 1 = 1`;

/**
 * SQLite: links records into the chain inside the transaction of the change — one read of the head, one
 * insert — instead of going through the inbox (an insert, then a read, an insert and a delete by the chain
 * writer). SQLite's writers take turns anyway (BEGIN IMMEDIATE, across processes), so the head read here
 * cannot move before the commit; a rolled-back change takes its records with it. Records still in the inbox
 * (left by an earlier version) are chained first, so the chain keeps commit order. PostgreSQL keeps the
 * inbox: there the head would serialise every writer of every process.
 */
export async function appendToChain(tx: SqlExecutor, entries: readonly AuditEntry[], at: number): Promise<void> {
  if (entries.length === 0) return;
  if (tx.dialect !== 'sqlite') throw new Error('appendToChain is for SQLite, whose writers take turns; PostgreSQL appends to the inbox');
  let head = await tx.queryOne<{ pending: number; seq: number | null; hash: string | null }>(HEAD_AND_INBOX);
  if (Number(head?.pending)) {
    while ((await chainBatch(tx)) === CHAIN_BATCH);
    head = await tx.queryOne(HEAD_AND_INBOX);
  }
  let seq = Number(head?.seq ?? 0);
  let prev = head?.hash ?? GENESIS_HASH;
  const values: (string | number)[] = [];
  for (const e of entries) {
    seq++;
    const r = { seq, at, actor: storable(e.actor), action: storable(e.action), target: storable(e.target), details: canonicalJson(e.details ?? {}) };
    const hash = recordHash(prev, r);
    values.push(seq, at, r.actor, r.action, r.target, r.details, prev, hash);
    prev = hash;
  }
  for (let i = 0; i < entries.length; i += 500) {
    const n = Math.min(500, entries.length - i);
    await tx.execute(`INSERT INTO audit_log (seq, at, actor, action, target, details, prev_hash, hash) VALUES ${rowsPlaceholders(n, 8)}`, values.slice(i * 8, (i + n) * 8));
  }
}

/** Reading the log: listing, verifying the chain, the checkpoints. Reads chain what is pending first. */
export class AuditLog {
  constructor(
    private readonly sql: SqlExecutor,
    private readonly chainer?: AuditChainer,
  ) {}

  /** Chains whatever is pending in the inbox (a no-op inside a transaction). */
  async settle(): Promise<void> {
    await this.chainer?.drain();
  }

  /** Records in order, optionally filtered; `details` parsed. */
  async list(filter: { action?: string; target?: string; actor?: string; afterSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    await this.settle();
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

  /** Records in chain order from `afterSeq`, a batch at a time (verification, cross-checks). */
  async *records(afterSeq = 0, batch = 5000): AsyncGenerator<AuditRecord[]> {
    for await (const rows of this.rows(afterSeq, batch)) yield rows.map(toRecord);
  }

  private async *rows(afterSeq: number, batch: number): AsyncGenerator<AuditRow[]> {
    let after = afterSeq;
    for (;;) {
      const rows = await this.sql.query<AuditRow>('SELECT * FROM audit_log WHERE seq > ? ORDER BY seq LIMIT ?', [after, batch]);
      if (rows.length === 0) return;
      yield rows;
      after = Number(rows[rows.length - 1]!.seq);
    }
  }

  /** The newest chained record's number and hash (seq 0 and the genesis hash for an empty log). */
  async head(): Promise<{ seq: number; hash: string }> {
    const r = await this.sql.queryOne<{ seq: number; hash: string }>('SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1');
    return r ? { seq: Number(r.seq), hash: r.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  /** Records appended but not chained yet. */
  async pending(): Promise<number> {
    const r = await this.sql.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM audit_inbox');
    return Number(r?.n ?? 0);
  }

  /**
   * Walks the whole chain in batches and reports the first record whose link or content does not check out.
   * A truncated tail cannot be seen from inside the chain: the signed checkpoints (src/audit/) see it.
   */
  async verify(batch = 5000): Promise<AuditVerification> {
    await this.settle();
    let prev = GENESIS_HASH;
    let expectedSeq = 1;
    let count = 0;
    for await (const rows of this.rows(0, batch)) {
      for (const row of rows) {
        const r = { ...row, seq: Number(row.seq), at: Number(row.at) };
        if (r.seq !== expectedSeq) return { ok: false, records: count, brokenAt: expectedSeq, reason: `record ${expectedSeq} is missing (next is ${r.seq})` };
        if (r.prev_hash !== prev) return { ok: false, records: count, brokenAt: r.seq, reason: `record ${r.seq} does not link to record ${r.seq - 1}` };
        if (recordHash(prev, r) !== r.hash) return { ok: false, records: count, brokenAt: r.seq, reason: `record ${r.seq} was altered (its hash does not match its content)` };
        prev = r.hash;
        expectedSeq++;
        count++;
      }
    }
    return { ok: true, records: count, headHash: prev };
  }

  /** The hash of record `seq`, or undefined when there is no such record. */
  async hashAt(seq: number): Promise<string | undefined> {
    const r = await this.sql.queryOne<{ hash: string }>('SELECT hash FROM audit_log WHERE seq = ?', [seq]);
    return r?.hash;
  }

  async addCheckpoint(c: AuditCheckpoint): Promise<void> {
    await this.sql.execute(
      'INSERT INTO audit_checkpoints (seq, head_hash, at, key_id, algorithm, signature) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING',
      [c.seq, c.headHash, c.at, c.keyId, c.algorithm, c.signature],
    );
  }

  async checkpoints(): Promise<AuditCheckpoint[]> {
    const rows = await this.sql.query<{ seq: number; head_hash: string; at: number; key_id: string; algorithm: string; signature: Buffer }>(
      'SELECT * FROM audit_checkpoints ORDER BY seq',
    );
    return rows.map((r) => ({ seq: Number(r.seq), headHash: r.head_hash, at: Number(r.at), keyId: r.key_id, algorithm: r.algorithm, signature: r.signature }));
  }

  async latestCheckpoint(): Promise<AuditCheckpoint | undefined> {
    const r = await this.sql.queryOne<{ seq: number; head_hash: string; at: number; key_id: string; algorithm: string; signature: Buffer }>(
      'SELECT * FROM audit_checkpoints ORDER BY seq DESC LIMIT 1',
    );
    return r && { seq: Number(r.seq), headHash: r.head_hash, at: Number(r.at), keyId: r.key_id, algorithm: r.algorithm, signature: r.signature };
  }
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    seq: Number(r.seq),
    at: Number(r.at),
    actor: r.actor,
    action: r.action,
    target: r.target,
    details: JSON.parse(r.details) as Record<string, unknown>,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}
