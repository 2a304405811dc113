import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { municipalityByCode, municipalityCodeProblem, type Municipality } from '../register/index.js';
import type { LoginCounters, OperatorRecord, OperatorRole, ScopedStore } from '../store/index.js';
import { CounterError } from './errors.js';
import { isLanguage, type Language } from './messages.js';
import { decoyHash, hashPassword, passwordProblem, verifyPassword } from './passwords.js';

/**
 * Login attempts (counted before the password is checked) that lock an account; kept in the database, so
 * restarts do not reset them. The lock ends by itself: the first lasts LOCKOUT_BASE_MS, each further one since
 * the last successful login twice as long, never more than LOCKOUT_MAX_MS — so an outsider who knows the
 * names can slow an account to a handful of guesses an hour but cannot shut a municipality's counter for good.
 */
export const MAX_FAILED_LOGINS = 5;
export const LOCKOUT_BASE_MS = 60_000;
export const LOCKOUT_MAX_MS = 3600_000;

/** How long the lock-out after `previous` earlier lock-outs (since the last success) lasts. */
export function lockoutDuration(previous: number): number {
  return Math.min(LOCKOUT_BASE_MS * 2 ** Math.min(previous, 30), LOCKOUT_MAX_MS);
}

/**
 * Whether a login attempt may have its password checked, and the counters it leaves: refused while a
 * lock-out runs; after one has run out counting starts again; the attempt that reaches MAX_FAILED_LOGINS
 * starts the next lock-out at once (it is still checked — if it is right, the success ends the lock-out).
 */
export function admitAttempt(o: LoginCounters, now: number): { admitted: boolean; update?: LoginCounters } {
  if (o.lockedUntil !== null && o.lockedUntil > now) return { admitted: false };
  const lockRanOut = o.lockedUntil !== null;
  const failedLogins = (lockRanOut ? 0 : o.failedLogins) + 1;
  if (failedLogins < MAX_FAILED_LOGINS) return { admitted: true, update: { failedLogins, lockouts: o.lockouts, lockedAt: null, lockedUntil: null } };
  return { admitted: true, update: { failedLogins, lockouts: o.lockouts + 1, lockedAt: now, lockedUntil: now + lockoutDuration(o.lockouts) } };
}
/** A session lasts at most a working day, and ends after 30 idle minutes. */
export const SESSION_LIFETIME_MS = 8 * 3600_000;
export const SESSION_IDLE_MS = 30 * 60_000;

/** An authenticated operator: what every counter action is done as. */
export interface Operator {
  id: string;
  name: string;
  municipality: string;
  role: OperatorRole;
  language: Language;
}

export interface OperatorView extends Operator {
  municipalityName: string;
  municipalityNameEn: string;
  prefecture: string;
  /** A lock-out is running (logins refused until lockedUntil). */
  locked: boolean;
  lockedUntil: string | null;
  /** A supervisor locked the account (logins refused until a supervisor unlocks it). */
  suspended: boolean;
  createdAt: string;
}

export interface NewOperator {
  name: string;
  municipality: string;
  role: OperatorRole;
  password: string;
  language?: Language;
}

export interface Session {
  /** The bearer token (also the cookie value). Only its hash is stored. */
  token: string;
  /** Must accompany state-changing requests authenticated by the cookie (X-CSRF-Token). */
  csrfToken: string;
  expiresAt: string;
  operator: Operator;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{1,39}$/;

export function actorOf(o: Pick<Operator, 'name'>): string {
  return `operator:${o.name}`;
}

function operatorOf(r: OperatorRecord): Operator {
  return { id: r.id, name: r.name, municipality: r.municipality, role: r.role, language: isLanguage(r.language) ? r.language : 'ja' };
}

export function viewOf(r: OperatorRecord, now: number): OperatorView {
  const locked = r.lockedUntil !== null && r.lockedUntil > now;
  const m = municipalityByCode(r.municipality);
  return {
    ...operatorOf(r),
    municipalityName: m?.name ?? r.municipality,
    municipalityNameEn: m?.nameEn ?? r.municipality,
    prefecture: m?.prefecture ?? '',
    locked,
    lockedUntil: locked ? new Date(r.lockedUntil!).toISOString() : null,
    suspended: r.suspendedAt !== null,
    createdAt: new Date(r.createdAt).toISOString(),
  };
}

const tokenHash = (token: string) => createHash('sha256').update(token).digest('hex');

/**
 * Counter staff: accounts bound to one municipality, scrypt passwords, lock-out after repeated failures,
 * sessions for the web terminal. Logins and their failures are in the audit log.
 */
export class CounterOperators {
  constructor(private readonly deps: { store: ScopedStore<'operators' | 'record'>; clock: Clock }) {}

