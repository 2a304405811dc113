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
  failedLogins: number;
  lockedAt: number | null;
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

/** Counter operators, their failed-login counters and their sessions. */
export class OperatorRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(o: OperatorRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO counter_operators (id, name, municipality, role, language, password_hash, failed_logins, locked_at, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [o.id, o.name, o.municipality, o.role, o.language, o.passwordHash, o.failedLogins, o.lockedAt, o.createdAt, o.updatedAt],
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
   * Counts one failed login and locks the account when the count reaches `limit`, in one statement so that
   * concurrent failures cannot slip past the limit. Returns the new count and whether it is now locked.
   */
  async recordFailedLogin(id: string, limit: number, at: number): Promise<{ failedLogins: number; locked: boolean }> {
    await this.sql.execute(
      `UPDATE counter_operators SET failed_logins = failed_logins + 1,
              locked_at = CASE WHEN locked_at IS NULL AND failed_logins + 1 >= ? THEN ? ELSE locked_at END,
              updated_at = ?
       WHERE id = ?`,
      [limit, at, at, id],
    );
    const o = (await this.get(id))!;
    return { failedLogins: o.failedLogins, locked: o.lockedAt !== null };
  }

  async recordSuccessfulLogin(id: string, at: number): Promise<void> {
    await this.sql.execute('UPDATE counter_operators SET failed_logins = 0, updated_at = ? WHERE id = ? AND failed_logins <> 0', [at, id]);
  }

  /** Clears a lock-out. Returns false when the account was not locked. */
  async unlock(id: string, at: number): Promise<boolean> {
    const n = await this.sql.execute('UPDATE counter_operators SET failed_logins = 0, locked_at = NULL, updated_at = ? WHERE id = ? AND locked_at IS NOT NULL', [at, id]);
    return n === 1;
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
