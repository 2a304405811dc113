import type { SqlExecutor } from './database.js';
import { rowsPlaceholders } from './database.js';
import { canonicalJson, storable, type AuditEntry } from './audit-log.js';
import type { NewCertificate } from './certificates.js';

export type LedgerKind = 'certificate' | 'crl';
export type LedgerState = 'reserved' | 'signed' | 'confirmed' | 'abandoned';

/** One signature the CA committed to before making it (migration 030). */
export interface LedgerEntry {
  id: number;
  caId: string;
  kind: LedgerKind;
  serial: string;
  purpose: string;
  subject: string | null;
  tbsHash: string;
  state: LedgerState;
  actor: string;
  reservedAt: number;
  deadline: number;
  settledAt: number | null;
}

export type NewLedgerEntry = Omit<LedgerEntry, 'id' | 'state' | 'settledAt'>;

interface Row {
  id: number;
  ca_id: string;
  kind: LedgerKind;
  serial: string;
  purpose: string;
  subject: string | null;
  tbs_hash: string;
  state: LedgerState;
  actor: string;
  reserved_at: number;
  deadline: number;
  settled_at: number | null;
  [k: string]: unknown;
}

const fromRow = (r: Row): LedgerEntry => ({
  id: Number(r.id),
  caId: r.ca_id,
  kind: r.kind,
  serial: r.serial,
  purpose: r.purpose,
  subject: r.subject,
  tbsHash: r.tbs_hash,
  state: r.state,
  actor: r.actor,
  reservedAt: Number(r.reserved_at),
  deadline: Number(r.deadline),
  settledAt: r.settled_at === null ? null : Number(r.settled_at),
});

/** A reservation and its audit record, for a batch. */
export interface BatchReserve {
  entry: NewLedgerEntry;
  audit: AuditEntry;
}

/** A signed certificate to store, its entry's next state and its audit record, for a batch. */
export interface BatchRecord {
  ledgerId: number;
  to: Extract<LedgerState, 'signed' | 'confirmed'>;
  certificate: NewCertificate;
  audit: AuditEntry;
}

export interface BatchOutcome {
  /** Per reservation, in input order: its id, or undefined when (CA, kind, serial) was taken. */
  reserved: (number | undefined)[];
  /** The ledger ids whose certificates were stored (the others were no longer reserved). */
  stored: Set<number>;
}

/** A PostgreSQL bytea[] literal, `{"\\x0102…",…}` (each element hex, its backslash escaped), as node-postgres writes Buffers. */
function byteaArray(values: readonly Uint8Array[]): string {
  return `{${values.map((v) => `"\\\\x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}"`).join(',')}}`;
}

/** Rows per multi-row statement (well under both databases' parameter limits). */
const CHUNK = 500;

/**
 * The CA's ledger table. Every write takes many entries at once: the CA batches the reservations and
 * settlements of concurrent issuances into one statement (docs/ca.md).
 */
export class LedgerRepository {
  constructor(
    private readonly sql: SqlExecutor,
    /** Told when audit records were appended by `applyBatch` (the chain writer's wake-up). */
    private readonly audited: () => void = () => undefined,
  ) {}

  /**
   * True when `applyBatch` is atomic on its own (PostgreSQL: one statement, migration 031), so the caller
   * needs no transaction around it — a batch is then one round trip and one commit.
   */
  get batchesAlone(): boolean {
    return this.sql.dialect === 'postgres';
  }

  /**
   * PostgreSQL: one batch of the CA's ledger — reservations with their audit records; signed certificates
   * stored with their status changes and audit records, their entries moved on from 'reserved' — in one
   * statement (the function of migrations 031, 033, 077). Use `batchesAlone` to know whether it is available.
   */
  async applyBatch(reserves: readonly BatchReserve[], records: readonly BatchRecord[], at: number): Promise<BatchOutcome> {
    if (this.sql.dialect !== 'postgres') throw new Error('applyBatch is PostgreSQL only: on SQLite, write the tables in a transaction');
    const audit = (a: AuditEntry) => ({ actor: storable(a.actor), action: storable(a.action), target: storable(a.target), details: canonicalJson(a.details ?? {}) });
    // the DER as a bytea[] beside the JSON (migration 077): as hex inside it, the server's JSON lexer cost more
    // than every other field of the batch together
    const row = await this.sql.queryOne<{ out: { reserved: [number, string, string, string][]; stored: number[] } }>(
      'SELECT jpki_ledger_apply(?::jsonb, ?::jsonb, ?::bytea[], ?) AS out',
      [
        JSON.stringify(reserves.map((r) => ({ ...r.entry, audit: audit(r.audit) }))),
        JSON.stringify(records.map((r) => ({ ledgerId: r.ledgerId, to: r.to, cert: { ...r.certificate, der: undefined }, audit: audit(r.audit) }))),
        byteaArray(records.map((r) => r.certificate.der)),
        at,
      ],
    );
    const ids = new Map<string, number>();
    for (const [id, caId, kind, serial] of row!.out.reserved) ids.set(`${caId} ${kind} ${serial}`, Number(id));
    const stored = new Set(row!.out.stored.map(Number));
    if (ids.size || stored.size) this.audited();
    return { reserved: reserves.map((r) => ids.get(`${r.entry.caId} ${r.entry.kind} ${r.entry.serial}`)), stored };
  }

