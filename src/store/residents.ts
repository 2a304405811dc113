import { rowsPlaceholders, type SqlExecutor } from './database.js';

export type ResidentStatus = 'registered' | 'deceased';
export type ResidentEventType = 'registered' | 'move' | 'rename' | 'correction' | 'death';

/** One resident of the Basic Resident Register as currently recorded. */
export interface ResidentRecord {
  id: string;
  recordCode: string;
  name: string;
  nameSubstitute: string;
  address: string;
  addressSubstitute: string;
  dateOfBirth: string;
  sex: string;
  municipality: string;
  prefecture: string;
  status: ResidentStatus;
  version: number;
  registeredAt: number;
  updatedAt: number;
}

/** The facts of a resident that events change (everything but identity and bookkeeping). */
export type ResidentState = Pick<
  ResidentRecord,
  'name' | 'nameSubstitute' | 'address' | 'addressSubstitute' | 'dateOfBirth' | 'sex' | 'municipality' | 'prefecture' | 'status'
>;

export interface ResidentEventRecord {
  id: number;
  residentId: string;
  version: number;
  type: ResidentEventType;
  effectiveOn: string;
  recordedAt: number;
  actor: string;
  before: ResidentState | null;
  after: ResidentState;
  details: Record<string, unknown>;
}

export type NewResidentEvent = Omit<ResidentEventRecord, 'id'>;

/** Where a bulk import of one file stands (migration 050). */
export interface RegisterImportRecord {
  id: string;
  source: string;
  totalRows: number;
  loadedRows: number;
  lastLine: number;
  startedAt: number;
  updatedAt: number;
  finishedAt: number | null;
}

export interface ResidentSearch {
  municipality?: string;
  /** Part of the name (spaces of either width ignored), the record code, or the id. */
  text?: string;
  dateOfBirth?: string;
  limit?: number;
  offset?: number;
}

interface Row {
  id: string;
  record_code: string;
  name: string;
  name_substitute: string;
  address: string;
  address_substitute: string;
  date_of_birth: string;
  sex: string;
  municipality: string;
  prefecture: string;
  status: ResidentStatus;
  version: number;
  registered_at: number;
  updated_at: number;
  [k: string]: unknown;
}

interface EventRow {
  id: number;
  resident_id: string;
  version: number;
  type: ResidentEventType;
  effective_on: string;
  recorded_at: number;
  actor: string;
  before_state: string | null;
  after_state: string;
  details: string;
  [k: string]: unknown;
}

const fromRow = (r: Row): ResidentRecord => ({
  id: r.id,
  recordCode: r.record_code,
  name: r.name,
  nameSubstitute: r.name_substitute,
  address: r.address,
  addressSubstitute: r.address_substitute,
  dateOfBirth: r.date_of_birth,
  sex: r.sex,
  municipality: r.municipality,
  prefecture: r.prefecture,
  status: r.status,
  version: Number(r.version),
  registeredAt: Number(r.registered_at),
  updatedAt: Number(r.updated_at),
});

const fromEventRow = (r: EventRow): ResidentEventRecord => ({
  id: Number(r.id),
  residentId: r.resident_id,
  version: Number(r.version),
  type: r.type,
  effectiveOn: r.effective_on,
  recordedAt: Number(r.recorded_at),
  actor: r.actor,
  before: r.before_state === null ? null : (JSON.parse(r.before_state) as ResidentState),
  after: JSON.parse(r.after_state) as ResidentState,
  details: JSON.parse(r.details) as Record<string, unknown>,
});

/** The statement of `ResidentRepository.search` (exported for the query-plan tests). */
export function residentSearchQuery(q: ResidentSearch): { sql: string; params: (string | number)[] } {
  const where: string[] = [];
  const params: (string | number)[] = [];
  if (q.municipality) (where.push('municipality = ?'), params.push(q.municipality));
  if (q.dateOfBirth) (where.push('date_of_birth = ?'), params.push(q.dateOfBirth));
  if (q.text && /^\d{11}$/.test(q.text)) {
    // a resident-record code: the unique index, not a scan of every name
    where.push('record_code = ?');
    params.push(q.text);
  } else if (q.text) {
    const compact = q.text.replace(/[\s\u3000]+/g, '');
    // Names are stored with a full-width space: compare without spaces of either width.
    where.push(`(REPLACE(REPLACE(name, ' ', ''), '\u3000', '') LIKE ? OR record_code = ? OR id = ?)`);
    params.push(`%${compact.replace(/[%_]/g, '')}%`, q.text, q.text);
  }
  return {
    sql: `SELECT * FROM residents ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY municipality, registered_at, first_event_id, id LIMIT ? OFFSET ?`,
    params: [...params, q.limit ?? 100, q.offset ?? 0],
  };
}

