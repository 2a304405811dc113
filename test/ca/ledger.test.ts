/**
 * The CA's ledger (issue 10): reserve → sign → confirm / abandon. Nothing is signed whose serial, TBS hash
 * and purpose are not durably recorded first; the audit log records the signature itself; the sweeper
 * revokes what was signed and never confirmed, and closes what was never signed.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createHash, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { FixedClock } from '../../src/common/clock.js';
import { JpkiError } from '../../src/common/errors.js';
import { splitSigned } from '../../src/pki/signed.js';
import { readCertificate } from '../../src/pki/certificate-reader.js';
import { scanCrl } from '../../src/pki/crl-scanner.js';
import { DEFAULT_RESERVATION_MS, type CertificateReservation } from '../../src/ca/certification-authorities.js';
import { serialHex } from '../../src/ca/serial.js';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

const kinds = await availableStoreKinds();
const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
const AUTH = { prefecture: '13', kind: 'auth' as const, publicKey: { spki: key }, municipality: '13103', actor: 'test' };
const codeOf = (p: Promise<unknown>) => p.then(
  () => 'no error',
  (e: JpkiError) => e.code,
);
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe.each(kinds)('the CA ledger on %s', (storeKind) => {
  let t: TestInstallation;
  let clock: FixedClock;
  beforeAll(async () => {
    clock = new FixedClock('2026-04-01T01:00:00Z');
    t = await createTestInstallation({ storeKind, prefectures: ['13'], clock });
  });
  afterAll(async () => t?.cleanup());

  it('a reservation is durable before anything is signed: serial, TBS hash, purpose, deadline; no certificate yet', async () => {
    const r = await t.services.ca.reserve(AUTH);
    const entry = await t.services.store.ledger.get(r.ledgerId);
    expect(entry).toMatchObject({ caId: 'pref-13', kind: 'certificate', serial: r.serial, purpose: 'auth', tbsHash: r.tbsHash, state: 'reserved' });
    expect(entry!.deadline - entry!.reservedAt).toBe(DEFAULT_RESERVATION_MS);
    expect(await t.services.store.certificates.get('pref-13', r.serial)).toBeUndefined();
    expect(await t.services.store.audit.list({ action: 'certificate.reserve', target: `pref-13/${r.serial}` })).toHaveLength(1);
    await t.services.ca.abandon([r], 'test', 'not needed');
  });

  it('signs exactly the TBS reserved, records the certificate and its signature in the audit log before handing it out', async () => {
    const r = await t.services.ca.reserve(AUTH);
    const c = await t.services.ca.sign(r);
    const parts = splitSigned(c.der);
    expect(sha256(parts.tbs)).toBe(r.tbsHash);
    expect((await t.services.store.certificates.get('pref-13', c.serial))!.der.equals(c.der)).toBe(true);
    const [issued] = await t.services.store.audit.list({ action: 'certificate.issue', target: `pref-13/${c.serial}` });
    expect(issued!.details).toMatchObject({ state: 'signed', tbsHash: r.tbsHash, signature: Buffer.from(parts.signature).toString('base64') });
    // the recorded signature is the CA's over the recorded TBS
    const caKey = createPublicKey({ key: Buffer.from(readCertificate((await t.services.ca.get('pref-13')).certificate).subjectPublicKeyInfo), format: 'der', type: 'spki' });
    expect(verify('sha256', parts.tbs, caKey, Buffer.from(issued!.details.signature as string, 'base64'))).toBe(true);
    expect((await t.services.store.ledger.get(r.ledgerId))!.state).toBe('signed');
    await t.services.ca.confirm([c], { actor: 'test' });
    expect((await t.services.store.ledger.get(r.ledgerId))!.state).toBe('confirmed');
  });

  it('a reservation is single use, and only this CA\u2019s reservations can be signed', async () => {
    const r = await t.services.ca.reserve(AUTH);
    await t.services.ca.sign(r, { confirm: true });
    expect(await codeOf(t.services.ca.sign(r))).toBe('RESERVATION_UNKNOWN');
    const forged: CertificateReservation = { ...r, serial: '4'.repeat(32) };
    expect(await codeOf(t.services.ca.sign(forged))).toBe('RESERVATION_UNKNOWN');
  });

  it('the sweeper: a signed certificate never confirmed is revoked (the next CRL lists it); a reservation never signed is closed; a late confirmation is refused', async () => {
    const signed = await t.services.ca.sign(await t.services.ca.reserve(AUTH));
    const unsigned = await t.services.ca.reserve(AUTH);
    // before the deadline nothing happens
    expect(await t.services.ca.sweep()).toEqual({ revoked: [], abandoned: [] });
    clock.advance(DEFAULT_RESERVATION_MS + 1000);
    const report = await t.services.ca.sweep();
    expect(report.revoked).toEqual([{ caId: 'pref-13', serial: signed.serial }]);
    expect(report.abandoned).toContainEqual({ caId: 'pref-13', kind: 'certificate', serial: unsigned.serial });
    expect(await t.services.ca.status('pref-13', signed.serial)).toMatchObject({ reason: 5 });
    expect(await t.services.store.certificates.get('pref-13', unsigned.serial)).toBeUndefined();
    expect((await t.services.store.ledger.get(unsigned.ledgerId))!.state).toBe('abandoned');
    // a certificate of an abandoned reservation is never handed out (nor stored)
    expect(await codeOf(t.services.ca.sign(unsigned))).toBe('RESERVATION_EXPIRED');
    expect(await codeOf(t.services.ca.confirm([signed], { actor: 'test' }))).toBe('RESERVATION_EXPIRED');
    const crl = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    expect([...scanCrl(crl.der).entries()].map((e) => e.serialHex)).toContain(signed.serial);
  });

  it('CRLs go through the ledger too: number, scope and TBS hash recorded, the signature in the audit log', async () => {
    const crl = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    const entry = await t.services.store.ledger.find('pref-13', 'crl', String(crl.crlNumber));
    const parts = splitSigned(crl.der);
    expect(entry).toMatchObject({ purpose: 'crl:full', state: 'confirmed', tbsHash: sha256(parts.tbs) });
    const records = await t.services.store.audit.list({ action: 'crl.issue', target: 'pref-13/full' });
    expect(records.at(-1)!.details).toMatchObject({ crlNumber: crl.crlNumber, signature: Buffer.from(parts.signature).toString('base64') });
  });

  it('the hierarchy and the OCSP responder certificates were reserved before they were signed', async () => {
    const crosses = await t.services.ca.certificates({ kind: 'cross' });
    for (const x of crosses) expect((await t.services.store.ledger.find(x.caId, 'certificate', x.serial))!).toMatchObject({ purpose: 'cross', state: 'confirmed', tbsHash: sha256(splitSigned(x.der).tbs) });
    const tokyo = readCertificate((await t.services.ca.get('pref-13')).certificate);
    expect((await t.services.store.ledger.find('pref-13', 'certificate', serialHex(tokyo.serial)))!.purpose).toBe('ca');
    const responder = await t.services.ocspResponders.rotate('pref-13', 'test');
    expect((await t.services.store.ledger.find('pref-13', 'certificate', responder.serial))!).toMatchObject({ purpose: 'ocsp', state: 'confirmed', tbsHash: sha256(splitSigned(responder.certificate).tbs) });
  });
});
