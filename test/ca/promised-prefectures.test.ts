/**
 * Issue 11, the first start within 5 s: `jpki serve` on an empty data directory makes the bridges, the agency
 * and the first prefecture's CA before its port opens, and promises the other prefectural CAs, which
 * `complete` makes while the service already serves. A request for a promised prefecture waits for its CA
 * (made next), two processes never make one CA twice, and a stopped completion is resumed — on both stores.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, openssl, opensslCsr, type TestInstallation } from '../support/installation.js';
import { CertificationAuthorities } from '../../src/ca/certification-authorities.js';
import { municipalityByCode } from '../../src/register/index.js';
import { PREFECTURES } from '../../src/pki/prefectures.js';
import { JpkiError } from '../../src/common/errors.js';
import type { FixedClock } from '../../src/common/clock.js';
import { translate } from '../../src/counter/messages.js';
import { issuerOf, openSecondServices, readOcspResponse, requestFor } from '../ocsp/support.js';
import { RELOAD_AFTER_MS } from '../../src/ocsp/issuers.js';

const kinds = await availableStoreKinds();
const P256 = { type: 'EC', curve: 'P-256' } as const;
/** The hierarchy these tests promise: Tokyo made at once, Hokkaido, Osaka and Okinawa later. */
const PROMISED = PREFECTURES.filter((p) => ['01', '13', '27', '47'].includes(p.code));

async function codeOf(p: Promise<unknown>): Promise<string | undefined> {
  try {
    await p;
    return undefined;
  } catch (e) {
    return (e as JpkiError).code;
  }
}