  /**
   * Reserves entries; returns the ids of those reserved, in input order, and undefined for an entry whose
   * (CA, kind, serial) is already taken (the caller draws another serial).
   */
  async reserve(entries: readonly NewLedgerEntry[]): Promise<(number | undefined)[]> {
    const ids = new Map<string, number>();
    for (let i = 0; i < entries.length; i += CHUNK) {
      const chunk = entries.slice(i, i + CHUNK);
      const rows = await this.sql.query<{ id: number; ca_id: string; kind: string; serial: string }>(
        `INSERT INTO ca_ledger (ca_id, kind, serial, purpose, subject, tbs_hash, state, actor, reserved_at, deadline)
         VALUES ${rowsPlaceholders(chunk.length, 10)} ON CONFLICT (ca_id, kind, serial) DO NOTHING RETURNING id, ca_id, kind, serial`,
        chunk.flatMap((e) => [e.caId, e.kind, e.serial, e.purpose, e.subject, e.tbsHash, 'reserved', e.actor, e.reservedAt, e.deadline]),
      );
      for (const r of rows) ids.set(`${r.ca_id} ${r.kind} ${r.serial}`, Number(r.id));
    }
    return entries.map((e) => ids.get(`${e.caId} ${e.kind} ${e.serial}`));
  }

  /**
   * Moves entries from one of `from` to `to`; returns the ids that moved (an entry the sweeper abandoned
   * meanwhile does not move, so a late confirmation is refused instead of reviving it).
   */
  async advance(ids: readonly number[], from: readonly LedgerState[], to: LedgerState, at: number): Promise<Set<number>> {
    const moved = new Set<number>();
    const settled = to === 'confirmed' || to === 'abandoned';
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      const rows = await this.sql.query<{ id: number }>(
        `UPDATE ca_ledger SET state = ?, settled_at = ${settled ? '?' : 'settled_at'}
         WHERE id IN (${chunk.map(() => '?').join(', ')}) AND state IN (${from.map(() => '?').join(', ')}) RETURNING id`,
        [to, ...(settled ? [at] : []), ...chunk, ...from],
      );
      for (const r of rows) moved.add(Number(r.id));
    }
    return moved;
  }

  async get(id: number): Promise<LedgerEntry | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM ca_ledger WHERE id = ?', [id]);
    return r && fromRow(r);
  }

  async find(caId: string, kind: LedgerKind, serial: string): Promise<LedgerEntry | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM ca_ledger WHERE ca_id = ? AND kind = ? AND serial = ?', [caId, kind, serial]);
    return r && fromRow(r);
  }

  /** Entries still reserved or signed whose deadline passed: the sweeper's work list. */
  async overdue(now: number, limit = 1000): Promise<LedgerEntry[]> {
    const rows = await this.sql.query<Row>(`SELECT * FROM ca_ledger WHERE state IN ('reserved', 'signed') AND deadline < ? ORDER BY id LIMIT ?`, [now, limit]);
    return rows.map(fromRow);
  }

  /** How many entries are in each state (for `jpki ca ledger`, tests). */
  async counts(): Promise<Record<LedgerState, number>> {
    const rows = await this.sql.query<{ state: LedgerState; n: number }>('SELECT state, COUNT(*) AS n FROM ca_ledger GROUP BY state');
    const out: Record<LedgerState, number> = { reserved: 0, signed: 0, confirmed: 0, abandoned: 0 };
    for (const r of rows) out[r.state] = Number(r.n);
    return out;
  }
}
