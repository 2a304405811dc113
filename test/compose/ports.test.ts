/**
 * Least privilege between modules (issue 10): every module holds only its own tables and the narrow front
 * doors of others it declared (ca/ports.ts, counter/ports.ts, ocsp/ports.ts), at run time and not only in
 * the types; a register change reaches the CA as an event.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { openSecondServices } from '../ocsp/support.js';
import { cardIssuerFromMasterKey, FileCardStorage, SoftCard } from '../../src/card/index.js';
import { cardFabricationSecret, ISSUER_MASTER_KEY_FILE, JpkiClient, openInProcessReader } from '../../src/reader/index.js';
import { ocspStorageOf, openServices } from '../../src/compose/services.js';
import { scoped } from '../../src/store/index.js';

const REPOSITORIES = ['authorities', 'certificates', 'crls', 'settings', 'statusChanges', 'ocspResponses', 'ocspResponders', 'residents', 'operators', 'counterRecords', 'submissions', 'ledger', 'registerEventOutcomes', 'audit', 'sql', 'db'];

/** What a module's private field holds (the test looks inside on purpose: it is the point). */
const inner = (o: object, field: string) => (o as Record<string, unknown>)[field] as Record<string, unknown>;
const heldRepositories = (store: Record<string, unknown>) => REPOSITORIES.filter((r) => r in store);

describe('each module holds only its own ports', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'] });
  });
  afterAll(async () => t?.cleanup());

  it('the counter: its own tables, and only the CA and register methods it declared', async () => {
    const ctx = inner(t.services.counter, 'ctx');
    expect(heldRepositories(ctx.store as Record<string, unknown>).sort()).toEqual(['counterRecords', 'operators', 'submissions']);
    expect(Object.keys(ctx.ca as object).sort()).toEqual(['abandon', 'certificatesOf', 'confirm', 'findCertificate', 'get', 'liveOnCard', 'reserve', 'revokeAll', 'sign']);
    // no way to the CA's own transaction, its sweeper, or revocation inside a CA transaction
    for (const m of ['revokeWithin', 'sweep', 'initialize', 'signerFor', 'deps', 'store']) expect(ctx.ca).not.toHaveProperty(m);
    expect(ctx.register).not.toHaveProperty('deps');
    expect(Object.keys(ctx.registerEvents as object)).toEqual(['settle']);
    // a transaction of the counter's sees the counter's tables only
    const seen = await (ctx.store as { transaction<T>(fn: (tx: object) => Promise<T>): Promise<T> }).transaction(async (tx) => heldRepositories(tx as Record<string, unknown>));
    expect(seen.sort()).toEqual(['counterRecords', 'operators', 'submissions']);
  });

  it('the register, the CA and the CRL publisher: their own tables only', () => {
    expect(heldRepositories(inner(inner(t.services.register, 'deps'), 'store')).sort()).toEqual(['residents']);
    const caStore = inner(inner(t.services.ca, 'deps'), 'store');
    expect(heldRepositories(caStore).sort()).toEqual(['authorities', 'certificates', 'crls', 'ledger', 'ocspResponders', 'registerEventOutcomes', 'settings', 'statusChanges']);
    const crlDeps = inner(t.services.crls, 'deps');
    expect(heldRepositories(crlDeps.store as Record<string, unknown>).sort()).toEqual(['authorities', 'certificates', 'crls', 'ledger']);
    expect(Object.keys(crlDeps.authorities as object).sort()).toEqual(['get', 'signerFor']);
  });

  it('the OCSP side reads status and writes only its responses: nothing that revokes or issues', () => {
    const storage = ocspStorageOf(t.services.store);
    expect(Object.keys(storage).sort()).toEqual(['issuers', 'pruneChanges', 'responderInUse', 'responses', 'statuses']);
    expect(Object.keys(storage.issuers)).toEqual(['list']);
    expect(Object.keys(storage.statuses)).toEqual(['status']);
    expect(Object.keys(storage.responses).sort()).toEqual(['getChecked', 'presignCandidates', 'pruneExpired', 'putAll']);
    // the responder certificates reach the OCSP side as one method: the responder to sign with now
    const live = inner(inner(inner(t.services.ocsp.responder, 'deps'), 'stored'), 'deps');
    expect(live).toHaveProperty('storage');
    expect(heldRepositories(live.storage as Record<string, unknown>)).toEqual([]);
  });


  it('scoped() hands out exactly the named repositories, in and out of transactions', async () => {
    const s = scoped(t.services.store, ['residents', 'record']);
    expect(heldRepositories(s as unknown as Record<string, unknown>)).toEqual(['residents']);
    expect(s).not.toHaveProperty('sql');
    const inTx = await s.transaction(async (tx) => Object.keys(tx).sort());
    expect(inTx).toEqual(['record', 'residents']);
  });
});

