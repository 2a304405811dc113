import { createHash } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { AuditEntry, LedgerState, NewCertificate, NewLedgerEntry, Scoped, StatusChange } from '../store/index.js';
import type { CaStore } from './ports.js';

/** Hex SHA-256 of a to-be-signed structure: what the ledger records before the signature is made. */
export function tbsHash(tbs: Uint8Array): string {
  return createHash('sha256').update(tbs).digest('hex');
}

/** A signed certificate to store, and how far its ledger entry moves with it. */
export interface LedgerRecording {
  ledgerId: number;
  certificate: NewCertificate;
  /** 'confirmed' when nobody has to deliver it any more (`jpki ca issue`); else 'signed'. */
  to: Extract<LedgerState, 'signed' | 'confirmed'>;
  audit: AuditEntry;
}

type Op =
  | { type: 'reserve'; entry: NewLedgerEntry; audit: AuditEntry; resolve: (id: number | undefined) => void; reject: (e: unknown) => void }
  | { type: 'record'; recording: LedgerRecording; resolve: (stored: boolean) => void; reject: (e: unknown) => void };

type Tx = Scoped<'ledger' | 'certificates' | 'statusChanges' | 'recordAll'>;

/** Most operations written by one transaction. */
const MAX_BATCH = 256;

/**
 * The hot path of the ledger: reservations and recordings of concurrent issuances written together, one
 * transaction (and, on PostgreSQL, one multi-row statement per table) for everything that queued while the
 * previous batch was being written — group commit, like the SQLite store does for whole transactions. A
 * caller's promise settles only after its batch committed, so "resolved" still means "durable".
 */
export class LedgerWriter {
  private queue: Op[] = [];
  private draining = false;

  constructor(
    private readonly store: Pick<CaStore, 'transaction'>,
    private readonly clock: Clock,
  ) {}

  /** Reserves one entry with its audit record; undefined when (CA, kind, serial) is taken. */
  reserve(entry: NewLedgerEntry, audit: AuditEntry): Promise<number | undefined> {
    return new Promise((resolve, reject) => this.push({ type: 'reserve', entry, audit, resolve, reject }));
  }

  /**
   * Stores a signed certificate, moves its entry on from 'reserved' and appends its audit record and status
   * change. Resolves false when the entry is no longer reserved (the sweeper abandoned it): nothing stored.
   */
  record(recording: LedgerRecording): Promise<boolean> {
    return new Promise((resolve, reject) => this.push({ type: 'record', recording, resolve, reject }));
  }

  private push(op: Op): void {
    this.queue.push(op);
    if (!this.draining) void this.drain();
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.queue.length) {
        // one turn of the event loop: signatures finishing meanwhile join this batch
        await new Promise((r) => setImmediate(r));
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          const settle = await this.store.transaction((tx) => this.apply(tx, batch));
          settle();
        } catch (e) {
          if (batch.length === 1) {
            batch[0]!.reject(e);
            continue;
          }
          // one bad operation must not fail its neighbours: each alone, in its own transaction
          for (const op of batch) {
            try {
              (await this.store.transaction((tx) => this.apply(tx, [op])))();
            } catch (e2) {
              op.reject(e2);
            }
          }
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** Writes a batch; returns what settles the callers once the transaction has committed. */
  private async apply(tx: Tx, batch: Op[]): Promise<() => void> {
    const now = this.clock.now().getTime();
    const audits: AuditEntry[] = [];
    const reserves = batch.filter((o): o is Extract<Op, { type: 'reserve' }> => o.type === 'reserve');
    const records = batch.filter((o): o is Extract<Op, { type: 'record' }> => o.type === 'record');
    const ids = reserves.length ? await tx.ledger.reserve(reserves.map((o) => o.entry)) : [];
    reserves.forEach((o, i) => ids[i] !== undefined && audits.push(o.audit));
    const stored = new Set<number>();
    for (const to of ['signed', 'confirmed'] as const) {
      const group = records.filter((o) => o.recording.to === to);
      if (group.length === 0) continue;
      for (const id of await tx.ledger.advance(group.map((o) => o.recording.ledgerId), ['reserved'], to, now)) stored.add(id);
    }
    const kept = records.filter((o) => stored.has(o.recording.ledgerId));
    if (kept.length) {
      await tx.certificates.insertAll(kept.map((o) => o.recording.certificate));
      const changes: Omit<StatusChange, 'id'>[] = kept.map((o) => ({
        caId: o.recording.certificate.caId,
        serial: o.recording.certificate.serial,
        status: 'issued',
        crlPartition: o.recording.certificate.crlPartition,
        at: now,
      }));
      // the change feed: OCSP responders drop a cached "unknown" for these serials (docs/ocsp.md)
      await tx.statusChanges.appendAll(changes);
      for (const o of kept) audits.push(o.recording.audit);
    }
    await tx.recordAll(audits);
    return () => {
      reserves.forEach((o, i) => o.resolve(ids[i]));
      for (const o of records) o.resolve(stored.has(o.recording.ledgerId));
    };
  }
}
