import type { SqlExecutor } from './database.js';

export type OperatorRole = 'clerk' | 'supervisor';

/** A member of counter staff, bound to one municipality. */
export interface OperatorRecord {
  id: string;
  name: string;
  municipality: string;
  role: OperatorRole;
  language: string;
  passwordHash: string;
  /** Login attempts counted since the last success or the end of the last lock-out (in flight included). */
  failedLogins: number;
  /** When the current lock-out began (null: not locked since the last success or unlock). */
  lockedAt: number | null;
  /** Until when logins are refused (null or past: not locked). */
  lockedUntil: number | null;
  /** Lock-outs since the last successful login: each one lasts twice as long as the one before. */
  lockouts: number;
  /** When a supervisor locked the account (null: not suspended); it lasts until they unlock it. */
  suspendedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface SessionRecord {
  tokenHash: string;
  operatorId: string;
  csrfToken: string;
  createdAt: number;
  lastSeenAt: number;
  expiresAt: number;
  endedAt: number | null;
}

interface Row {
  id: string;
  name: string;
  municipality: string;
  role: OperatorRole;
  language: string;
  password_hash: string;
  failed_logins: number;
  locked_at: number | null;
  locked_until: number | null;
  lockouts: number;
  suspended_at?: number | null;
  created_at: number;
  updated_at: number;
  [k: string]: unknown;
}

interface SessionRow {
  token_hash: string;
  operator_id: string;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ended_at: number | null;
  [k: string]: unknown;
}

const fromRow = (r: Row): OperatorRecord => ({
  id: r.id,
  name: r.name,
  municipality: r.municipality,
  role: r.role,
  language: r.language,
  passwordHash: r.password_hash,
  failedLogins: Number(r.failed_logins),
  lockedAt: r.locked_at === null ? null : Number(r.locked_at),
  lockedUntil: r.locked_until === null || r.locked_until === undefined ? null : Number(r.locked_until),
  lockouts: Number(r.lockouts ?? 0),
  suspendedAt: r.suspended_at === null || r.suspended_at === undefined ? null : Number(r.suspended_at),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const fromSessionRow = (r: SessionRow): SessionRecord => ({
  tokenHash: r.token_hash,
  operatorId: r.operator_id,
  csrfToken: r.csrf_token,
  createdAt: Number(r.created_at),
  lastSeenAt: Number(r.last_seen_at),
  expiresAt: Number(r.expires_at),
  endedAt: r.ended_at === null ? null : Number(r.ended_at),
});

/** The lock-out counters of an operator, as a login attempt leaves them. */
export type LoginCounters = Pick<OperatorRecord, 'failedLogins' | 'lockouts' | 'lockedAt' | 'lockedUntil'>;

/** Counter operators, their failed-login counters and their sessions. */
export class OperatorRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(o: OperatorRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO counter_operators (id, name, municipality, role, language, password_hash, failed_logins, locked_at, locked_until, lockouts, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [o.id, o.name, o.municipality, o.role, o.language, o.passwordHash, o.failedLogins, o.lockedAt, o.lockedUntil, o.lockouts, o.createdAt, o.updatedAt],
    );
  }

  async byName(name: string): Promise<OperatorRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM counter_operators WHERE name = ?', [name]);
    return r && fromRow(r);
  }

  async get(id: string): Promise<OperatorRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM counter_operators WHERE id = ?', [id]);
    return r && fromRow(r);
  }

  async list(municipality?: string): Promise<OperatorRecord[]> {
    const rows = municipality
      ? await this.sql.query<Row>('SELECT * FROM counter_operators WHERE municipality = ? ORDER BY name', [municipality])
      : await this.sql.query<Row>('SELECT * FROM counter_operators ORDER BY municipality, name');
    return rows.map(fromRow);
  }

  async count(): Promise<number> {
    const r = await this.sql.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM counter_operators');
    return Number(r?.n ?? 0);
  }

