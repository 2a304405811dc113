import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { availableStoreKinds } from '../support/stores.js';
import { openssl } from '../support/installation.js';
import type { Operator } from '../../src/counter/index.js';
import { cardSigns, createCounterInstallation, issueOnto, refusal, type CounterInstallation } from './support.js';

const kinds = await availableStoreKinds();

describe.each(kinds)('register changes revoke certificates automatically (%s)', (storeKind) => {
  let t: CounterInstallation;
  let clerk: Operator;

  beforeAll(async () => {
    t = await createCounterInstallation(storeKind);
    clerk = await t.operator('minato-clerk', '13103');
  });
  afterAll(async () => t?.cleanup());

  const serials = async (residentId: string) => {
    const all = await t.services.store.certificates.byResident(residentId);
    return Object.fromEntries(all.map((c) => [c.serial, { kind: c.kind, revoked: c.revokedAt !== null, reason: c.revocationReason }]));
  };

  /** openssl verify at a moment while the installation's CRL is current. */
  const attime = () => String(Math.floor(t.clock.now().getTime() / 1000) + 3600);

  it('a move revokes the signing certificate (affiliationChanged), which the next CRL lists; the authentication certificate survives', async () => {
    const r = await t.addResident();
    const issued = await issueOnto(t, clerk, r, await t.blankCard());
    const sign = issued.certificates.sign.serial;
    const auth = issued.certificates.auth.serial;

    const change = await t.services.counter.registerChanges.move('cli', r.id, { address: '東京都港区芝公園4丁目' });
    expect(change.event).toMatchObject({ type: 'move', moveScope: 'within-municipality', changedFacts: ['address'] });
    expect(change.revoked).toEqual([{ kind: 'sign', caId: 'pref-13', serial: sign, reason: 'affiliationChanged', reasonCode: 3 }]);
    expect(await serials(r.id)).toEqual({ [sign]: { kind: 'sign', revoked: true, reason: 3 }, [auth]: { kind: 'auth', revoked: false, reason: null } });
    // The register recorded the event; the CA, handling it, recorded what it revoked.
    const events = await t.services.register.events(r.id);
    const handled = await t.services.store.audit.list({ action: 'ca.register-event', target: `resident:${r.id}` });
    expect(handled.at(-1)!.details).toMatchObject({ event: events.at(-1)!.id, type: 'move', revoked: [`pref-13/${sign}`] });

    // The next CRL (full, and the municipality's partition) lists the signing certificate only.
    const caPem = t.pem('pref-13.pem', (await t.services.ca.get('pref-13')).certificate);
    for (const scope of [{ type: 'full' as const }, { type: 'partition' as const, municipality: '13103' }]) {
      const crl = await t.services.crls.generate('pref-13', scope, 'test');
      const crlPem = t.pem(`crl-${scope.type}.pem`, crl.der, 'X509 CRL');
      const text = openssl(['crl', '-in', crlPem, '-noout', '-text']).out;
      expect(text).toContain(`Serial Number: ${sign.toUpperCase()}`);
      expect(text).toMatch(new RegExp(`Serial Number: ${sign.toUpperCase()}\\s+Revocation Date: [^\\n]+\\n\\s+CRL entry extensions:\\s+X509v3 CRL Reason Code:\\s+Affiliation Changed`));
      expect(text.toUpperCase()).not.toContain(auth.toUpperCase());
      if (scope.type === 'full') {
        const signPem = t.pem('sign.pem', (await t.services.store.certificates.get('pref-13', sign))!.der);
        const authPem = t.pem('auth.pem', (await t.services.store.certificates.get('pref-13', auth))!.der);
        const revoked = openssl(['verify', '-attime', attime(), '-crl_check', '-CAfile', caPem, '-CRLfile', crlPem, signPem]);
        expect(revoked.status).not.toBe(0);
        expect(revoked.out).toContain('certificate revoked');
        const good = openssl(['verify', '-attime', attime(), '-crl_check', '-CAfile', caPem, '-CRLfile', crlPem, authPem]);
        expect(good.out).toContain(': OK');
        expect(good.status).toBe(0);
      }
    }
  });

  it('a name change revokes the signing certificate; death revokes both (cessationOfOperation)', async () => {
    const r = await t.addResident();
    const first = await issueOnto(t, clerk, r, await t.blankCard());
    const renamed = await t.services.counter.registerChanges.rename('cli', r.id, { name: '認証 一郎', reason: 'marriage' });
    expect(renamed.revoked.map((x) => [x.serial, x.reasonCode])).toEqual([[first.certificates.sign.serial, 3]]);
    expect(renamed.resident.name).toBe('認証\u3000一郎');

    const r2 = await t.addResident();
    const card = await t.blankCard();
    const second = await issueOnto(t, clerk, r2, card);
    const died = await t.services.counter.registerChanges.death('cli', r2.id, {});
    expect(died.revoked.map((x) => [x.kind, x.reasonCode]).sort()).toEqual([
      ['auth', 5],
      ['sign', 5],
    ]);
    expect(Object.values(await serials(r2.id)).every((c) => c.revoked)).toBe(true);
    expect(second.cardId).toBeTruthy();
  });

  it('a correction of a certified fact revokes the signing certificate; a correction that changes nothing is refused and revokes nothing', async () => {
    const r = await t.addResident();
    const issued = await issueOnto(t, clerk, r, await t.blankCard());
    expect((await refusal(t.services.counter.registerChanges.correct('cli', r.id, { sex: '1', reason: 'check' }))).code).toBe('RESIDENT_UNCHANGED');
    expect(Object.values(await serials(r.id)).some((c) => c.revoked)).toBe(false);
    const corrected = await t.services.counter.registerChanges.correct('cli', r.id, { nameSubstitute: '00100', reason: 'the kanji 一 is printed with a substitute' });
    expect(corrected.revoked.map((x) => x.serial)).toEqual([issued.certificates.sign.serial]);
  });

  it('a move to another prefecture: the new prefecture\u2019s counter serves the resident and its governor issues; the old counter is out of scope', async () => {
    const r = await t.addResident();
    await issueOnto(t, clerk, r, await t.blankCard());
    const moved = await t.services.counter.registerChanges.move('cli', r.id, { address: '大阪府大阪市中央区大手前2丁目', municipality: '27128' });
    expect(moved.event.moveScope).toBe('other-prefecture');
    expect(moved.resident).toMatchObject({ municipality: '27128', prefecture: '27', municipalityName: '大阪市中央区' });
    expect(moved.revoked.map((x) => x.kind)).toEqual(['sign']);

    expect((await refusal(issueOnto(t, clerk, moved.resident as never, await t.blankCard()))).code).toBe('COUNTER_OUT_OF_SCOPE');
    const osaka = await t.operator('osaka-chuo-clerk', '27128');
    const card = await t.blankCard();
    const again = await issueOnto(t, osaka, (await t.services.register.get(r.id))!, card);
    expect(again.certificates.sign.caId).toBe('pref-27');
    const { certificate } = await cardSigns(t, card, 'KOTEKI2004');
    expect(certificate.issuer).toContain('Osaka-fu');
    expect(certificate.subject).toContain('L=Osaka-shi Chuo-ku');
    // The auth certificate issued in Tokyo survived the move; the new issuance superseded it.
    expect(again.superseded.map((s) => s.kind)).toEqual(['auth']);
  });

  it('a register change is an event the CA handles: if the CA fails, the change stands and its revocations follow once the CA is back', async () => {
    const r = await t.addResident();
    await issueOnto(t, clerk, r, await t.blankCard());
    const ca = t.services.ca;
    const original = ca.revokeWithin.bind(ca);
    ca.revokeWithin = async () => {
      throw new Error('CA unreachable');
    };
    try {
      await expect(t.services.counter.registerChanges.move('cli', r.id, { address: '東京都港区芝1丁目' })).rejects.toThrow('CA unreachable');
    } finally {
      ca.revokeWithin = original;
    }
    // The register recorded the move (it is the source of the facts) …
    expect((await t.services.register.get(r.id)).address).toBe('東京都港区芝1丁目');
    expect(await t.services.register.events(r.id)).toHaveLength(2);
    expect(Object.values(await serials(r.id)).some((c) => c.revoked)).toBe(false);
    // … and the CA, following the register's events, revokes the signing certificate when it next runs.
    await t.services.registerEvents.settle();
    const after = Object.values(await serials(r.id));
    expect(after.find((c) => c.kind === 'sign')?.revoked).toBe(true);
    expect(after.find((c) => c.kind === 'auth')?.revoked).toBe(false);
  });


  it('through the counter only a supervisor of the resident\u2019s municipality records register changes', async () => {
    const r = await t.addResident();
    expect((await refusal(t.services.counter.registerChanges.move(clerk, r.id, { address: '東京都港区芝1丁目' }))).code).toBe('COUNTER_SUPERVISOR_ONLY');
    const elsewhere = await t.operator('naha-supervisor', '47201', 'supervisor');
    expect((await refusal(t.services.counter.registerChanges.move(elsewhere, r.id, { address: '東京都港区芝1丁目' }))).code).toBe('COUNTER_OUT_OF_SCOPE');
    const supervisor = await t.operator('minato-supervisor', '13103', 'supervisor');
    const done = await t.services.counter.registerChanges.move(supervisor, r.id, { address: '東京都港区芝1丁目' });
    expect(done.resident.address).toBe('東京都港区芝1丁目');
    const audit = await t.services.store.audit.list({ action: 'register.move', target: `resident:${r.id}` });
    expect(audit.at(-1)!.actor).toBe('operator:minato-supervisor');
  });
});
