import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { availableStoreKinds } from '../support/stores.js';
import { PinBlockedError, PinIncorrectError } from '../../src/reader/index.js';
import type { Operator } from '../../src/counter/index.js';
import type { Resident } from '../../src/register/index.js';
import { AUTH_PIN, cardSigns, createCounterInstallation, form, issueOnto, key, onCard, PASSPORT, SIGN_PIN, type CounterInstallation, refusal } from './support.js';

const kinds = await availableStoreKinds();

describe.each(kinds)('PIN services at the counter (%s)', (storeKind) => {
  let t: CounterInstallation;
  let clerk: Operator;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind);
    clerk = await t.operator('minato-pins', '13103');
  });
  afterAll(async () => t?.cleanup());

  async function residentWithCard(): Promise<{ r: Resident; card: string }> {
    const r = await t.addResident();
    const card = await t.blankCard();
    await issueOnto(t, clerk, r, card);
    return { r, card };
  }

  const request = (r: Resident, card: string, extra: Record<string, unknown>) =>
    ({ residentId: r.id, form: form(r), identity: PASSPORT, device: { uri: `file:${card}` }, ...extra }) as never;

  it('five wrong signing passwords lock the card; the lock release at the counter sets a new one and the card signs again', async () => {
    const { r, card } = await residentWithCard();
    await onCard(t, card, async (client) => {
      for (const left of [4, 3, 2, 1]) {
        const e = await client.verifyPin('sign', 'WRONG123').catch((x: unknown) => x);
        expect(e).toBeInstanceOf(PinIncorrectError);
        expect((e as PinIncorrectError).triesLeft).toBe(left);
      }
      const fifth = await client.verifyPin('sign', 'WRONG123').catch((x: unknown) => x);
      expect(fifth).toBeInstanceOf(PinBlockedError);
      // Now even the right password is refused.
      expect(await client.verifyPin('sign', SIGN_PIN).catch((x: unknown) => x)).toBeInstanceOf(PinBlockedError);
      expect((await client.pinStatus('sign')).blocked).toBe(true);
    });

    const released = (await t.services.counter.pins.unlock(clerk, request(r, card, { pin: 'sign', newPin: 'UNLOCK2026' }), key())).result;
    expect(released.status).toEqual({ triesLeft: 5, maxTries: 5, blocked: false });
    expect(released.notice.number).toMatch(/^N-13103-2026-\d{6}$/);
    expect(released.notice.content).toMatchObject({ service: 'pin-unlock', pin: 'sign', title: 'パスワードロック解除申請受付通知書' });
    expect(released.application).toMatchObject({ kind: 'pin-unlock', status: 'completed', identity: { type: 'passport', number: '*****4567' } });
    expect((await cardSigns(t, card, 'UNLOCK2026')).verified).toBe(true);
    const audit = await t.services.store.audit.list({ action: 'counter.pin-unlock', target: `application:${released.application.number}` });
    expect(audit[0]!.actor).toBe('operator:minato-pins');
  });

  it('refuses a lock release for a PIN that is not locked, storing nothing', async () => {
    const { r, card } = await residentWithCard();
    const before = (await t.services.store.audit.list()).length;
    const e = await refusal(t.services.counter.pins.unlock(clerk, request(r, card, { pin: 'sign', newPin: 'UNLOCK2026' }), key()));
    expect(e).toMatchObject({ code: 'COUNTER_PIN_NOT_LOCKED', params: { pin: 'sign' } });
    expect((await t.services.store.audit.list()).length).toBe(before);
    expect((await cardSigns(t, card, SIGN_PIN)).verified).toBe(true);
  });

  it('initialises a forgotten PIN: the new one works, the old one does not', async () => {
    const { r, card } = await residentWithCard();
    const done = (await t.services.counter.pins.reset(clerk, request(r, card, { pin: 'auth', newPin: '2468' }), key())).result;
    expect(done).toMatchObject({ pin: 'auth', status: { triesLeft: 3, blocked: false }, application: { kind: 'pin-reset' } });
    await onCard(t, card, async (client) => {
      expect(await client.verifyPin('auth', AUTH_PIN).catch((x: unknown) => x)).toBeInstanceOf(PinIncorrectError);
      await client.verifyPin('auth', '2468');
    });
  });

  it('also releases a locked user-authentication PIN (three wrong entries)', async () => {
    const { r, card } = await residentWithCard();
    await onCard(t, card, async (client) => {
      for (let i = 0; i < 3; i++) await client.verifyPin('auth', '0000').catch(() => undefined);
      expect((await client.pinStatus('auth')).blocked).toBe(true);
    });
    await t.services.counter.pins.unlock(clerk, request(r, card, { pin: 'auth', newPin: '9753' }), key());
    await onCard(t, card, (client) => client.verifyPin('auth', '9753'));
  });

  it('changes a PIN at the device only with the current one; a wrong current PIN costs a try and records nothing', async () => {
    const { r, card } = await residentWithCard();
    const before = (await t.services.store.counterRecords.applicationsOf(r.id)).length;
    const wrong = await refusal(t.services.counter.pins.change(clerk, request(r, card, { pin: 'sign', currentPin: 'NOTMINE1', newPin: 'CHANGED22' }), key()));
    expect(wrong).toMatchObject({ code: 'COUNTER_PIN_INCORRECT', kind: 'conflict', params: { pin: 'sign', triesLeft: 4 } });
    expect((await t.services.store.counterRecords.applicationsOf(r.id)).length).toBe(before);
    const done = (await t.services.counter.pins.change(clerk, request(r, card, { pin: 'sign', currentPin: SIGN_PIN, newPin: 'changed22' }), key())).result;
    expect(done.status.triesLeft).toBe(5);
    expect((await cardSigns(t, card, 'CHANGED22')).verified).toBe(true);
  });

  it("serves only the resident's own card", async () => {
    const { r } = await residentWithCard();
    const blank = await t.blankCard();
    expect((await refusal(t.services.counter.pins.reset(clerk, request(r, blank, { pin: 'sign', newPin: 'RESET2026' }), key()))).code).toBe('COUNTER_CARD_NOT_RESIDENTS');
    const other = await residentWithCard();
    expect((await refusal(t.services.counter.pins.reset(clerk, request(r, other.card, { pin: 'sign', newPin: 'RESET2026' }), key()))).code).toBe('COUNTER_CARD_OF_ANOTHER_RESIDENT');
    expect((await cardSigns(t, other.card, SIGN_PIN)).verified).toBe(true);
  });

  it('is idempotent: one key, one initialisation, one notice', async () => {
    const { r, card } = await residentWithCard();
    const k = key();
    const a = await t.services.counter.pins.reset(clerk, request(r, card, { pin: 'sign', newPin: 'ONCE2026' }), k);
    const b = await t.services.counter.pins.reset(clerk, request(r, card, { pin: 'sign', newPin: 'ONCE2026' }), k);
    expect(b.replayed).toBe(true);
    expect(b.result).toEqual(a.result);
    expect((await t.services.store.counterRecords.applicationsOf(r.id)).filter((x) => x.kind === 'pin-reset')).toHaveLength(1);
  });
});
