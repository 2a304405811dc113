import { rowsPlaceholders, type SqlExecutor } from './database.js';

/** What the CA did about one register change event (migration 030: ca_register_events). */
export interface RegisterEventOutcome {
  eventId: number;
  residentId: string;
  handledAt: number;
  revoked: { kind: string; caId: string; serial: string; reason: string; reasonCode: number }[];
}

/** The CA's receipts for the register's change events: each handled exactly once, in event order. */
export class RegisterEventOutcomeRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Records an outcome; false when the event was handled already (by another process). */
  async insert(o: RegisterEventOutcome): Promise<boolean> {
    const n = await this.sql.execute(
      'INSERT INTO ca_register_events (event_id, resident_id, handled_at, revoked) VALUES (?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING',
      [o.eventId, o.residentId, o.handledAt, JSON.stringify(o.revoked)],
    );
    return n === 1;
  }

  /** Records many outcomes with one statement per 500; returns how many were new. */
  async insertMany(list: readonly RegisterEventOutcome[]): Promise<number> {
    let n = 0;
    for (let i = 0; i < list.length; i += 500) {
      const part = list.slice(i, i + 500);
      n += await this.sql.execute(
        `INSERT INTO ca_register_events (event_id, resident_id, handled_at, revoked) VALUES ${rowsPlaceholders(part.length, 4)} ON CONFLICT (event_id) DO NOTHING`,
        part.flatMap((o) => [o.eventId, o.residentId, o.handledAt, JSON.stringify(o.revoked)]),
      );
    }
    return n;
  }

  async get(eventId: number): Promise<RegisterEventOutcome | undefined> {
    const r = await this.sql.queryOne<{ event_id: number; resident_id: string; handled_at: number; revoked: string }>('SELECT * FROM ca_register_events WHERE event_id = ?', [eventId]);
    return r && { eventId: Number(r.event_id), residentId: r.resident_id, handledAt: Number(r.handled_at), revoked: JSON.parse(r.revoked) as RegisterEventOutcome['revoked'] };
  }

  /** The newest event handled (0 when none): where the handler goes on from. */
  async lastEventId(): Promise<number> {
    const r = await this.sql.queryOne<{ id: number | null }>('SELECT MAX(event_id) AS id FROM ca_register_events');
    return Number(r?.id ?? 0);
  }
}
