import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { JpkiError } from '../../src/common/errors.js';
import { CounterOperators, MAX_FAILED_LOGINS, LOCKOUT_BASE_MS, LOCKOUT_MAX_MS, admitAttempt, lockoutDuration, SESSION_IDLE_MS, hashPassword, verifyPassword, negotiateLanguage, translate, COUNTER_ERROR_CODES, hasMessage, LANGUAGES } from '../../src/counter/index.js';
import type { Store } from '../../src/store/index.js';
import { availableStoreKinds, disposeTestStore, openTestStore } from '../support/stores.js';
import { refusal } from './support.js';

const kinds = await availableStoreKinds();
const PASSWORD = 'counter-pass-77';

describe('operator passwords', () => {
  it('are scrypt hashes with their parameters and salt; the same password hashes differently each time', async () => {
    const a = await hashPassword(PASSWORD);
    const b = await hashPassword(PASSWORD);
    expect(a).toMatch(/^scrypt\$32768\$8\$1\$[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+$/);
    expect(a).not.toBe(b);
    expect(await verifyPassword(PASSWORD, a)).toBe(true);
    expect(await verifyPassword('counter-pass-78', a)).toBe(false);
    expect(await verifyPassword(PASSWORD, 'plain')).toBe(false);
  });
});

describe('messages in the operator\u2019s language', () => {
  it('has Japanese, English and Korean for every counter error code', () => {
    for (const code of COUNTER_ERROR_CODES) {
      expect(hasMessage(code), code).toBe(true);
      for (const lang of LANGUAGES) expect(translate(code, {}, lang)!.length, `${code} ${lang}`).toBeGreaterThan(5);
    }
  });

  it('fills parameters and translates domain words in them', () => {
    expect(translate('COUNTER_PIN_INCORRECT', { pin: 'sign', triesLeft: 2 }, 'ja')).toBe('現在の署名用電子証明書のパスワードが違います。あと2回間違えるとロックされます。');
    expect(translate('COUNTER_PIN_INCORRECT', { pin: 'sign', triesLeft: 2 }, 'en')).toContain('signing password is wrong: 2 tries left');
    expect(translate('COUNTER_FORM_MISMATCH', { field: 'dateOfBirth' }, 'ko')).toContain('생년월일');
    expect(translate('reader.no-card', {}, 'en')).toContain('card reader');
    expect(translate('SOMETHING_ELSE', {}, 'en')).toBeUndefined();
  });

  it('picks ?lang=, then the operator\u2019s preference, then Accept-Language, then Japanese', () => {
    expect(negotiateLanguage({ query: 'ko', operator: 'en', acceptLanguage: 'ja' })).toBe('ko');
    expect(negotiateLanguage({ query: 'xx', operator: 'en', acceptLanguage: 'ko' })).toBe('en');
    expect(negotiateLanguage({ acceptLanguage: 'fr-FR, ko;q=0.8, en;q=0.9' })).toBe('en');
    expect(negotiateLanguage({ acceptLanguage: 'en;q=0, ko;q=0.1' })).toBe('ko');
    expect(negotiateLanguage({})).toBe('ja');
  });
});

describe.each(kinds)('operators and sessions (%s)', (storeKind) => {
  let store: Store;
  const clock = new FixedClock('2026-04-01T01:00:00Z');
  let operators: CounterOperators;

  beforeAll(async () => {
    store = (await openTestStore(storeKind, { clock }))!;
    operators = new CounterOperators({ store, clock });
  });
  afterAll(async () => disposeTestStore(store));

  it('adds operators bound to a municipality, never storing the password, and refuses duplicates and weak passwords', async () => {
    const o = await operators.add({ name: 'sato', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
    expect(o).toMatchObject({ name: 'sato', municipality: '13103', municipalityName: '港区', role: 'clerk', language: 'ja', locked: false });
    const stored = (await store.operators.byName('sato'))!;
    expect(stored.passwordHash).not.toContain(PASSWORD);
    expect((await refusal(operators.add({ name: 'sato', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test'))).code).toBe('COUNTER_OPERATOR_EXISTS');
    expect((await refusal(operators.add({ name: 'suzuki', municipality: '13103', role: 'clerk', password: 'short1' }, 'test'))).code).toBe('COUNTER_PASSWORD_TOO_WEAK');
    expect((await refusal(operators.add({ name: 'suzuki', municipality: '99999', role: 'clerk', password: PASSWORD }, 'test'))).params).toMatchObject({ field: 'municipality' });
    expect((await refusal(operators.add({ name: 'suzuki', municipality: '13103', role: 'admin' as never, password: PASSWORD }, 'test'))).params).toMatchObject({ field: 'role' });
  });

  it('locks an account at the fifth failed login, in the database, until the lock-out ends or someone unlocks it', async () => {
    await operators.add({ name: 'tanaka', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
    const session = await operators.login('tanaka', PASSWORD);
    for (let i = 1; i <= MAX_FAILED_LOGINS; i++) expect((await refusal(operators.authenticate('tanaka', 'wrong-password-1'))).code).toBe('COUNTER_LOGIN_FAILED');
    // The right password does not open a locked account; a new process (a new service object) sees the lock.
    expect((await refusal(new CounterOperators({ store, clock }).authenticate('tanaka', PASSWORD))).code).toBe('COUNTER_LOGIN_FAILED');
    const failures = await store.audit.list({ action: 'counter.login.failed', target: 'operator:tanaka' });
    expect(failures).toHaveLength(MAX_FAILED_LOGINS);
    expect(failures.at(-1)!.details).toMatchObject({ failedLogins: 5, locked: true });
    expect(await store.audit.list({ action: 'counter.login.refused', target: 'operator:tanaka' })).toHaveLength(1);
    expect((await operators.list('13103')).find((o) => o.name === 'tanaka')).toMatchObject({ locked: true, lockedUntil: new Date(clock.now().getTime() + LOCKOUT_BASE_MS).toISOString() });
    // An outsider guessing passwords does not end the clerk's open session.
    expect((await operators.resume(session.token)).operator.name).toBe('tanaka');
    await operators.unlock('tanaka', 'cli');
    expect((await operators.authenticate('tanaka', PASSWORD)).name).toBe('tanaka');
    expect((await refusal(operators.unlock('tanaka', 'cli'))).code).toBe('COUNTER_OPERATOR_NOT_LOCKED');
  });

  it('a success resets the count of consecutive failures; an unknown name fails like a wrong password', async () => {
    await operators.add({ name: 'ito', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
    for (let i = 0; i < MAX_FAILED_LOGINS - 1; i++) await operators.authenticate('ito', 'nope-nope-1').catch(() => undefined);
    await operators.authenticate('ito', PASSWORD);
    expect((await store.operators.byName('ito'))!.failedLogins).toBe(0);
    expect((await refusal(operators.authenticate('nobody-here', PASSWORD))).code).toBe('COUNTER_LOGIN_FAILED');
  });

  it('sessions: a random token stored only as a hash, ended by logout, by expiry and by idle time', async () => {
    await operators.add({ name: 'kato', municipality: '27128', role: 'supervisor', password: PASSWORD, language: 'en' }, 'test');
    const s = await operators.login('kato', PASSWORD);
    expect(s.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(s.operator).toMatchObject({ name: 'kato', municipality: '27128', role: 'supervisor', language: 'en' });
    expect((await operators.resume(s.token)).operator.name).toBe('kato');
    const rows = await store.sql.query<{ token_hash: string }>('SELECT token_hash FROM counter_sessions');
    expect(rows.some((r) => r.token_hash === s.token)).toBe(false);

    await operators.logout(s.token, s.operator);
    expect((await refusal(operators.resume(s.token))).code).toBe('COUNTER_SESSION_REQUIRED');

    const idle = await operators.login('kato', PASSWORD);
    clock.advance(SESSION_IDLE_MS + 1000);
    expect((await refusal(operators.resume(idle.token))).code).toBe('COUNTER_SESSION_REQUIRED');

    const long = await operators.login('kato', PASSWORD);
    // Kept busy every 29 minutes it never idles out, but a working day is the limit.
    for (let i = 0; i < 16; i++) {
      clock.advance(29 * 60_000);
      await operators.resume(long.token);
    }
    clock.advance(29 * 60_000);
    expect((await refusal(operators.resume(long.token))).code).toBe('COUNTER_SESSION_REQUIRED'); // past 8 hours
    expect(await store.audit.list({ action: 'counter.login', target: 'operator:kato' })).toHaveLength(3);
  });
});

describe('lock-out back-off (the counting rule)', () => {
  it('never locks anyone out for longer than the cap, however often the account is attacked, and ends every lock-out', () => {
    let counters = { failedLogins: 0, lockouts: 0, lockedAt: null as number | null, lockedUntil: null as number | null };
    let now = Date.parse('2026-04-01T01:00:00Z');
    const lengths: number[] = [];
    for (let round = 0; round < 12; round++) {
      for (let i = 0; i < MAX_FAILED_LOGINS; i++) {
        const a = admitAttempt(counters, now);
        expect(a.admitted).toBe(true);
        counters = a.update!;
      }
      // locked now: further attempts are refused without being counted
      expect(admitAttempt(counters, now + 1)).toEqual({ admitted: false });
      lengths.push(counters.lockedUntil! - now);
      now = counters.lockedUntil!;
    }
    expect(lengths.slice(0, 8)).toEqual([1, 2, 4, 8, 16, 32, 60, 60].map((m) => m * 60_000));
    expect(Math.max(...lengths)).toBe(LOCKOUT_MAX_MS);
    expect(lockoutDuration(1000)).toBe(LOCKOUT_MAX_MS);
  });
});

describe.each(kinds)('lock-out under parallel guesses (%s)', (storeKind) => {
  let store: Store;
  const clock = new FixedClock('2026-04-01T01:00:00Z');
  let operators: CounterOperators;

  beforeAll(async () => {
    store = (await openTestStore(storeKind, { clock }))!;
    operators = new CounterOperators({ store, clock });
    await operators.add({ name: 'yamada', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
  });
  afterAll(async () => disposeTestStore(store));

  it('100 concurrent wrong passwords check at most the limit of hashes; the right one then does not log in while locked', async () => {
    const wrong = Array.from({ length: 100 }, (_, i) => operators.authenticate('yamada', `wrong-password-${i}`).then(() => 'in', (e: JpkiError) => e.code));
    const right = operators.authenticate('yamada', PASSWORD).then(() => 'in', (e: JpkiError) => e.code);
    const outcomes = await Promise.all(wrong);
    expect(await right).toBe('COUNTER_LOGIN_FAILED');
    expect(new Set(outcomes)).toEqual(new Set(['COUNTER_LOGIN_FAILED']));
    expect((await refusal(operators.authenticate('yamada', PASSWORD))).code).toBe('COUNTER_LOGIN_FAILED');
    // only the first MAX_FAILED_LOGINS attempts were checked against the hash; the others were refused unseen
    expect(await store.audit.list({ action: 'counter.login.failed', target: 'operator:yamada' })).toHaveLength(MAX_FAILED_LOGINS);
    expect((await store.operators.byName('yamada'))!.lockedUntil).toBeGreaterThan(clock.now().getTime());
    // a hundred scrypt checks (decoys for the refused ones, so timing tells nothing): slow on a busy machine
  }, 240_000);

  it('a locked account answers exactly like an unknown one (no name oracle)', async () => {
    const locked = await refusal(operators.authenticate('yamada', PASSWORD));
    const unknown = await refusal(operators.authenticate('no-such-operator', PASSWORD));
    expect({ code: locked.code, kind: locked.kind, message: locked.message, params: locked.params }).toEqual({
      code: unknown.code,
      kind: unknown.kind,
      message: unknown.message,
      params: unknown.params,
    });
  });

  it('the lock ends by itself (time-based back-off, doubling per lock-out); a success resets the back-off', async () => {
    clock.advance(LOCKOUT_BASE_MS - 1000);
    expect((await refusal(operators.authenticate('yamada', PASSWORD))).code).toBe('COUNTER_LOGIN_FAILED');
    clock.advance(1000);
    // lock over: five more tries, the second lock-out lasts twice as long
    for (let i = 0; i < MAX_FAILED_LOGINS; i++) await refusal(operators.authenticate('yamada', 'still-wrong-1'));
    const second = (await store.operators.byName('yamada'))!;
    expect(second.lockedUntil! - clock.now().getTime()).toBe(2 * LOCKOUT_BASE_MS);
    clock.advance(2 * LOCKOUT_BASE_MS);
    expect((await operators.authenticate('yamada', PASSWORD)).name).toBe('yamada');
    const reset = (await store.operators.byName('yamada'))!;
    expect(reset).toMatchObject({ failedLogins: 0, lockouts: 0, lockedUntil: null });
  });
});
