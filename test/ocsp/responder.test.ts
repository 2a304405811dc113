/**
 * The responder through its HTTP routes (app.inject), on SQLite and PostgreSQL: statuses, the issuer filter,
 * several certificates, nonces, GET, caching headers, malformed input, the change feed from another
 * process, the checked store, responder certificates and their rotation, pre-signing.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { randomBytes, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { ocspStorageOf } from '../../src/compose/services.js';
import { FixedClock } from '../../src/common/clock.js';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, openssl, type TestInstallation } from '../support/installation.js';
import { encodeCertId, encodeOcspRequest, createOcspService, statusResponse, OcspError, ENTRY_OVERHEAD, type ResponderCredentials } from '../../src/ocsp/index.js';
import { StatusChangeFeed } from '../../src/store/index.js';
import { StoreError } from '../../src/store/errors.js';
import { readCertificate, findExtension } from '../../src/pki/certificate-reader.js';
import { OID_EXT_EXTENDED_KEY_USAGE, OID_PKIX_OCSP_NOCHECK, OID_KP_OCSP_SIGNING } from '../../src/pki/oids.js';
import { keyIdentifierOf } from '../../src/pki/extensions.js';
import { OCSP_RESPONDER_RENEW_BEFORE_MS } from '../../src/ca/ocsp-responder-certificates.js';
import { issueLeaf, issuerOf, openSecondServices, readOcspResponse, requestFor, type IssuerKeys } from './support.js';

const kinds = await availableStoreKinds();
const MALFORMED = statusResponse('malformedRequest');
const UNAUTHORIZED = statusResponse('unauthorized');

describe.each(kinds)('OCSP responder on %s', (storeKind) => {
  let t: TestInstallation;
  let app: FastifyInstance;
  let tokyo: IssuerKeys;
  let osaka: IssuerKeys;
  // stands still at the real time, so OpenSSL (which checks against the wall clock) accepts the responses
  const clock = new FixedClock(Math.floor(Date.now() / 1000) * 1000);

  beforeAll(async () => {
    t = await createTestInstallation({ storeKind, prefectures: ['13', '27'], clock });
    app = await buildApp(t.services);
    tokyo = await issuerOf(t.services, 'pref-13');
    osaka = await issuerOf(t.services, 'pref-27');
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  const post = (payload: Buffer, headers: Record<string, string> = { 'content-type': 'application/ocsp-request' }) =>
    app.inject({ method: 'POST', url: '/ocsp', headers, payload });

  it('answers good, then revoked with time and reason once the certificate is revoked', async () => {
    const leaf = await issueLeaf(t.services, '13', '13101');
    const req = requestFor(tokyo, [leaf.serial]);
    const r1 = await post(req);
    expect(r1.statusCode).toBe(200);
    expect(r1.headers['content-type']).toBe('application/ocsp-response');
    const good = readOcspResponse(r1.rawPayload);
    expect(good.status).toBe(0);
    expect(good.responses).toMatchObject([{ serial: leaf.serial, status: 'good' }]);
    expect(good.responses[0]!.nextUpdate!.getTime() - good.responses[0]!.thisUpdate.getTime()).toBe(24 * 3600_000);
    // the second request is served from memory: the very same bytes
    expect((await post(req)).rawPayload.equals(r1.rawPayload)).toBe(true);

    await t.services.ca.revoke({ serial: leaf.serial, reason: 'keyCompromise', actor: 'test' });
    await t.services.ocsp.sync();
    const revoked = readOcspResponse((await post(req)).rawPayload);
    expect(revoked.responses).toMatchObject([{ serial: leaf.serial, status: 'revoked', reason: 1 }]);
    expect(revoked.responses[0]!.revokedAt!.getTime()).toBe(Math.floor(clock.now().getTime() / 1000) * 1000);
  });

  it('refuses a serial the CA never issued as unauthorized, and answers good once it is issued', async () => {
    const serial = `7a${randomBytes(15).toString('hex')}`;
    const req = requestFor(tokyo, [serial]);
    const refused = await post(req);
    expect(refused.statusCode).toBe(200);
    expect(refused.rawPayload.equals(UNAUTHORIZED)).toBe(true);
    expect(refused.headers['cache-control']).toBe('no-store');
    // an issuance (as the CA writes it: the certificate and its status change in one transaction)
    const template = await issueLeaf(t.services, '13');
    const row = (await t.services.store.certificates.get('pref-13', template.serial))!;
    await t.services.store.transaction(async (tx) => {
      await tx.certificates.insert({ ...row, serial });
      await tx.statusChanges.append({ caId: 'pref-13', serial, status: 'issued', crlPartition: null, at: clock.now().getTime() });
    });
    await t.services.ocsp.sync();
    expect(readOcspResponse((await post(req)).rawPayload).responses).toMatchObject([{ serial, status: 'good' }]);
  });

  it('answers unauthorized for an issuer that is not ours and for a hash it cannot compute', async () => {
    const foreign = { subject: Buffer.from('3011310f300d06035504030c06666f7265696e', 'hex'), spki: tokyo.spki };
    expect((await post(requestFor(foreign, ['05']))).rawPayload.equals(UNAUTHORIZED)).toBe(true);
    const md5ish = Buffer.from(encodeCertId('sha1', tokyo, '05'));
    md5ish[md5ish.indexOf(Buffer.from([0x2b, 0x0e, 0x03, 0x02, 0x1a])) + 4] = 0x1b;
    const r = await post(encodeOcspRequest([md5ish]));
    expect(r.statusCode).toBe(200);
    expect(r.rawPayload.equals(UNAUTHORIZED)).toBe(true);
  });

  it('answers several certificates in one request, in order, signed live and not cacheable', async () => {
    const a = await issueLeaf(t.services, '13');
    const b = await issueLeaf(t.services, '13');
    await t.services.ca.revoke({ serial: b.serial, caId: 'pref-13', reason: 'affiliationChanged', actor: 'test' });
    const r = await post(requestFor(tokyo, [a.serial, b.serial]));
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['etag']).toBeUndefined();
    expect(readOcspResponse(r.rawPayload).responses.map((x) => [x.serial, x.status, x.reason])).toEqual([
      [a.serial, 'good', undefined],
      [b.serial, 'revoked', 3],
    ]);
    // one serial never issued among them: refused whole, before anything is signed
    const unknown = `5a${randomBytes(15).toString('hex')}`;
    expect((await post(requestFor(tokyo, [a.serial, unknown]))).rawPayload.equals(UNAUTHORIZED)).toBe(true);
    // one delegated responder speaks for one CA: two issuers in one request are not answerable
    const c = await issueLeaf(t.services, '27');
    const mixed = encodeOcspRequest([encodeCertId('sha1', tokyo, a.serial), encodeCertId('sha1', osaka, c.serial)]);
    expect((await post(mixed)).rawPayload.equals(UNAUTHORIZED)).toBe(true);
  });

  it('signs a request with a nonce live, echoes the nonce, and marks the answer no-store', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const nonce = randomBytes(16);
    const r = await post(requestFor(tokyo, [leaf.serial], { nonce }));
    expect(r.headers['cache-control']).toBe('no-store');
    expect(r.headers['expires']).toBeUndefined();
    expect(r.headers['last-modified']).toBeUndefined();
    const read = readOcspResponse(r.rawPayload);
    expect(read.nonce!.subarray(2).equals(nonce)).toBe(true);
    expect(read.responses).toMatchObject([{ serial: leaf.serial, status: 'good' }]);
    // a second nonce gets a second signature
    const again = readOcspResponse((await post(requestFor(tokyo, [leaf.serial], { nonce: randomBytes(16) }))).rawPayload);
    expect(again.nonce!.equals(read.nonce!)).toBe(false);
  });

  it('answers SHA-256 CertIDs with the same CertID', async () => {
    const leaf = await issueLeaf(t.services, '27');
    const r = readOcspResponse((await post(requestFor(osaka, [leaf.serial], { hash: 'sha256' }))).rawPayload);
    expect(r.responses).toMatchObject([{ serial: leaf.serial, status: 'good', hashOid: '2.16.840.1.101.3.4.2.1' }]);
  });

  it('serves GET /ocsp/<base64> (URL-encoded, raw, base64url) with RFC 5019 caching headers, and 304 on a matching ETag', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const req = requestFor(tokyo, [leaf.serial]);
    const b64 = req.toString('base64');
    const first = await app.inject({ method: 'GET', url: `/ocsp/${encodeURIComponent(b64)}` });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('application/ocsp-response');
    expect(first.headers['cache-control']).toBe('max-age=300, public, no-transform, must-revalidate');
    const read = readOcspResponse(first.rawPayload);
    expect(first.headers['last-modified']).toBe(read.responses[0]!.thisUpdate.toUTCString());
    expect(first.headers['expires']).toBe(read.responses[0]!.nextUpdate!.toUTCString());
    expect(first.headers['etag']).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    for (const url of [`/ocsp/${b64}`, `/ocsp/${req.toString('base64url')}`]) {
      const r = await app.inject({ method: 'GET', url });
      expect(r.statusCode).toBe(200);
      expect(r.rawPayload.equals(first.rawPayload)).toBe(true);
    }
    const cached = await app.inject({ method: 'GET', url: `/ocsp/${encodeURIComponent(b64)}`, headers: { 'if-none-match': first.headers['etag'] as string } });
    expect(cached.statusCode).toBe(304);
    expect(cached.rawPayload.length).toBe(0);
    // POST answers carry the same headers
    expect((await post(req)).headers['etag']).toBe(first.headers['etag']);
  });

  it.each([
    ['an empty POST', () => post(Buffer.alloc(0))],
    ['text under a text content type', () => post(Buffer.from('status of my certificate please'), { 'content-type': 'text/plain' })],
    ['JSON under the JSON content type', () => post(Buffer.from('{"serial":"05"}'), { 'content-type': 'application/json' })],
    ['a body without a content type', () => app.inject({ method: 'POST', url: '/ocsp', payload: Buffer.from([0x30, 0x03, 0x02, 0x01]) })],
    ['a body over 64 KiB', () => post(Buffer.alloc(70_000, 0x30))],
    ['a truncated request', () => post(requestFor(osaka, ['05']).subarray(0, 30))],
    ['GET /ocsp/ with nothing', () => app.inject({ method: 'GET', url: '/ocsp/' })],
    ['GET with text that is not base64', () => app.inject({ method: 'GET', url: '/ocsp/not*base64' })],
    ['GET with base64 of garbage', () => app.inject({ method: 'GET', url: `/ocsp/${Buffer.from('garbage!').toString('base64')}` })],
  ])('answers %s with malformedRequest (HTTP 200), not an error page', async (_name, send) => {
    const r = await send();
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/ocsp-response');
    expect(r.rawPayload.equals(MALFORMED)).toBe(true);
  });

  it('rejects a URL with a broken percent-escape at the HTTP layer with a plain 400, never a 500', async () => {
    // fastify refuses such a path before any route runs (FST_ERR_BAD_URL); the OCSP route never sees it
    const r = await app.inject({ method: 'GET', url: '/ocsp/%E0%A4%A' });
    expect(r.statusCode).toBe(400);
    expect(r.body).not.toMatch(/\n\s+at /);
  });

  it('carries a delegated responder certificate issued by the CA (OCSPSigning, nocheck) that OpenSSL accepts', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const r = readOcspResponse((await post(requestFor(tokyo, [leaf.serial]))).rawPayload);
    expect(r.certificates).toHaveLength(1);
    const responder = r.certificates[0]!;
    const view = readCertificate(responder);
    expect(Buffer.from(view.issuer).equals(tokyo.subject)).toBe(true);
    expect(new X509Certificate(responder).verify(new X509Certificate((await t.services.ca.get('pref-13')).certificate).publicKey)).toBe(true);
    expect(findExtension(view, OID_PKIX_OCSP_NOCHECK)).toBeDefined();
    expect(Buffer.from(findExtension(view, OID_EXT_EXTENDED_KEY_USAGE)!.value).toString('hex')).toContain('06082b06010505070309');
    expect(OID_KP_OCSP_SIGNING).toBe('1.3.6.1.5.5.7.3.9');
    expect(view.notAfter.getTime() - view.notBefore.getTime()).toBe(30 * 24 * 3600_000);
    expect(r.responderKeyHash!.equals(keyIdentifierOf(view.subjectPublicKeyInfo))).toBe(true);
    // the whole chain of trust as a relying party checks it
    const ca = t.pem('tokyo.pem', (await t.services.ca.get('pref-13')).certificate);
    const leafPem = t.pem('leaf-openssl.pem', leaf.der);
    const der = (await post(requestFor(tokyo, [leaf.serial]))).rawPayload;
    writeFileSync(join(t.dir, 'resp.der'), der);
    const v = openssl(['ocsp', '-respin', join(t.dir, 'resp.der'), '-issuer', ca, '-cert', leafPem, '-CAfile', ca, '-no_nonce']);
    expect(v.out).toContain('Response verify OK');
    expect(v.out).toContain(`${leafPem}: good`);
    // it is stored as a certificate of kind 'ocsp', with an audit record
    expect((await t.services.store.certificates.list({ caId: 'pref-13', kind: 'ocsp' })).length).toBeGreaterThanOrEqual(1);
    expect((await t.services.store.audit.list({ action: 'ocsp.responder.issue' })).length).toBeGreaterThanOrEqual(1);
  });

  it('learns of a revocation made by another process (its own store connection) within a second', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const req = requestFor(tokyo, [leaf.serial]);
    expect(readOcspResponse((await post(req)).rawPayload).responses[0]!.status).toBe('good');
    const other = await openSecondServices(t);
    try {
      await other.ca.revoke({ serial: leaf.serial, reason: 'cessationOfOperation', actor: 'other' });
      let status = 'good';
      for (let i = 0; i < 40 && status === 'good'; i++) {
        await new Promise((r) => setTimeout(r, 50));
        status = readOcspResponse((await post(req)).rawPayload).responses[0]!.status;
      }
      expect(status).toBe('revoked');
    } finally {
      await other.close();
    }
  });

  it('never serves a stored "good" for a certificate revoked while nobody was listening (checked store)', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const req = requestFor(tokyo, [leaf.serial]);
    expect(readOcspResponse((await post(req)).rawPayload).responses[0]!.status).toBe('good');
    await t.services.ocsp.close(); // writes the signed response to the store
    expect((await t.services.store.ocspResponses.get('pref-13', leaf.serial, 'sha1'))?.certStatus).toBe('good');
    // a revocation that reaches no feed (as if the feed had been pruned before this node came back)
    await t.services.store.db.execute('UPDATE certificates SET revoked_at = ?, revocation_reason = 1 WHERE ca_id = ? AND serial = ?', [clock.now().getTime(), 'pref-13', leaf.serial]);
    const fresh = await openSecondServices(t);
    const app2 = await buildApp(fresh);
    try {
      const r = readOcspResponse((await app2.inject({ method: 'POST', url: '/ocsp', payload: req, headers: { 'content-type': 'application/ocsp-request' } })).rawPayload);
      expect(r.responses[0]!.status).toBe('revoked');
    } finally {
      await app2.close();
      await fresh.close();
    }
  });

  it('re-signs a response once half its validity has passed, and renews the responder certificate before it expires', async () => {
    const leaf = await issueLeaf(t.services, '27');
    const req = requestFor(osaka, [leaf.serial]);
    const first = readOcspResponse((await post(req)).rawPayload);
    clock.advance(11 * 3600_000);
    expect(readOcspResponse((await post(req)).rawPayload).producedAt).toEqual(first.producedAt);
    clock.advance(2 * 3600_000);
    const refreshed = readOcspResponse((await post(req)).rawPayload);
    expect(refreshed.producedAt!.getTime()).toBe(first.producedAt!.getTime() + 13 * 3600_000);
    expect(refreshed.certificates[0]!.equals(first.certificates[0]!)).toBe(true);
    // 24 days on, fewer than 7 of the responder certificate's 30 remain: a new one signs
    const oldNotAfter = readCertificate(first.certificates[0]!).notAfter.getTime();
    clock.set(oldNotAfter - OCSP_RESPONDER_RENEW_BEFORE_MS + 1000);
    const renewed = readOcspResponse((await post(req)).rawPayload);
    expect(renewed.certificates[0]!.equals(first.certificates[0]!)).toBe(false);
    expect(readCertificate(renewed.certificates[0]!).notAfter.getTime()).toBeGreaterThan(oldNotAfter);
    // responses never outlive the responder certificate that signed them
    expect(renewed.responses[0]!.nextUpdate!.getTime()).toBeLessThanOrEqual(readCertificate(renewed.certificates[0]!).notAfter.getTime());
    expect((await t.services.store.ocspResponders.list('pref-27')).length).toBe(2);
    clock.set(first.producedAt!.getTime());
  });
});

describe.each(kinds)('OCSP pre-signing and failures on %s', (storeKind) => {
  let t: TestInstallation;
  const clock = new FixedClock(Math.floor(Date.now() / 1000) * 1000);

  beforeAll(async () => {
    t = await createTestInstallation({ storeKind, prefectures: ['13'], clock });
  });
  afterAll(async () => t?.cleanup());

  it('pre-signs every unexpired certificate once, and the responder then serves the stored responses', async () => {
    const leaves = [await issueLeaf(t.services, '13'), await issueLeaf(t.services, '13'), await issueLeaf(t.services, '13')];
    await t.services.ca.revoke({ serial: leaves[2]!.serial, reason: 'superseded', actor: 'test' });
    const crosses = (await t.services.store.certificates.list({ kind: 'cross' })).length;
    const report = await t.services.ocsp.presign();
    expect(report.signed).toBe(3 + crosses);
    expect((await t.services.ocsp.presign()).signed).toBe(0); // nothing left to do
    const stored = await t.services.store.ocspResponses.get('pref-13', leaves[2]!.serial, 'sha1');
    expect(stored?.certStatus).toBe('revoked');
    const app = await buildApp(t.services);
    try {
      const tokyo = await issuerOf(t.services, 'pref-13');
      const r = await app.inject({ method: 'POST', url: '/ocsp', payload: requestFor(tokyo, [leaves[2]!.serial]), headers: { 'content-type': 'application/ocsp-request' } });
      expect(r.rawPayload.equals(stored!.der)).toBe(true);
    } finally {
      await app.close();
    }
  });

  it('the background job renews responder certificates in use, pre-signs in "all" mode, and prunes the feed', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const before = (await t.services.store.ocspResponders.latest('pref-13'))!;
    const updater = t.services.ocsp.startUpdater({ presign: 'all', intervalMs: 3600_000, changeRetentionMs: 60_000 });
    await updater.runOnce(); // the first pass started by startUpdater may still be running: this one waits for it
    expect((await t.services.store.ocspResponses.get('pref-13', leaf.serial, 'sha1'))?.certStatus).toBe('good');
    // two days later: the responses are past their refresh point, the changes past retention
    clock.advance(48 * 3600_000);
    const report = (await updater.runOnce())!;
    expect(report.presigned).toBeGreaterThanOrEqual(4);
    expect(report.prunedChanges).toBeGreaterThan(0);
    expect(await t.services.store.statusChanges.lastId()).toBe(0); // every change was older than the retention
    // 25 days on, the responder certificate in use has fewer than 7 days left: the job replaces it
    clock.set(before.notAfter - OCSP_RESPONDER_RENEW_BEFORE_MS + 60_000);
    expect((await updater.runOnce())!.responders).toBeGreaterThanOrEqual(1);
    expect((await t.services.store.ocspResponders.latest('pref-13'))!.serial).not.toBe(before.serial);
    await updater.stop();
  });

  it('a flood of serials the CA never issued costs no signature and no memory; the budget counts cached responses at their real size (issue 10, hole 3)', async () => {
    const tokyo = await issuerOf(t.services, 'pref-13');
    let signatures = 0;
    const counting: ResponderCredentials = {
      current: async (caId) => {
        const r = await t.services.ocspResponders.current(caId);
        const signer = Object.assign(Object.create(r.signer) as typeof r.signer, { sign: (d: Uint8Array) => (signatures++, r.signer.sign(d)) });
        return { ...r, signer };
      },
    };
    const feed = new StatusChangeFeed(t.services.store.db, t.services.store.statusChanges);
    const ocsp = createOcspService({ storage: ocspStorageOf(t.services.store), clock, responders: counting, feed });
    const stored = await t.services.store.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM ocsp_responses');
    for (let i = 0; i < 300; i++) {
      const serial = `${(0x10 + (i % 0x60)).toString(16)}${randomBytes(15).toString('hex')}`;
      const nonce = i % 3 === 0 ? { nonce: randomBytes(16) } : {};
      expect((await ocsp.responder.respond(requestFor(tokyo, [serial], nonce))).der.equals(UNAUTHORIZED)).toBe(true);
    }
    expect(signatures).toBe(0);
    expect(ocsp.memory()).toMatchObject({ entries: 0, responseBytes: 0, budgetBytes: 0 });
    expect(await t.services.store.db.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM ocsp_responses')).toEqual(stored);

    // a certificate the CA did issue: one signature, kept, counted with its CertID, keys and headers
    const leaf = await issueLeaf(t.services, '13');
    const der = (await ocsp.responder.respond(requestFor(tokyo, [leaf.serial]))).der;
    expect(readOcspResponse(der).responses).toMatchObject([{ serial: leaf.serial, status: 'good' }]);
    expect(signatures).toBe(1);
    const m = ocsp.memory();
    expect(m).toMatchObject({ entries: 1, responseBytes: der.length });
    const certIdBytes = encodeCertId('sha1', tokyo, leaf.serial).length;
    expect(m.budgetBytes).toBeGreaterThanOrEqual(der.length + 2 * certIdBytes + ENTRY_OVERHEAD);
    await ocsp.close();
    feed.stop();
  });

  it('answers internalError without detail when signing fails, tryLater when the store is unavailable', async () => {
    const errors: unknown[] = [];
    const leaf = await issueLeaf(t.services, '13');
    const tokyo = await issuerOf(t.services, 'pref-13');
    const broken: ResponderCredentials = { current: async () => Promise.reject(new Error('the HSM caught fire')) };
    const feed = new StatusChangeFeed(t.services.store.db, t.services.store.statusChanges);
    const ocsp = createOcspService({ storage: ocspStorageOf(t.services.store), clock, responders: broken, feed, onError: (e) => errors.push(e) });
    const r = await ocsp.responder.respond(requestFor(tokyo, [leaf.serial], { nonce: randomBytes(8) }));
    expect(r.der.equals(statusResponse('internalError'))).toBe(true);
    expect(r.der.toString('latin1')).not.toContain('fire');
    expect(errors).toHaveLength(1);
    const down: ResponderCredentials = { current: async () => Promise.reject(new StoreError('DATABASE_UNAVAILABLE', 'unavailable', 'down')) };
    const ocsp2 = createOcspService({ storage: ocspStorageOf(t.services.store), clock, responders: down, feed });
    expect((await ocsp2.responder.respond(requestFor(tokyo, [`6a${randomBytes(15).toString('hex')}`]))).der.equals(statusResponse('tryLater'))).toBe(true);
    expect(new OcspError('OCSP_UNAUTHORIZED', 'x').kind).toBe('forbidden');
    await ocsp.close();
    await ocsp2.close();
    feed.stop();
  });
});