  private now(): number {
    return this.deps.clock.now().getTime();
  }

  async add(input: NewOperator, actor: string): Promise<OperatorView> {
    if (!NAME_PATTERN.test(input.name ?? ''))
      throw new CounterError('COUNTER_REQUEST_INVALID', 'an operator name is 2–40 characters of A–Z, a–z, 0–9, ".", "_" and "-", starting with a letter or digit', {
        field: 'name',
        problem: 'format',
      });
    const m: Municipality | undefined = municipalityByCode(input.municipality ?? '');
    if (!m) throw new CounterError('COUNTER_REQUEST_INVALID', municipalityCodeProblem(input.municipality ?? '') ?? `no municipality with code ${JSON.stringify(input.municipality)}`, { field: 'municipality', problem: 'unknown' });
    if (input.role !== 'clerk' && input.role !== 'supervisor')
      throw new CounterError('COUNTER_REQUEST_INVALID', `the role must be clerk or supervisor, not ${JSON.stringify(input.role)}`, { field: 'role', problem: 'value' });
    const problem = passwordProblem(input.password ?? '');
    if (problem) throw new CounterError('COUNTER_PASSWORD_TOO_WEAK', `the password must have ${problem}`, { rule: problem });
    const language = input.language ?? 'ja';
    if (!isLanguage(language)) throw new CounterError('COUNTER_REQUEST_INVALID', 'the language must be ja, en or ko', { field: 'language', problem: 'value' });
    const now = this.now();
    const record: OperatorRecord = {
      id: randomUUID(),
      name: input.name,
      municipality: m.code,
      role: input.role,
      language,
      passwordHash: await hashPassword(input.password),
      failedLogins: 0,
      lockedAt: null,
      lockedUntil: null,
      lockouts: 0,
      suspendedAt: null,
      createdAt: now,
      updatedAt: now,
    };
    await this.deps.store.transaction(async (tx) => {
      if (await tx.operators.byName(record.name)) throw new CounterError('COUNTER_OPERATOR_EXISTS', `an operator named ${record.name} already exists`, { operator: record.name });
      await tx.operators.insert(record);
      await tx.record({ actor, action: 'counter.operator.add', target: `operator:${record.name}`, details: { municipality: m.code, role: record.role } });
    });
    return viewOf(record, now);
  }

  async list(municipality?: string): Promise<OperatorView[]> {
    const now = this.now();
    return (await this.deps.store.operators.list(municipality)).map((r) => viewOf(r, now));
  }

  /** How many operators there are (the demo seeds only an empty counter). */
  async count(): Promise<number> {
    return this.deps.store.operators.count();
  }

  async byName(name: string): Promise<OperatorRecord> {
    const o = await this.deps.store.operators.byName(name);
    if (!o) throw new CounterError('COUNTER_OPERATOR_NOT_FOUND', `no operator named ${JSON.stringify(name)}`, { operator: name });
    return o;
  }

