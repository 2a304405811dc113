import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { FixedClock } from '../../src/common/clock.js';
import { CounterOperators, type Operator } from '../../src/counter/index.js';
import type { Store } from '../../src/store/index.js';
import { availableStoreKinds, disposeTestStore, openTestStore } from '../support/stores.js';
import { refusal } from './support.js';

const kinds = await availableStoreKinds();
const PASSWORD = 'counter-pass-77';

/**
 * A supervisor manages the staff of their own counter (issue 11): lock an account until it is unlocked, make
 * a clerk a supervisor and back, set a new password. Never for another municipality (audited), never
 * against themselves.
 */
describe.each(kinds)('operator management by a supervisor (%s)', (storeKind) => {
  let store: Store;
  const clock = new FixedClock('2026-04-01T01:00:00Z');
  let operators: CounterOperators;
  let boss: Operator;
  let kiyoseBoss: Operator;

  beforeAll(async () => {
    store = (await openTestStore(storeKind, { clock }))!;
    operators = new CounterOperators({ store, clock });
    for (const [name, municipality, role] of [
      ['boss', '13103', 'supervisor'],
      ['clerk-a', '13103', 'clerk'],
      ['kiyose-boss', '13221', 'supervisor'],
    ] as const)
      await operators.add({ name, municipality, role, password: PASSWORD }, 'test');
    boss = await operators.authenticate('boss', PASSWORD);
    kiyoseBoss = await operators.authenticate('kiyose-boss', PASSWORD);
  });
  afterAll(async () => disposeTestStore(store));

  it('a lock refuses logins and ends the open sessions until a supervisor unlocks it', async () => {
    const session = await operators.login('clerk-a', PASSWORD);
    const locked = await operators.lock('clerk-a', 'operator:boss', boss);
    expect(locked).toMatchObject({ suspended: true });
    await expect(operators.resume(session.token)).rejects.toMatchObject({ code: 'COUNTER_SESSION_REQUIRED' });
    await expect(operators.authenticate('clerk-a', PASSWORD)).rejects.toMatchObject({ code: 'COUNTER_LOGIN_FAILED' });
    await expect(operators.lock('clerk-a', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_OPERATOR_ALREADY_LOCKED' });
    // it does not end by itself
    clock.advance(24 * 3600_000);
    await expect(operators.authenticate('clerk-a', PASSWORD)).rejects.toMatchObject({ code: 'COUNTER_LOGIN_FAILED' });
    expect(await operators.unlock('clerk-a', 'operator:boss', boss)).toMatchObject({ suspended: false, locked: false });
    expect((await operators.authenticate('clerk-a', PASSWORD)).name).toBe('clerk-a');
    await expect(operators.unlock('clerk-a', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_OPERATOR_NOT_LOCKED' });
    const audit = (await store.audit.list({ actor: 'operator:boss' })).map((e) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['counter.operator.lock', 'counter.operator.unlock']));
  });

  it('sets roles and passwords; a new password ends the sessions and clears a lock-out', async () => {
    expect(await operators.setRole('clerk-a', 'supervisor', 'operator:boss', boss)).toMatchObject({ role: 'supervisor' });
    expect(await operators.setRole('clerk-a', 'clerk', 'operator:boss', boss)).toMatchObject({ role: 'clerk' });
    await expect(operators.setRole('clerk-a', 'admin' as 'clerk', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_REQUEST_INVALID' });
    const session = await operators.login('clerk-a', PASSWORD);
    await expect(operators.resetPassword('clerk-a', 'short', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_PASSWORD_TOO_WEAK' });
    await operators.resetPassword('clerk-a', 'new-pass-2024', 'operator:boss', boss);
    await expect(operators.resume(session.token)).rejects.toMatchObject({ code: 'COUNTER_SESSION_REQUIRED' });
    await expect(operators.authenticate('clerk-a', PASSWORD)).rejects.toMatchObject({ code: 'COUNTER_LOGIN_FAILED' });
    expect((await operators.authenticate('clerk-a', 'new-pass-2024')).name).toBe('clerk-a');
  });

  it('refuses a supervisor\u2019s own lock or demotion', async () => {
    await expect(operators.lock('boss', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_OPERATOR_SELF' });
    await expect(operators.setRole('boss', 'clerk', 'operator:boss', boss)).rejects.toMatchObject({ code: 'COUNTER_OPERATOR_SELF' });
  });

  it('refuses every action on another municipality\u2019s operator, audited, changing nothing', async () => {
    const before = (await store.audit.list({ action: 'counter.refused', actor: 'operator:kiyose-boss' })).length;
    for (const attempt of [
      () => operators.lock('clerk-a', 'operator:kiyose-boss', kiyoseBoss),
      () => operators.unlock('clerk-a', 'operator:kiyose-boss', kiyoseBoss),
      () => operators.setRole('clerk-a', 'supervisor', 'operator:kiyose-boss', kiyoseBoss),
      () => operators.resetPassword('clerk-a', 'taken-over-2024', 'operator:kiyose-boss', kiyoseBoss),
    ])
      expect(await refusal(attempt())).toMatchObject({ code: 'COUNTER_OUT_OF_SCOPE' });
    expect((await store.audit.list({ action: 'counter.refused', actor: 'operator:kiyose-boss' })).length).toBe(before + 4);
    const clerk = (await operators.list('13103')).find((o) => o.name === 'clerk-a')!;
    expect(clerk).toMatchObject({ role: 'clerk', suspended: false });
    expect((await operators.authenticate('clerk-a', 'new-pass-2024')).name).toBe('clerk-a');
  });
});
