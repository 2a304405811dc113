import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { X509Certificate } from 'node:crypto';
import { availableStoreKinds } from '../support/stores.js';
import { createCounter, type Operator, type DeviceFactory } from '../../src/counter/index.js';
import { deviceFactory } from '../../src/counter/index.js';
import { ReaderError, type Reader } from '../../src/reader/index.js';
import { scoped } from '../../src/store/index.js';
import { decodeResidentFactsSan } from '../../src/pki/resident-facts.js';
import { fingerprint } from '../../src/pki/signed.js';
import { findExtension, readCertificate } from '../../src/pki/certificate-reader.js';
import { OID_EXT_SUBJECT_ALT_NAME } from '../../src/pki/oids.js';
import { JpkiError } from '../../src/common/errors.js';
import { AUTH_PIN, cardSigns, createCounterInstallation, form, issueOnto, key, onCard, PASSPORT, SIGN_PIN, refusal, type CounterInstallation } from './support.js';

const kinds = await availableStoreKinds();

describe.each(kinds)('new issuance at the counter (%s)', (storeKind) => {
  let t: CounterInstallation;
  let clerk: Operator;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind);
    clerk = await t.operator('minato-1', '13103');
  });
  afterAll(async () => t?.cleanup());

  it('writes both certificates and the CA certificates onto a blank card, stores them with the receipt, and the card signs', async () => {
    const r = await t.addResident();
    const card = await t.blankCard();
    const result = await issueOnto(t, clerk, r, card);

    expect(result.application).toMatchObject({ kind: 'issuance', status: 'completed', step: 'done', fee: 500, operator: 'minato-1' });
    expect(result.receipt).toMatchObject({ type: 'receipt', amount: 500, applicationNumber: result.application.number, municipality: '13103' });
    expect(result.receipt.number).toMatch(/^R-13103-2026-\d{6}$/);
    expect(result.application.number).toMatch(/^A-13103-2026-\d{6}$/);

    const stored = await t.services.store.certificates.byResident(r.id);
    expect(stored.map((c) => c.kind).sort()).toEqual(['auth', 'sign']);
    for (const c of stored) expect(c).toMatchObject({ caId: 'pref-13', cardId: result.cardId, crlPartition: '13103', revokedAt: null });

    // The card: the signing key signs, under the certificate the CA issued for it.
    const { verified, certificate } = await cardSigns(t, card, SIGN_PIN);
    expect(verified).toBe(true);
    expect(certificate.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(result.certificates.sign.serial);
    expect(certificate.subject).toContain('L=Tokyo-to');
    expect(certificate.subject).toContain('L=Minato-ku');
    const san = decodeResidentFactsSan(findExtension(readCertificate(certificate.raw), OID_EXT_SUBJECT_ALT_NAME)!.value);
    expect(san).toMatchObject({ name: '公的\u3000一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' });
    const caCert = (await t.services.ca.get('pref-13')).certificate;
    await onCard(t, card, async (client) => {
      expect((await client.readCertificate('sign-ca'))!.equals(caCert)).toBe(true);
      expect((await client.readCertificate('auth-ca'))!.equals(caCert)).toBe(true);
      const auth = new X509Certificate((await client.readCertificate('auth'))!);
      expect(auth.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(result.certificates.auth.serial);
      expect(auth.subjectAltName).toBeUndefined();
      await client.verifyPin('auth', AUTH_PIN);
    });

    const audit = await t.services.store.audit.list({ action: 'counter.issuance.complete', target: `application:${result.application.number}` });
    expect(audit).toHaveLength(1);
    expect(audit[0]!.actor).toBe('operator:minato-1');
    expect(await t.services.store.audit.verify()).toMatchObject({ ok: true });
  });

  it('hands over a certificate copy with era dates and a usage guide with the fingerprints of the prefectural and bridge CAs', async () => {
    const r = await t.addResident();
    const result = await issueOnto(t, clerk, r, await t.blankCard());
    const copy = await t.services.counter.issuance.certificateCopy(clerk, result.application.number);
    expect(copy.sign.facts).toMatchObject({ name: '公的\u3000一郎', dateOfBirthJa: '昭和52年11月7日', dateOfBirthCode: '319771107', sex: '1', sexJa: '男', address: '東京都港区虎ノ門5丁目' });
    expect(copy.sign.issuer).toBe('東京都知事');
    expect(copy.sign.notBeforeJa).toBe('令和8年4月1日');
    expect(copy.sign.notAfterJa).toBe('令和11年3月31日');
    expect(copy.sign.pem).toContain('BEGIN CERTIFICATE');
    expect(copy.auth.facts).toBeUndefined();
    expect(copy.receiptNumber).toBe(result.receipt.number);

    const guide = await t.services.counter.issuance.usageGuide(clerk, result.application.number);
    const pref = await t.services.ca.get('pref-13');
    const bridge = await t.services.ca.get('jpki-bridge');
    expect(guide.prefecturalCa).toMatchObject({ id: 'pref-13', name: '東京都知事', sha1: fingerprint(pref.certificate, 'sha1'), sha256: fingerprint(pref.certificate, 'sha256') });
    expect(guide.bridgeCa).toMatchObject({ id: 'jpki-bridge', sha1: fingerprint(bridge.certificate, 'sha1'), sha256: fingerprint(bridge.certificate, 'sha256') });
    expect(guide.pinRules.sign.maxTries).toBe(5);
  });

  it('supersedes the earlier certificates on a second issuance: one card, one live signing certificate', async () => {
    const r = await t.addResident();
    const card = await t.blankCard();
    const first = await issueOnto(t, clerk, r, card);
    const second = await issueOnto(t, clerk, r, card, { signPin: 'SECOND99', authPin: '5150' });
    expect(second.superseded.map((s) => s.serial).sort()).toEqual([first.certificates.sign.serial, first.certificates.auth.serial].sort());
    const all = await t.services.store.certificates.byResident(r.id);
    const live = all.filter((c) => c.revokedAt === null);
    expect(live.map((c) => c.serial).sort()).toEqual([second.certificates.sign.serial, second.certificates.auth.serial].sort());
    expect(all.filter((c) => c.revokedAt !== null).every((c) => c.revocationReason === 4)).toBe(true); // superseded
    expect((await cardSigns(t, card, 'SECOND99')).verified).toBe(true);
  });

  it('is idempotent: the same key twice is one application, one issuance, one receipt and one fee', async () => {
    const r = await t.addResident();
    const card = await t.blankCard();
    const { issuance } = t.services.counter;
    const k = key();
    const a1 = await issuance.open(clerk, { residentId: r.id, form: form(r) }, k);
    const a2 = await issuance.open(clerk, { residentId: r.id, form: form(r) }, k);
    expect(a2.replayed).toBe(true);
    expect(a2.result).toEqual(a1.result);
    const number = a1.result.number;
    const ki = key();
    await issuance.identity(clerk, number, PASSPORT, ki);
    expect((await issuance.identity(clerk, number, PASSPORT, ki)).replayed).toBe(true);
    await issuance.fee(clerk, number, { amount: 500 }, key());

    // A double click: two device submissions with one key at the same time, then a retry.
    const kd = key();
    const step = { device: { uri: `file:${card}` }, signPin: SIGN_PIN, authPin: AUTH_PIN };
    const settled = await Promise.allSettled([issuance.device(clerk, number, step, kd), issuance.device(clerk, number, step, kd)]);
    const done = settled.filter((s) => s.status === 'fulfilled').map((s) => (s as PromiseFulfilledResult<Awaited<ReturnType<typeof issuance.device>>>).value);
    expect(done.length).toBeGreaterThanOrEqual(1);
    for (const s of settled) if (s.status === 'rejected') expect((s.reason as JpkiError).code).toBe('COUNTER_SUBMISSION_IN_PROGRESS');
    const retry = await issuance.device(clerk, number, step, kd);
    expect(retry.replayed).toBe(true);
    expect(retry.result).toEqual(done[0]!.result);

    expect(await t.services.store.certificates.byResident(r.id)).toHaveLength(2);
    const app = (await t.services.store.counterRecords.application(number))!;
    const papers = await t.services.store.counterRecords.documentsOf([app.id]);
    expect(papers).toHaveLength(1);
    expect(papers[0]!.amount).toBe(500);
    // A key is for one request only.
    expect((await refusal(issuance.fee(clerk, number, { amount: 500 }, ki))).code).toBe('COUNTER_IDEMPOTENCY_KEY_REUSED');
    // A new key after completion: the application is closed, nothing more happens.
    expect((await refusal(issuance.device(clerk, number, step, key()))).code).toBe('COUNTER_APPLICATION_CLOSED');
    expect(await t.services.store.certificates.byResident(r.id)).toHaveLength(2);
  });

  it('revokes what the CA signed, stores nothing of the counter\u2019s and leaves no certificate on the card when writing the card fails after signing', async () => {
    const r = await t.addResident();
    const card = await t.blankCard();
    const real = deviceFactory({ dataDir: t.dir });
    let failNextWrite = true;
    // A reader that loses the card at the third UPDATE BINARY (the card pulled out mid-write).
    const failing: DeviceFactory = (uri) => ({
      uri,
      async connect(): Promise<Reader> {
        const reader = await real(uri).connect();
        let writes = 0;
        return {
          name: reader.name,
          atr: reader.atr,
          reset: () => reader.reset(),
          isCardPresent: () => reader.isCardPresent(),
          close: () => reader.close(),
          async transmit(apdu) {
            if (apdu[0] === 0x80 && apdu[1] === 0xd6 && ++writes === 3 && failNextWrite) throw new ReaderError('transmit', 'the card was removed');
            return reader.transmit(apdu);
          },
        };
      },
    });
    const s = t.services;
    const counter = createCounter({
      store: scoped(s.store, ['counterRecords', 'operators', 'submissions', 'record']),
      clock: s.clock,
      ca: s.ca,
      register: s.register,
      registerEvents: s.registerEvents,
      devices: failing,
      cardIssuer: s.cardIssuer,
      publicUrl: s.publicUrl,
    });
    const app = (await counter.issuance.open(clerk, { residentId: r.id, form: form(r) }, key())).result;
    await counter.issuance.identity(clerk, app.number, PASSPORT, key());
    await counter.issuance.fee(clerk, app.number, { amount: 500 }, key());
    const certsBefore = (await s.store.certificates.list()).length;
    const step = { device: { uri: `file:${card}` }, signPin: SIGN_PIN, authPin: AUTH_PIN };

    const e = await refusal(counter.issuance.device(clerk, app.number, step, key()));
    expect(e.code).toBe('COUNTER_ISSUANCE_ABORTED');
    expect(e.params).toMatchObject({ step: 'certificate-writing', cause: 'reader.transmit' });
    // Record, then sign: the two certificates the CA signed before the card failed are in the store, and
    // revoked, since one of them may have reached the card; nothing of the counter's is stored.
    const signed = (await s.store.certificates.list()).slice(certsBefore);
    expect(signed.map((c) => c.kind).sort()).toEqual(['auth', 'sign']);
    expect(signed.every((c) => c.revokedAt !== null && c.revocationReason === 5)).toBe(true);
    for (const c of signed) expect(await s.store.audit.list({ action: 'ledger.abandon', target: `${c.caId}/${c.serial}` })).toHaveLength(1);
    const stored = (await s.store.counterRecords.application(app.number))!;
    expect(stored).toMatchObject({ status: 'open', step: 'device', deviceLeaseUntil: null });
    expect(await s.store.counterRecords.documentsOf([stored.id])).toHaveLength(0);
    await onCard(t, card, async (client) => {
      for (const f of ['sign-ca', 'auth', 'auth-ca'] as const) expect(await client.readCertificate(f)).toBeNull();
    });

    // The card back in: the same application completes.
    failNextWrite = false;
    const done = (await counter.issuance.device(clerk, app.number, step, key())).result;
    expect(done.application.status).toBe('completed');
    expect((await cardSigns(t, card, SIGN_PIN)).verified).toBe(true);
  });

  it('refuses, precisely and storing nothing: steps out of order, a wrong fee, a form that differs from the register, weak PINs', async () => {
    const r = await t.addResident();
    const { issuance } = t.services.counter;
    expect((await refusal(issuance.open(clerk, { residentId: r.id, form: { ...form(r), dateOfBirth: '1977-11-08' } }, key()))).params).toMatchObject({ field: 'dateOfBirth' });
    const app = (await issuance.open(clerk, { residentId: r.id, form: { ...form(r), name: '公的\u3000\u3000一郎' } }, key())).result;
    const card = await t.blankCard();
    const step = { device: { uri: `file:${card}` }, signPin: SIGN_PIN, authPin: AUTH_PIN };
    expect((await refusal(issuance.device(clerk, app.number, step, key()))).code).toBe('COUNTER_STEP_OUT_OF_ORDER');
    expect((await refusal(issuance.fee(clerk, app.number, { amount: 500 }, key()))).code).toBe('COUNTER_STEP_OUT_OF_ORDER');
    expect((await refusal(issuance.identity(clerk, app.number, { type: 'library-card', number: 'X' } as never, key()))).params).toMatchObject({ field: 'type' });
    await issuance.identity(clerk, app.number, { type: 'driving-licence', number: '123456789012' }, key());
    const fee = await refusal(issuance.fee(clerk, app.number, { amount: 300 }, key()));
    expect(fee).toMatchObject({ code: 'COUNTER_FEE_INCORRECT', params: { expected: 500, given: 300 } });
    await issuance.fee(clerk, app.number, { amount: 500 }, key());
    expect((await refusal(issuance.device(clerk, app.number, { ...step, signPin: 'abc' }, key()))).params).toMatchObject({ field: 'signPin', problem: 'pin-format' });
    expect((await refusal(issuance.device(clerk, app.number, { ...step, authPin: '1107' }, key()))).code).toBe('COUNTER_PIN_GUESSABLE');
    expect((await refusal(issuance.device(clerk, app.number, { ...step, authPin: '7777' }, key()))).code).toBe('COUNTER_PIN_GUESSABLE');
    expect((await refusal(issuance.device(clerk, app.number, { ...step, device: { uri: `file:${t.dir}/no-such.card` } }, key()))).code).toBe('COUNTER_DEVICE_NO_CARD');
    expect(await t.services.store.certificates.byResident(r.id)).toHaveLength(0);
    // A lower-case signing password is taken upper-cased, as client software does.
    await issuance.device(clerk, app.number, { ...step, signPin: 'koteki2004' }, key());
    expect((await cardSigns(t, card, SIGN_PIN)).verified).toBe(true);
  });

  it('refuses a card that holds live certificates of another resident', async () => {
    const a = await t.addResident();
    const b = await t.addResident({ name: '公的 花子', dateOfBirth: '1979-04-01', sex: '2' });
    const card = await t.blankCard();
    await issueOnto(t, clerk, a, card);
    const e = await refusal(issueOnto(t, clerk, b, card));
    expect(e.code).toBe('COUNTER_CARD_OF_ANOTHER_RESIDENT');
    expect(await t.services.store.certificates.byResident(b.id)).toHaveLength(0);
    expect((await cardSigns(t, card, SIGN_PIN)).verified).toBe(true);
  });

  it("refuses an operator of another municipality and audits the attempt", async () => {
    const r = await t.addResident();
    const osaka = await t.operator('osaka-1', '27128');
    const e = await refusal(t.services.counter.issuance.open(osaka, { residentId: r.id, form: form(r) }, key()));
    expect(e).toMatchObject({ code: 'COUNTER_OUT_OF_SCOPE', kind: 'forbidden', params: { municipality: '13103', operatorMunicipality: '27128' } });
    const audit = await t.services.store.audit.list({ action: 'counter.refused', target: `resident:${r.id}` });
    expect(audit.at(-1)).toMatchObject({ actor: 'operator:osaka-1', details: { reason: 'out-of-scope' } });
  });

  it('cancels an open application; a cancelled one takes no further step', async () => {
    const r = await t.addResident();
    const { issuance } = t.services.counter;
    const app = (await issuance.open(clerk, { residentId: r.id, form: form(r) }, key())).result;
    expect((await issuance.cancel(clerk, app.number, key())).result.status).toBe('cancelled');
    expect((await refusal(issuance.identity(clerk, app.number, PASSPORT, key()))).code).toBe('COUNTER_APPLICATION_CLOSED');
  });
});