describe.each(kinds)('prefectural CAs promised at init and made while serving, on %s', (storeKind) => {
  let t: TestInstallation;

  /** Another process's CA module on the same store and key store (a second `jpki` process). */
  const otherProcess = (promisedCaWaitMs = 30_000) =>
    new CertificationAuthorities({ store: t.services.store, keys: t.services.keys, clock: t.clock, urls: t.services.urls, municipalities: { byCode: municipalityByCode }, promisedCaWaitMs });
  /** What the serve command runs after each CA: its first CRLs, and the OCSP responder told. */
  const publish = async (caId: string) => {
    await t.services.crlUpdater.publishCa(caId);
    await t.services.ocsp.issuersChanged();
  };
  const issueAuth = (prefecture: string) => {
    const { csr } = opensslCsr(t.dir, `k${prefecture}-${Math.random().toString(36).slice(2)}`, ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']);
    return t.services.ca.issue({ prefecture, kind: 'auth', publicKey: { csr: readFileSync(csr) }, actor: 'test' });
  };

  beforeEach(async () => {
    t = await createTestInstallation({ storeKind, initialize: false });
    const r = await t.services.ca.initialize({ keySpec: P256, prefectures: PROMISED, firstPrefectures: ['13'], actor: 'test' });
    expect(r).toMatchObject({ created: true, authorities: 4, crossCertificates: 6, pending: 3 });
  });
  afterEach(async () => t?.cleanup());

  it('init makes the bridges, the agency and Tokyo, records the promise, and a second init only reports it', async () => {
    expect((await t.services.ca.list()).map((a) => a.id)).toEqual(['jpki-bridge', 'gpki-bridge', 'agency-mic', 'pref-13']);
    expect(await t.services.ca.pendingPrefectures()).toEqual(['01', '27', '47']);
    expect(await t.services.ca.isInitialized()).toBe(true);
    const [init] = await t.services.store.audit.list({ action: 'ca.init' });
    expect(init!.details).toMatchObject({ authorities: 4, crossCertificates: 6, pending: 3 });
    expect(await t.services.ca.initialize({ keySpec: P256, actor: 'test' })).toMatchObject({ created: false, authorities: 4, pending: 3 });
  });

  it('a request for a promised CA that no process is making is told to try again; other prefectures keep their own errors', async () => {
    const ca = otherProcess(150);
    const started = Date.now();
    const err = await ca.forPrefecture('27').catch((e: unknown) => e as JpkiError);
    expect(err).toBeInstanceOf(JpkiError);
    expect((err as JpkiError).code).toBe('CA_NOT_READY');
    expect((err as JpkiError).kind).toBe('unavailable');
    expect((err as JpkiError).message).toContain('jpki init');
    expect(Date.now() - started).toBeGreaterThanOrEqual(150);
    // what the counter terminal shows for it, in its three languages
    expect(translate('CA_NOT_READY', { prefecture: '27' }, 'ja')).toContain('作成中');
    expect(translate('CA_NOT_READY', { prefecture: '27' }, 'en')).toContain('still being created');
    expect(translate('CA_NOT_READY', { prefecture: '27' }, 'ko')).toContain('생성 중');
    expect(await codeOf(ca.forPrefecture('02'))).toBe('CA_UNKNOWN'); // never promised
    expect(await codeOf(ca.forPrefecture('48'))).toBe('PREFECTURE_UNKNOWN');
    expect((await ca.forPrefecture('13')).id).toBe('pref-13');
    expect(await t.services.ca.pendingPrefectures()).toEqual(['01', '27', '47']);
  });

  it('complete makes each promised CA with both cross-certificates, its first CRLs and OCSP; a waiting request goes first', async () => {
    // the responder has loaded its issuers (Tokyo's and the others made at init) before the new CAs exist
    const tokyoLeaf = await issueAuth('13');
    const ocspStatus = async (caId: string, serial: string) =>
      readOcspResponse((await t.services.ocsp.responder.respond(requestFor(await issuerOf(t.services, caId), [serial]))).der).responses[0]?.status;
    expect(await ocspStatus('pref-13', tokyoLeaf.serial)).toBe('good');
    const order: string[] = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const completing = t.services.ca.complete({
      actor: 'test',
      lanes: 1,
      afterEach: async (caId) => {
        order.push(caId);
        await publish(caId);
        if (caId === 'pref-01') await gate; // Hokkaido is under way when Okinawa is asked for
      },
    });
    await new Promise((r) => setTimeout(r, 50));
    const okinawa = issueAuth('47');
    await new Promise((r) => setTimeout(r, 300));
    release();
    const leaf = await okinawa;
    expect(await completing).toEqual({ created: 3 });
    expect(order).toEqual(['pref-01', 'pref-47', 'pref-27']);
    expect(leaf.caId).toBe('pref-47');
    expect(await t.services.ca.pendingPrefectures()).toEqual([]);
    expect((await t.services.ca.list()).map((a) => a.id).sort()).toEqual(['agency-mic', 'gpki-bridge', 'jpki-bridge', 'pref-01', 'pref-13', 'pref-27', 'pref-47']);

    // both directions on the bridge edge, signed by the right keys; ledger confirmed, audit recorded
    const crosses = await t.services.store.certificates.list({ kind: 'cross' });
    expect(crosses).toHaveLength(12);
    const bridge = new X509Certificate((await t.services.ca.get('jpki-bridge')).certificate);
    for (const code of ['01', '27', '47']) {
      const pref = new X509Certificate((await t.services.ca.get(`pref-${code}`)).certificate);
      const down = crosses.find((x) => x.caId === 'jpki-bridge' && x.subjectCaId === `pref-${code}`)!;
      const up = crosses.find((x) => x.caId === `pref-${code}` && x.subjectCaId === 'jpki-bridge')!;
      expect(new X509Certificate(down.der).verify(bridge.publicKey)).toBe(true);
      expect(new X509Certificate(up.der).verify(pref.publicKey)).toBe(true);
      expect(new X509Certificate(down.der).publicKey.equals(pref.publicKey)).toBe(true);
      expect(pref.verify(pref.publicKey)).toBe(true);
      expect(new Date(down.notAfter).getTime()).toBeLessThanOrEqual(new Date(bridge.validTo).getTime());
      const scopes = (await t.services.store.crls.list(`pref-${code}`)).map((c) => c.scope).sort();
      expect(scopes).toEqual(['arl', 'delta', 'full']);
    }
    expect(await t.services.store.audit.list({ action: 'ca.complete' })).toHaveLength(3);
    expect((await t.services.ca.ledgerCounts()).reserved).toBe(0);

    // the agency validates a path to Okinawa's resident with explicit policy, through both bridges
    const cross = (i: string, s: string) => crosses.find((x) => x.caId === i && x.subjectCaId === s)!;
    const untrusted = join(t.dir, 'path-47.pem');
    writeFileSync(untrusted, [cross('agency-mic', 'gpki-bridge'), cross('gpki-bridge', 'jpki-bridge'), cross('jpki-bridge', 'pref-47')].map((x) => readFileSync(t.pem(`x-${x.serial}.pem`, x.der), 'utf8')).join(''));
    const agencyPem = t.pem('agency.pem', (await t.services.ca.get('agency-mic')).certificate);
    // an auth certificate carries the JPKI authentication policy, mapped onto the GPKI one: check the chain only
    const v = openssl(['verify', '-attime', String(Math.floor(t.clock.now().getTime() / 1000) + 3600), '-CAfile', agencyPem, '-untrusted', untrusted, t.pem('leaf-47.pem', leaf.der)]);
    expect(v.out).toContain(': OK');

    // the OCSP responder of this process answers for the new CA at once (not after a miss a minute later)
    expect(await ocspStatus('pref-47', leaf.serial)).toBe('good');
  });

  it("another process's OCSP responder answers for a CA made after it loaded its issuers within seconds", async () => {
    const other = await openSecondServices(t);
    try {
      const tokyoLeaf = await issueAuth('13');
      const status = async (s: typeof other, caId: string, serial: string) =>
        readOcspResponse((await s.ocsp.responder.respond(requestFor(await issuerOf(t.services, caId), [serial]))).der);
      expect((await status(other, 'pref-13', tokyoLeaf.serial)).responses[0]?.status).toBe('good'); // its issuers are loaded now
      await t.services.ca.complete({ actor: 'test', afterEach: publish });
      const leaf = await issueAuth('27');
      // at once the other process does not know the new CA yet (it was told nothing)…
      expect((await status(other, 'pref-27', leaf.serial)).status).toBe(6); // unauthorized (RFC 6960)
      // …and finds it on the first miss after RELOAD_AFTER_MS
      (t.clock as FixedClock).advance(RELOAD_AFTER_MS);
      expect((await status(other, 'pref-27', leaf.serial)).responses[0]?.status).toBe('good');
      expect(RELOAD_AFTER_MS).toBeLessThanOrEqual(5_000);
    } finally {
      await other.close();
    }
  });

  it('two processes completing at once make every CA exactly once', async () => {
    const other = otherProcess();
    const [a, b] = await Promise.all([t.services.ca.complete({ actor: 'test', afterEach: publish }), other.complete({ actor: 'other' })]);
    expect(a.created + b.created).toBe(3);
    expect(await t.services.ca.pendingPrefectures()).toEqual([]);
    const ids = (await t.services.ca.list()).map((x) => x.id);
    expect(ids).toHaveLength(7);
    expect(new Set(ids).size).toBe(7);
    expect(await t.services.store.certificates.list({ kind: 'cross' })).toHaveLength(12);
    expect(await t.services.store.audit.list({ action: 'ca.complete' })).toHaveLength(3);
    // a second completion finds nothing to do
    expect(await t.services.ca.complete({ actor: 'test' })).toEqual({ created: 0 });
  });

  it('a completion stopped after its first CA is resumed by the next one', async () => {
    const first = t.services.ca.complete({
      actor: 'test',
      lanes: 1,
      afterEach: async (caId) => {
        await publish(caId);
        void t.services.ca.stopCompleting();
      },
    });
    expect(await first).toEqual({ created: 1 });
    expect(await t.services.ca.pendingPrefectures()).toHaveLength(2);
    // a stopped CA module starts no completion any more (a server's stop may come before its completion began)
    expect(await t.services.ca.complete({ actor: 'test' })).toEqual({ created: 0 });
    expect(await t.services.ca.pendingPrefectures()).toHaveLength(2);
    // a new process (a restarted `jpki serve`) makes the rest
    const next = otherProcess();
    expect(await next.complete({ actor: 'test' })).toEqual({ created: 2 });
    expect(await t.services.ca.pendingPrefectures()).toEqual([]);
  });
});