  /**
   * Counts one login attempt before its password is checked (issue 10): the operator's row is locked for the
   * transaction (PostgreSQL FOR UPDATE; SQLite serialises writers), `decide` turns the counters into the
   * admitted attempt's counters or a refusal, and the result is written — all in the caller's transaction, so
   * no two parallel attempts can read the same count. Returns undefined for an unknown name.
   */
  async countAttempt<T extends { update?: LoginCounters }>(name: string, decide: (o: OperatorRecord) => T, at: number): Promise<{ operator: OperatorRecord; decision: T } | undefined> {
    const lock = this.sql.dialect === 'postgres' ? ' FOR UPDATE' : '';
    const r = await this.sql.queryOne<Row>(`SELECT * FROM counter_operators WHERE name = ?${lock}`, [name]);
    if (!r) return undefined;
    const operator = fromRow(r);
    const decision = decide(operator);
    if (decision.update) await this.setLoginCounters(operator.id, decision.update, at);
    return { operator, decision };
  }

  /** After a successful login: the counters and any lock-out start again from nothing. */
  async recordSuccessfulLogin(id: string, at: number): Promise<void> {
    await this.sql.execute(
      'UPDATE counter_operators SET failed_logins = 0, lockouts = 0, locked_at = NULL, locked_until = NULL, updated_at = ? WHERE id = ? AND (failed_logins <> 0 OR lockouts <> 0 OR locked_until IS NOT NULL)',
      [at, id],
    );
  }

  /** Clears a lock-out that is still running at `at`. Returns false when the account was not locked. */
  async unlock(id: string, at: number): Promise<boolean> {
    const n = await this.sql.execute(
      'UPDATE counter_operators SET failed_logins = 0, locked_at = NULL, locked_until = NULL, updated_at = ? WHERE id = ? AND locked_until IS NOT NULL AND locked_until > ?',
      [at, id, at],
    );
    return n === 1;
  }

  private async setLoginCounters(id: string, c: LoginCounters, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_operators SET failed_logins = ?, lockouts = ?, locked_at = ?, locked_until = ?, updated_at = ? WHERE id = ?', [
      c.failedLogins,
      c.lockouts,
      c.lockedAt,
      c.lockedUntil,
      at,
      id,
    ]);
  }

  /** Suspends (`at`) or reinstates (null) an account. Returns false when it was already so. */
  async setSuspended(id: string, suspendedAt: number | null, at: number): Promise<boolean> {
    const n =
      suspendedAt === null
        ? await this.sql.execute('UPDATE counter_operators SET suspended_at = NULL, failed_logins = 0, locked_at = NULL, locked_until = NULL, updated_at = ? WHERE id = ? AND suspended_at IS NOT NULL', [at, id])
        : await this.sql.execute('UPDATE counter_operators SET suspended_at = ?, updated_at = ? WHERE id = ? AND suspended_at IS NULL', [suspendedAt, at, id]);
    return n === 1;
  }

  async setRole(id: string, role: OperatorRole, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_operators SET role = ?, updated_at = ? WHERE id = ?', [role, at, id]);
  }

  async setPassword(id: string, passwordHash: string, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_operators SET password_hash = ?, updated_at = ? WHERE id = ?', [passwordHash, at, id]);
  }

  async setLanguage(id: string, language: string, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_operators SET language = ?, updated_at = ? WHERE id = ?', [language, at, id]);
  }

  // ---- sessions ------------------------------------------------------------------------------------------

  async insertSession(s: SessionRecord): Promise<void> {
    await this.sql.execute(
      'INSERT INTO counter_sessions (token_hash, operator_id, csrf_token, created_at, last_seen_at, expires_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [s.tokenHash, s.operatorId, s.csrfToken, s.createdAt, s.lastSeenAt, s.expiresAt, s.endedAt],
    );
  }

  async session(tokenHash: string): Promise<SessionRecord | undefined> {
    const r = await this.sql.queryOne<SessionRow>('SELECT * FROM counter_sessions WHERE token_hash = ?', [tokenHash]);
    return r && fromSessionRow(r);
  }

  async touchSession(tokenHash: string, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_sessions SET last_seen_at = ? WHERE token_hash = ? AND ended_at IS NULL', [at, tokenHash]);
  }

  /** Ends one session. Returns false when it had already ended. */
  async endSession(tokenHash: string, at: number): Promise<boolean> {
    return (await this.sql.execute('UPDATE counter_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL', [at, tokenHash])) === 1;
  }

  /** Ends every open session of an operator (lock-out, password change). */
  async endSessionsOf(operatorId: string, at: number): Promise<number> {
    return this.sql.execute('UPDATE counter_sessions SET ended_at = ? WHERE operator_id = ? AND ended_at IS NULL', [at, operatorId]);
  }
}