  /**
   * Checks a name and password. The attempt is counted before the hash is checked, in one transaction that
   * holds the operator's row (so a hundred parallel guesses get a hundred different counts, and only the
   * first MAX_FAILED_LOGINS are ever checked). Unknown names, wrong passwords and locked accounts get the
   * same answer after the same work (a decoy hash is checked), so the reply tells no one which names exist
   * or which are locked; the audit log tells the operators.
   */
  async authenticate(name: string, password: string): Promise<Operator> {
    const now = this.now();
    const login = String(name ?? '').slice(0, 200);
    // A name no operator can have (NAME_PATTERN) is not looked up: it is unknown, with the same answer.
    const attempt = NAME_PATTERN.test(login) ? await this.deps.store.transaction((tx) => tx.operators.countAttempt(login, (o) => (o.suspendedAt !== null ? { admitted: false } : admitAttempt(o, now)), now)) : undefined;
    const admitted = attempt?.decision.admitted === true;
    const ok = await verifyPassword(String(password ?? ''), admitted ? attempt.operator.passwordHash : await decoyHash());
    if (attempt && admitted && ok) {
      await this.deps.store.operators.recordSuccessfulLogin(attempt.operator.id, now);
      return operatorOf(attempt.operator);
    }
    await this.deps.store.transaction((tx) => {
      if (!attempt) return tx.record({ actor: 'anonymous', action: 'counter.login.failed', target: `operator:${login.slice(0, 40)}`, details: { reason: 'unknown' } });
      const o = attempt.operator;
      if (!admitted)
        return tx.record({ actor: actorOf(o), action: 'counter.login.refused', target: `operator:${o.name}`, details: o.suspendedAt !== null ? { reason: 'suspended' } : { reason: 'locked', lockedUntil: o.lockedUntil } });
      const counters = attempt.decision.update!;
      return tx.record({
        actor: actorOf(o),
        action: 'counter.login.failed',
        target: `operator:${o.name}`,
        details: { failedLogins: counters.failedLogins, locked: counters.lockedUntil !== null, ...(counters.lockedUntil !== null ? { lockedUntil: counters.lockedUntil } : {}) },
      });
    });
    throw loginFailed();
  }

  /** Authenticates and opens a session for the web terminal. */
  async login(name: string, password: string): Promise<Session> {
    const operator = await this.authenticate(name, password);
    const token = randomBytes(32).toString('base64url');
    const csrfToken = randomBytes(24).toString('base64url');
    const now = this.now();
    const expiresAt = now + SESSION_LIFETIME_MS;
    await this.deps.store.transaction(async (tx) => {
      await tx.operators.insertSession({ tokenHash: tokenHash(token), operatorId: operator.id, csrfToken, createdAt: now, lastSeenAt: now, expiresAt, endedAt: null });
      await tx.record({ actor: actorOf(operator), action: 'counter.login', target: `operator:${operator.name}`, details: {} });
    });
    return { token, csrfToken, expiresAt: new Date(expiresAt).toISOString(), operator };
  }

  /** The operator of a live session (and the session's CSRF token); refuses ended, expired or idle ones. */
  async resume(token: string): Promise<{ operator: Operator; csrfToken: string; expiresAt: string }> {
    const s = await this.deps.store.operators.session(tokenHash(String(token ?? '')));
    const now = this.now();
    if (!s || s.endedAt !== null || s.expiresAt <= now || s.lastSeenAt + SESSION_IDLE_MS <= now)
      throw new CounterError('COUNTER_SESSION_REQUIRED', 'no valid session: log in again');
    const record = await this.deps.store.operators.get(s.operatorId);
    if (!record || record.suspendedAt !== null) throw new CounterError('COUNTER_SESSION_REQUIRED', 'no valid session: log in again');
    // A lock-out stops new logins only: an outsider guessing passwords must not end the clerk's work.
    // Idle time counts from the last request; a write per request is cheap at a counter's pace.
    if (now - s.lastSeenAt > 60_000) await this.deps.store.operators.touchSession(s.tokenHash, now);
    return { operator: operatorOf(record), csrfToken: s.csrfToken, expiresAt: new Date(s.expiresAt).toISOString() };
  }