describe('a register change is an event the CA handles (no call back into the counter)', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'] });
  });
  afterAll(async () => t?.cleanup());

  it('a death recorded in the register by another process is handled by the CA side here: both certificates revoked, once', async () => {
    const r = await t.services.register.add({ name: '公的 一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目', municipality: '13103' }, 'test');
    const key = (await import('node:crypto')).generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
    const sign = await t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { spki: key }, facts: t.services.register.facts(r), municipality: '13103', residentId: r.id, actor: 'test' });
    const auth = await t.services.ca.issue({ prefecture: '13', kind: 'auth', publicKey: { spki: key }, municipality: '13103', residentId: r.id, actor: 'test' });
    const other = await openSecondServices(t);
    try {
      const change = await other.register.death(r.id, {}, 'register-office');
      // nothing of the CA's was touched by the register
      expect((await t.services.ca.status('pref-13', sign.serial))?.revokedAt).toBeNull();
      const outcome = await t.services.registerEvents.settle(change.eventId);
      expect(outcome?.revoked.map((x) => x.serial).sort()).toEqual([sign.serial, auth.serial].sort());
      expect((await t.services.ca.status('pref-13', sign.serial))?.reason).toBe(5);
      // the other process handling the same event finds it handled: nothing twice
      expect((await other.registerEvents.settle(change.eventId))?.revoked).toHaveLength(2);
      expect(await t.services.store.audit.list({ action: 'certificate.revoke', target: `pref-13/${sign.serial}` })).toHaveLength(1);
      expect((await t.services.store.audit.list({ action: 'certificate.revoke', target: `pref-13/${sign.serial}` }))[0]!.actor).toBe('register-office');
    } finally {
      await other.close();
    }
  });
});

describe('the card issuer master key lives in the key store', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'] });
  });
  afterAll(async () => t?.cleanup());

  it('is sealed in the key store, never a plain file; a card made with it accepts the counter', async () => {
    const path = join(t.dir, 'card.img');
    const storage = await FileCardStorage.open(path, { lock: true });
    const card = await SoftCard.fabricate(storage, { fabricationSecret: cardFabricationSecret(t.dir, { create: true }), issuerKey: (id) => t.services.cardIssuer.cardKey(id) });
    await card.close();
    await storage.close();
    expect(existsSync(join(t.dir, ISSUER_MASTER_KEY_FILE))).toBe(false);
    const sealed = readFileSync(join(t.dir, 'keys', 'card-issuer.secret'), 'utf8');
    expect(JSON.parse(sealed)).toMatchObject({ format: 'jpki-soft-secret-v1', label: 'card-issuer', cipher: { name: 'aes-256-gcm' } });
    const reader = await openInProcessReader(path, { dataDir: t.dir });
    try {
      await new JpkiClient(reader).authenticateIssuer(t.services.cardIssuer);
    } finally {
      await reader.close();
    }
  });

  it('an installation that kept the master key as a file: imported once into the key store, the file deleted, old cards still accepted', async () => {
    const dir = join(t.dir, 'legacy');
    const master = Buffer.alloc(32, 0x7e);
    const path = join(t.dir, 'legacy.img');
    // a card made before the move, with the old file's key
    const storage = await FileCardStorage.open(path, { lock: true });
    const card = await SoftCard.fabricate(storage, { fabricationSecret: cardFabricationSecret(dir, { create: true }), issuerKey: (id) => cardIssuerFromMasterKey(master).cardKey(id) });
    await card.close();
    await storage.close();
    writeFileSync(join(dir, ISSUER_MASTER_KEY_FILE), `${master.toString('hex')}\n`, { mode: 0o600 });
    const s = await openServices({ dataDir: dir, databaseUrl: join(dir, 'jpki.sqlite'), databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } }, clock: t.clock });
    try {
      const reader = await openInProcessReader(path, { dataDir: dir });
      try {
        await new JpkiClient(reader).authenticateIssuer(s.cardIssuer);
      } finally {
        await reader.close();
      }
      expect(existsSync(join(dir, ISSUER_MASTER_KEY_FILE))).toBe(false);
      expect(readdirSync(join(dir, 'keys'))).toContain('card-issuer.secret');
      expect(readFileSync(join(dir, 'keys', 'card-issuer.secret'), 'utf8')).not.toContain(master.toString('hex'));
    } finally {
      await s.close();
    }
  });
});