/** PostgreSQL advisory lock key: register event writers take turns, so ids are in commit order. */
const EVENT_LOCK = 4242006;

/** The register's tables: the current state of each resident and the events that led to it. */
export class ResidentRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(r: ResidentRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO residents (id, record_code, name, name_substitute, address, address_substitute, date_of_birth, sex, municipality, prefecture, status, version, registered_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [r.id, r.recordCode, r.name, r.nameSubstitute, r.address, r.addressSubstitute, r.dateOfBirth, r.sex, r.municipality, r.prefecture, r.status, r.version, r.registeredAt, r.updatedAt],
    );
  }

  /** Inserts many residents, a statement per 1,000 rows (bulk import). */
  async insertMany(list: readonly ResidentRecord[]): Promise<void> {
    for (let i = 0; i < list.length; i += 1000) {
      const part = list.slice(i, i + 1000);
      await this.sql.execute(
        `INSERT INTO residents (id, record_code, name, name_substitute, address, address_substitute, date_of_birth, sex, municipality, prefecture, status, version, registered_at, updated_at)
         VALUES ${rowsPlaceholders(part.length, 14)}`,
        part.flatMap((r) => [r.id, r.recordCode, r.name, r.nameSubstitute, r.address, r.addressSubstitute, r.dateOfBirth, r.sex, r.municipality, r.prefecture, r.status, r.version, r.registeredAt, r.updatedAt]),
      );
    }
  }

  /** Which of these record codes are taken already. */
  async existingRecordCodes(codes: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < codes.length; i += 1000) {
      const part = codes.slice(i, i + 1000);
      if (part.length === 0) continue;
      const rows = await this.sql.query<{ record_code: string }>(`SELECT record_code FROM residents WHERE record_code IN (${part.map(() => '?').join(', ')})`, part);
      for (const r of rows) found.add(r.record_code);
    }
    return found;
  }

  /** Which of these resident ids are taken already. */
  async existingIds(ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 1000) {
      const part = ids.slice(i, i + 1000);
      if (part.length === 0) continue;
      for (const r of await this.sql.query<{ id: string }>(`SELECT id FROM residents WHERE id IN (${part.map(() => '?').join(', ')})`, part)) found.add(r.id);
    }
    return found;
  }

  async importRecord(id: string): Promise<RegisterImportRecord | undefined> {
    const r = await this.sql.queryOne<Record<string, unknown>>('SELECT * FROM register_imports WHERE id = ?', [id]);
    return (
      r && {
        id: String(r.id),
        source: String(r.source),
        totalRows: Number(r.total_rows),
        loadedRows: Number(r.loaded_rows),
        lastLine: Number(r.last_line),
        startedAt: Number(r.started_at),
        updatedAt: Number(r.updated_at),
        finishedAt: r.finished_at === null ? null : Number(r.finished_at),
      }
    );
  }

  /** Writes where an import stands (inside the transaction of the batch it loaded). */
  async saveImportRecord(r: RegisterImportRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO register_imports (id, source, total_rows, loaded_rows, last_line, started_at, updated_at, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET loaded_rows = excluded.loaded_rows, last_line = excluded.last_line, updated_at = excluded.updated_at, finished_at = excluded.finished_at`,
      [r.id, r.source, r.totalRows, r.loadedRows, r.lastLine, r.startedAt, r.updatedAt, r.finishedAt],
    );
  }

  async get(id: string): Promise<ResidentRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM residents WHERE id = ?', [id]);
    return r && fromRow(r);
  }

  async byRecordCode(code: string): Promise<ResidentRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM residents WHERE record_code = ?', [code]);
    return r && fromRow(r);
  }

  async recordCodeExists(code: string): Promise<boolean> {
    return !!(await this.sql.queryOne('SELECT 1 AS x FROM residents WHERE record_code = ?', [code]));
  }

  /**
   * Writes a resident's new state if it is still at `expectedVersion`. Returns false when another change
   * came first (nothing is written), so the caller can refuse instead of overwriting it.
   */
  async update(id: string, expectedVersion: number, state: ResidentState, updatedAt: number): Promise<boolean> {
    const n = await this.sql.execute(
      `UPDATE residents SET name = ?, name_substitute = ?, address = ?, address_substitute = ?, date_of_birth = ?, sex = ?, municipality = ?, prefecture = ?, status = ?,
              version = version + 1, updated_at = ?
       WHERE id = ? AND version = ?`,
      [state.name, state.nameSubstitute, state.address, state.addressSubstitute, state.dateOfBirth, state.sex, state.municipality, state.prefecture, state.status, updatedAt, id, expectedVersion],
    );
    return n === 1;
  }

  /**
   * Residents in the order they were entered (within a municipality): by registration time, then by their
   * first event (migration 072 keeps its id on the resident), so that the search index gives the order and a
   * search reads only as far as the page it returns.
   */
  async search(q: ResidentSearch = {}): Promise<ResidentRecord[]> {
    const { sql, params } = residentSearchQuery(q);
    return (await this.sql.query<Row>(sql, params)).map(fromRow);
  }

  async count(municipality?: string): Promise<number> {
    const r = municipality
      ? await this.sql.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM residents WHERE municipality = ?', [municipality])
      : await this.sql.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM residents');
    return Number(r?.n ?? 0);
  }

  /**
   * Appends an event (inside the transaction of the change). On PostgreSQL writers take turns first, so event
   * ids follow commit order and a follower reading `id > last seen` (the CA) never skips one.
   */
  async appendEvent(e: NewResidentEvent): Promise<number> {
    if (this.sql.dialect === 'postgres') await this.sql.execute(`SELECT pg_advisory_xact_lock(${EVENT_LOCK})`);
    const r = await this.sql.queryOne<{ id: number }>(
      `INSERT INTO resident_events (resident_id, version, type, effective_on, recorded_at, actor, before_state, after_state, details)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
      [e.residentId, e.version, e.type, e.effectiveOn, e.recordedAt, e.actor, e.before === null ? null : JSON.stringify(e.before), JSON.stringify(e.after), JSON.stringify(e.details)],
    );
    const id = Number(r!.id);
    // version 1 is the resident's first event: its id places the resident in the search order
    if (e.version === 1) await this.sql.execute('UPDATE residents SET first_event_id = ? WHERE id = ? AND first_event_id IS NULL', [id, e.residentId]);
    return id;
  }

  /** Appends many events (bulk import), writers taking turns once for the whole batch. */
  async appendEvents(list: readonly NewResidentEvent[]): Promise<void> {
    if (list.length === 0) return;
    if (this.sql.dialect === 'postgres') await this.sql.execute(`SELECT pg_advisory_xact_lock(${EVENT_LOCK})`);
    for (let i = 0; i < list.length; i += 1000) {
      const part = list.slice(i, i + 1000);
      await this.sql.execute(
        `INSERT INTO resident_events (resident_id, version, type, effective_on, recorded_at, actor, before_state, after_state, details) VALUES ${rowsPlaceholders(part.length, 9)}`,
        part.flatMap((e) => [e.residentId, e.version, e.type, e.effectiveOn, e.recordedAt, e.actor, e.before === null ? null : JSON.stringify(e.before), JSON.stringify(e.after), JSON.stringify(e.details)]),
      );
      // the first events of new residents place them in the search order (as appendEvent does)
      const first = [...new Set(part.filter((e) => e.version === 1).map((e) => e.residentId))];
      if (first.length)
        await this.sql.execute(
          `UPDATE residents SET first_event_id = (SELECT MIN(e.id) FROM resident_events e WHERE e.resident_id = residents.id)
           WHERE first_event_id IS NULL AND id IN (${first.map(() => '?').join(', ')})`,
          first,
        );
    }
  }

  /** Events after `afterId`, oldest first (the CA follows them to revoke what a change invalidates). */
  async eventsAfter(afterId: number, limit = 500): Promise<ResidentEventRecord[]> {
    return (await this.sql.query<EventRow>('SELECT * FROM resident_events WHERE id > ? ORDER BY id LIMIT ?', [afterId, limit])).map(fromEventRow);
  }

  async events(residentId: string): Promise<ResidentEventRecord[]> {
    return (await this.sql.query<EventRow>('SELECT * FROM resident_events WHERE resident_id = ? ORDER BY version', [residentId])).map(fromEventRow);
  }
}
