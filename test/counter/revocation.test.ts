import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { availableStoreKinds } from '../support/stores.js';
import { openssl } from '../support/installation.js';
import { JpkiError } from '../../src/common/errors.js';
import { COUNTER_REASON_CRL, type Operator } from '../../src/counter/index.js';
import { createCounterInstallation, form, issueOnto, key, PASSPORT, type CounterInstallation } from './support.js';

const kinds = await availableStoreKinds();

describe('revocation reasons of the counter map to CRL reason codes (profile §1.5)', () => {
  it('lost, stolen and misuse are key compromise; broken and unneeded end the use', () => {
    expect(COUNTER_REASON_CRL).toEqual({ lost: 'keyCompromise', stolen: 'keyCompromise', misuse: 'keyCompromise', broken: 'cessationOfOperation', unneeded: 'cessationOfOperation' });
  });
});

describe.each(kinds)('revocation at the counter (%s)', (storeKind) => {
  let t: CounterInstallation;
  let clerk: Operator;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind);
    clerk = await t.operator('minato-desk', '13103');
  });
  afterAll(async () => t?.cleanup());

  it('revokes both certificates of a lost card as keyCompromise and hands out a numbered notice of acceptance', async () => {
    const r = await t.addResident();
    const issued = await issueOnto(t, clerk, r, await t.blankCard());
    const { result } = await t.services.counter.revocation.revoke(clerk, { residentId: r.id, form: form(r), identity: PASSPORT, reason: 'lost' }, key());
    expect(result.revoked.map((x) => [x.kind, x.reasonCode]).sort()).toEqual([
      ['auth', 1],
      ['sign', 1],
    ]);
    expect(result.notice.number).toMatch(/^N-13103-2026-\d{6}$/);
    expect(result.notice.content).toMatchObject({ title: '電子証明書失効申請等受理通知書', reason: 'lost', crlReason: 'keyCompromise', cardTakenBack: false, cards: [issued.cardId] });
    expect(result.application).toMatchObject({ kind: 'revocation', status: 'completed' });
    expect(await t.services.counter.document(clerk, result.notice.number, 'notice')).toEqual(result.notice);
    const crl = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], crl.der).out;
    expect(text).toContain(`Serial Number: ${issued.certificates.sign.serial.toUpperCase()}`);
    expect(text).toContain('Key Compromise');
  });

  it('revokes only what is asked, records the card taken back, and refuses when nothing is left to revoke', async () => {
    const r = await t.addResident();
    await issueOnto(t, clerk, r, await t.blankCard());
    const { result } = await t.services.counter.revocation.revoke(
      clerk,
      { residentId: r.id, form: form(r), identity: PASSPORT, reason: 'broken', cardTakenBack: true, certificates: ['sign'] },
      key(),
    );
    expect(result.revoked.map((x) => [x.kind, x.reason])).toEqual([['sign', 'cessationOfOperation']]);
    expect(result.notice.content).toMatchObject({ cardTakenBack: true });
    const e = await t.services.counter.revocation
      .revoke(clerk, { residentId: r.id, form: form(r), identity: PASSPORT, reason: 'unneeded', certificates: ['sign'] }, key())
      .catch((x: unknown) => x as JpkiError);
    expect(e).toMatchObject({ code: 'COUNTER_NOTHING_TO_REVOKE' });
    const apps = await t.services.store.counterRecords.applicationsOf(r.id);
    expect(apps.filter((a) => a.kind === 'revocation')).toHaveLength(1);
  });

  it('one key, one revocation and one notice', async () => {
    const r = await t.addResident();
    await issueOnto(t, clerk, r, await t.blankCard());
    const k = key();
    const input = { residentId: r.id, form: form(r), identity: PASSPORT, reason: 'stolen' as const };
    const a = await t.services.counter.revocation.revoke(clerk, input, k);
    const b = await t.services.counter.revocation.revoke(clerk, input, k);
    expect(b).toEqual({ result: a.result, replayed: true });
    expect((await t.services.store.counterRecords.applicationsOf(r.id)).filter((x) => x.kind === 'revocation')).toHaveLength(1);
  });
});