  async logout(token: string, operator: Operator): Promise<void> {
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.operators.endSession(tokenHash(token), now);
      await tx.record({ actor: actorOf(operator), action: 'counter.logout', target: `operator:${operator.name}`, details: {} });
    });
  }

  /**
   * An operator another one manages: a supervisor only within their own municipality (a refusal is audited),
   * the CLI (no `by`) anywhere.
   */
  private async managed(name: string, action: string, by?: Operator): Promise<OperatorRecord> {
    const record = await this.byName(name);
    if (by && by.municipality !== record.municipality) {
      await this.deps.store.transaction((tx) =>
        tx.record({ actor: actorOf(by), action: 'counter.refused', target: `operator:${name}`, details: { reason: 'out-of-scope', attempted: action, municipality: record.municipality } }),
      );
      throw new CounterError('COUNTER_OUT_OF_SCOPE', `operator ${name} belongs to another municipality`, { municipality: record.municipality, operatorMunicipality: by.municipality });
    }
    return record;
  }

  private async view(id: string): Promise<OperatorView> {
    return viewOf((await this.deps.store.operators.get(id))!, this.now());
  }

  /**
   * Releases a locked account (a supervisor of the same municipality, or the CLI): a supervisor's lock, or a
   * lock-out after failed logins that is still running.
   */
  async unlock(name: string, actor: string, by?: Operator): Promise<OperatorView> {
    const record = await this.managed(name, 'operator.unlock', by);
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      const released = (await tx.operators.setSuspended(record.id, null, now)) || (await tx.operators.unlock(record.id, now));
      if (!released) throw new CounterError('COUNTER_OPERATOR_NOT_LOCKED', `operator ${name} is not locked`, { operator: name });
      await tx.record({ actor, action: 'counter.operator.unlock', target: `operator:${name}`, details: {} });
    });
    return this.view(record.id);
  }

  /** Locks an account until a supervisor unlocks it: logins are refused and its open sessions end. */
  async lock(name: string, actor: string, by?: Operator): Promise<OperatorView> {
    const record = await this.managed(name, 'operator.lock', by);
    if (by && by.id === record.id) throw new CounterError('COUNTER_OPERATOR_SELF', `${name} cannot lock their own account`, { operator: name });
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      if (!(await tx.operators.setSuspended(record.id, now, now))) throw new CounterError('COUNTER_OPERATOR_ALREADY_LOCKED', `operator ${name} is already locked`, { operator: name });
      const sessions = await tx.operators.endSessionsOf(record.id, now);
      await tx.record({ actor, action: 'counter.operator.lock', target: `operator:${name}`, details: { sessionsEnded: sessions } });
    });
    return this.view(record.id);
  }

  /** Makes an operator a clerk or a supervisor. A supervisor cannot take their own role away. */
  async setRole(name: string, role: OperatorRole, actor: string, by?: Operator): Promise<OperatorView> {
    if (role !== 'clerk' && role !== 'supervisor')
      throw new CounterError('COUNTER_REQUEST_INVALID', `the role must be clerk or supervisor, not ${JSON.stringify(role)}`, { field: 'role', problem: 'value' });
    const record = await this.managed(name, 'operator.role', by);
    if (by && by.id === record.id && role !== 'supervisor') throw new CounterError('COUNTER_OPERATOR_SELF', `${name} cannot remove their own supervisor role`, { operator: name });
    if (record.role === role) return this.view(record.id);
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.operators.setRole(record.id, role, now);
      await tx.record({ actor, action: 'counter.operator.role', target: `operator:${name}`, details: { from: record.role, to: role } });
    });
    return this.view(record.id);
  }

  /**
   * Sets a new password for an operator who forgot theirs (told to them in person): it must meet the
   * password rule; a lock-out is cleared and the operator's open sessions end.
   */
  async resetPassword(name: string, password: string, actor: string, by?: Operator): Promise<OperatorView> {
    const record = await this.managed(name, 'operator.password', by);
    const problem = passwordProblem(password ?? '');
    if (problem) throw new CounterError('COUNTER_PASSWORD_TOO_WEAK', `the password must have ${problem}`, { rule: problem });
    const passwordHash = await hashPassword(password);
    const now = this.now();
    await this.deps.store.transaction(async (tx) => {
      await tx.operators.setPassword(record.id, passwordHash, now);
      await tx.operators.unlock(record.id, now);
      const sessions = await tx.operators.endSessionsOf(record.id, now);
      await tx.record({ actor, action: 'counter.operator.password', target: `operator:${name}`, details: { sessionsEnded: sessions } });
    });
    return this.view(record.id);
  }

  async setLanguage(operator: Operator, language: Language): Promise<Operator> {
    if (!isLanguage(language)) throw new CounterError('COUNTER_REQUEST_INVALID', 'the language must be ja, en or ko', { field: 'language', problem: 'value' });
    await this.deps.store.operators.setLanguage(operator.id, language, this.now());
    return { ...operator, language };
  }
}

/** The one answer to every failed login: unknown name, wrong password and locked account alike. */
function loginFailed(): CounterError {
  return new CounterError('COUNTER_LOGIN_FAILED', `unknown operator or wrong password (after ${MAX_FAILED_LOGINS} failed logins an account is locked for a while)`, {
    limit: MAX_FAILED_LOGINS,
  });
}
