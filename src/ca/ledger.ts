import { hash } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { AuditEntry, BatchOutcome, LedgerState, NewCertificate, NewLedgerEntry, Scoped, StatusChange } from '../store/index.js';
import type { CaStore } from './ports.js';

/** Hex SHA-256 of a to-be-signed structure: what the ledger records before the signature is made. */
export function tbsHash(tbs: Uint8Array): string {
  return hash('sha256', tbs, 'hex');
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
 * The hot path of the ledger: reservations and recordings of concurrent issuances written together — group
 * commit. Everything that queued while the previous batch was being written goes in the next: on SQLite one
 * transaction of multi-row statements; on PostgreSQL one statement (migration 031: a round trip and a WAL
 * flush per batch). One batch is under way at a time, on both stores (see `schedule`). A caller's promise
 * settles only after its batch committed, so "resolved" still means "durable" — nothing is signed before its
 * reservation is.
 */
export class LedgerWriter {
  private queue: Op[] = [];
  private writing = false;
  private scheduled = false;

  constructor(
    private readonly store: Pick<CaStore, 'transaction' | 'ledger'>,
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
    this.schedule();
  }

  /**
   * One batch under way at a time, on both stores. On SQLite batches under way together would share one
   * BEGIN … COMMIT of the store, each in a SAVEPOINT that copies the pages it touches first. On PostgreSQL
   * three overlapping batches (each one statement on its own pooled connection) were tried until issue 12's
   * seventh round: issuance there is bound by the CPU of both cores, and every batch costs the server a
   * transaction, a function call and — batches taking key-share locks on the same CA row at once — a
   * MultiXact, so one batch at a time cut the server's CPU per issuance from 0.41–0.45 to 0.20–0.28 ms and
   * issued 9–10 % more at 16 and 64 in flight (docs/benchmarks.md). Everything that queues meanwhile goes into the next batch.
   */
  private schedule(): void {
    if (this.scheduled || this.queue.length === 0 || this.writing) return;
    this.scheduled = true;
    // one turn of the event loop: signatures finishing meanwhile join this batch
    setImmediate(() => {
      this.scheduled = false;
      if (this.queue.length === 0 || this.writing) return;
      const batch = this.queue.splice(0, MAX_BATCH);
      this.writing = true;
      void this.write(batch).finally(() => {
        this.writing = false;
        this.schedule();
      });
    });
  }

  private async write(batch: Op[]): Promise<void> {
    try {
      (await this.once(batch))();
    } catch (e) {
      if (batch.length === 1) {
        batch[0]!.reject(e);
        return;
      }
      // one bad operation must not fail its neighbours: each alone
      for (const op of batch) {
        try {
          (await this.once([op]))();
        } catch (e2) {
          op.reject(e2);
        }
      }
    }
  }

  /** Writes a batch atomically; returns what settles the callers once it has committed. */
  private async once(batch: Op[]): Promise<() => void> {
    const reserves = batch.filter((o): o is Extract<Op, { type: 'reserve' }> => o.type === 'reserve');
    const records = batch.filter((o): o is Extract<Op, { type: 'record' }> => o.type === 'record');
    const now = this.clock.now().getTime();
    const ledger = this.store.ledger;
    const outcome = ledger.batchesAlone
      ? // PostgreSQL: one statement, one round trip, one commit (migration 031)
        await ledger.applyBatch(
          reserves.map((o) => ({ entry: o.entry, audit: o.audit })),
          records.map((o) => ({ ledgerId: o.recording.ledgerId, to: o.recording.to, certificate: o.recording.certificate, audit: o.recording.audit })),
          now,
        )
      : await this.store.transaction((tx) => this.apply(tx, reserves, records, now));
    return () => {
      reserves.forEach((o, i) => o.resolve(outcome.reserved[i]));
      for (const o of records) o.resolve(outcome.stored.has(o.recording.ledgerId));
    };
  }

  /** SQLite: the batch as a few multi-row statements inside one transaction (group-committed by the store). */
  private async apply(tx: Tx, reserves: Extract<Op, { type: 'reserve' }>[], records: Extract<Op, { type: 'record' }>[], now: number): Promise<BatchOutcome> {
    const audits: AuditEntry[] = [];
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
    return { reserved: ids, stored };
  }
}
