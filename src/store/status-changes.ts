import type { Database, SqlExecutor } from './database.js';
import { rowsPlaceholders } from './database.js';

/**
 * The change feed of certificate status: every issuance and revocation appends one row in the same
 * transaction as the change itself, so the feed and the certificates table never disagree after a commit.
 * OCSP responders and the CRL updater — in this process or in any other sharing the database — follow it
 * (`StatusChangeFeed`) to drop cached answers and re-sign at once.
 */
export type StatusChangeKind = 'issued' | 'revoked';

export interface StatusChange {
  id: number;
  caId: string;
  serial: string;
  status: StatusChangeKind;
  crlPartition: string | null;
  at: number;
}

interface Row {
  id: number;
  ca_id: string;
  serial: string;
  status: StatusChangeKind;
  crl_partition: string | null;
  at: number;
  [k: string]: unknown;
}

const fromRow = (r: Row): StatusChange => ({
  id: Number(r.id),
  caId: r.ca_id,
  serial: r.serial,
  status: r.status,
  crlPartition: r.crl_partition,
  at: Number(r.at),
});

/** PostgreSQL advisory lock key: status-change writers take turns, so ids are assigned in commit order. */
const FEED_LOCK = 4242005;

export class StatusChangeRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /**
   * Appends a change. Must run inside the transaction of the change. On PostgreSQL a sequence hands out ids
   * at insert time, not at commit, so without the lock a follower that has seen id 11 could miss id 10
   * committing later; the transaction-scoped lock makes insert order and commit order the same.
   */
  async append(change: Omit<StatusChange, 'id'>): Promise<void> {
    if (this.sql.dialect === 'postgres') await this.sql.execute(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
    await this.sql.execute('INSERT INTO certificate_status_changes (ca_id, serial, status, crl_partition, at) VALUES (?, ?, ?, ?, ?)', [
      change.caId,
      change.serial,
      change.status,
      change.crlPartition,
      change.at,
    ]);
  }

  /** Appends several changes with one lock and one statement per 400 (inside the transaction of the changes). */
  async appendAll(changes: readonly Omit<StatusChange, 'id'>[]): Promise<void> {
    if (changes.length === 0) return;
    if (this.sql.dialect === 'postgres') await this.sql.execute(`SELECT pg_advisory_xact_lock(${FEED_LOCK})`);
    for (let i = 0; i < changes.length; i += 400) {
      const chunk = changes.slice(i, i + 400);
      await this.sql.execute(
        `INSERT INTO certificate_status_changes (ca_id, serial, status, crl_partition, at) VALUES ${rowsPlaceholders(chunk.length, 5)}`,
        chunk.flatMap((c) => [c.caId, c.serial, c.status, c.crlPartition, c.at]),
      );
    }
  }

  /** Changes after `afterId`, oldest first. */
  async after(afterId: number, limit = 1000): Promise<StatusChange[]> {
    const rows = await this.sql.query<Row>('SELECT * FROM certificate_status_changes WHERE id > ? ORDER BY id LIMIT ?', [afterId, limit]);
    return rows.map(fromRow);
  }

  /** The id of the newest change (0 when there is none): where a new follower starts. */
  async lastId(): Promise<number> {
    const r = await this.sql.queryOne<{ id: number | null }>('SELECT MAX(id) AS id FROM certificate_status_changes');
    return Number(r?.id ?? 0);
  }

  /** Deletes changes older than `before` (ms); followers that far behind start over from an empty cache. */
  async prune(before: number): Promise<number> {
    return this.sql.execute('DELETE FROM certificate_status_changes WHERE at < ?', [before]);
  }
}

export type StatusChangeListener = (changes: readonly StatusChange[]) => void | Promise<void>;

/**
 * Follows the feed: on every commit anywhere (Database.onCommit — PostgreSQL LISTEN/NOTIFY, SQLite
 * `PRAGMA data_version` every 100 ms) it reads the changes after the last one seen and hands them to the
 * listeners, in order. Reads never overlap; a commit announced during a read causes one more read.
 */
export class StatusChangeFeed {
  private readonly listeners = new Set<StatusChangeListener>();
  private lastSeen = -1;
  private reading: Promise<void> | undefined;
  private again = false;
  private unsubscribe: (() => void) | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    private readonly db: Database,
    private readonly changes: StatusChangeRepository,
  ) {}

  /** The id of the last change handed to the listeners (-1 before the feed started). */
  get position(): number {
    return this.lastSeen;
  }

  /** Starts following from the newest change (idempotent). Earlier changes are history, not news. */
  start(): Promise<void> {
    this.starting ??= (async () => {
      this.unsubscribe = this.db.onCommit(() => void this.poll());
      this.lastSeen = await this.changes.lastId();
      // PostgreSQL: wait until LISTEN is active, so no commit between lastId() and LISTEN goes unannounced.
      const ready = (this.db as { ready?: () => Promise<void> }).ready;
      if (ready) await ready.call(this.db);
      await this.poll();
    })();
    return this.starting;
  }

  subscribe(listener: StatusChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Reads and delivers whatever is new; resolves when the changes known at call time were delivered. */
  poll(): Promise<void> {
    if (this.lastSeen < 0) return Promise.resolve();
    if (this.reading) {
      this.again = true;
      return this.reading;
    }
    this.reading = (async () => {
      try {
        do {
          this.again = false;
          for (;;) {
            const batch = await this.changes.after(this.lastSeen);
            if (batch.length === 0) break;
            for (const l of this.listeners) {
              try {
                await l(batch);
              } catch {
                // a listener's failure is its own business; the feed moves on
              }
            }
            this.lastSeen = batch[batch.length - 1]!.id;
          }
        } while (this.again);
      } catch {
        // the database is unreachable for a moment: the next commit notification reads again
      } finally {
        this.reading = undefined;
      }
    })();
    return this.reading;
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.listeners.clear();
  }
}
