import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCardSession } from '../../src/client/index.js';
import { FixedClock } from '../../src/common/clock.js';
import { DEMO_AGENCY_STAFF_PASSWORD } from '../../src/compose/agency.js';
import { buildApp } from '../../src/server/app.js';
import { freePort } from '../client/support.js';
import { AUTH_PIN, createCounterInstallation, issueOnto, SIGN_PIN, type CounterInstallation } from '../counter/support.js';
import { postgresAvailable, STORE_KINDS } from '../support/stores.js';
import { needs } from '../support/system.js';

/**
 * The agency site's API over HTTP, on SQLite and PostgreSQL (issue 9 B): a form becomes the document to sign,
 * 公的 一郎's card signs it (a card image, in process), the signed application is judged by the verifier —
 * through the agency CA, the bridges and the Tokyo CA, with OCSP from the server itself — and stored. Rejected
 * with their reasons: signed data that is not the form, content altered after signing, a certificate of
 * another name, the user-authentication key (policy), a revoked certificate, and no revocation source at
 * all (indeterminate). Bad bodies are JSON 4xx.
 */
const MOVING_OUT = { name: '公的 一郎', dateOfBirth: '1977-11-07', address: '東京都港区虎ノ門5丁目', newAddress: '大阪府大阪市北区中之島1丁目', movingDate: '2026-04-20' };
const staff = { authorization: `Basic ${Buffer.from(`staff:${DEMO_AGENCY_STAFF_PASSWORD}`).toString('base64')}` };

for (const kind of STORE_KINDS) {
  const run = kind === 'sqlite' || needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable());
  describe.runIf(run)(`the agency API on ${kind}`, { timeout: 120_000 }, () => {
    let t: CounterInstallation;
    let app: FastifyInstance;
    let port: number;
    let ichiroCard: string;
    let hanakoCard: string;
    let hanakoSerial: string;
    const clock = new FixedClock('2026-04-01T01:00:00Z');

    beforeAll(async () => {
      port = await freePort();
      t = await createCounterInstallation(kind, { clock, publicUrl: `http://127.0.0.1:${port}` });
      const op = await t.operator('clerk-minato', '13103');
      ichiroCard = await t.blankCard();
      await issueOnto(t, op, await t.addResident(), ichiroCard);
      hanakoCard = await t.blankCard();
      const hanako = await issueOnto(t, op, await t.addResident({ name: '公的 花子', dateOfBirth: '1980-02-29', sex: '2' }), hanakoCard);
      hanakoSerial = hanako.certificates.sign.serial;
      await t.services.crlUpdater.runOnce();
      app = await buildApp(t.services);
      // not listening yet: the first test finds neither the OCSP responder nor the CRLs
    }, 300_000);

    afterAll(async () => {
      await app?.close();
      await t?.cleanup();
    }, 60_000);

    const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      app.inject({ method: 'POST', url, headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify(body) });

    async function prepare(procedure: string, form: Record<string, unknown>): Promise<{ content: string; documentId: string; summary: string }> {
      const r = await post('/api/agency/documents', { procedure, form });
      expect(r.statusCode, r.body).toBe(201);
      return r.json();
    }

    async function sign(card: string, content: Buffer, key: 'sign' | 'auth' = 'sign'): Promise<{ signature: string; certificate: string }> {
      const s = await openCardSession({ type: 'image', path: card, dataDir: t.dir });
      try {
        const signed = await s.signDetached(key, content, key === 'sign' ? SIGN_PIN : AUTH_PIN, t.clock);
        return { signature: signed.signature.toString('base64'), certificate: signed.certificate.toString('base64') };
      } finally {
        await s.close();
      }
    }

    async function signedApplication(form: Record<string, unknown>, card = ichiroCard, key: 'sign' | 'auth' = 'sign') {
      const doc = await prepare('moving-out', form);
      return { procedure: 'moving-out', form, content: doc.content, ...(await sign(card, Buffer.from(doc.content, 'base64'), key)) };
    }

    function rejection(r: { statusCode: number; json: () => unknown; body: string }) {
      expect(r.statusCode, r.body).toBe(422);
      const body = r.json() as { error: string; message: string; params: { reference: string; verdict: string; reasons: string } };
      expect(body.error).toBe('AGENCY_APPLICATION_REJECTED');
      expect(body.params.reference).toMatch(/^\d{8}-\d{8}$/);
      return { ...body, reasons: body.params.reasons.split(',') };
    }

    it('indeterminate when neither the OCSP responder nor a CRL can be reached: rejected, kept', async () => {
      const r = rejection(await post('/api/agency/applications', await signedApplication(MOVING_OUT)));
      expect(r.params.verdict).toBe('indeterminate');
      expect(r.reasons).toContain('revocation-unavailable');
      await app.listen({ port, host: '127.0.0.1' });
      // the verifier remembers a failed fetch for 30 s: later, the responder answers
      clock.advance(31_000);
    });

    it('accepts 公的 一郎\u2019s signed 転出届 with a receipt number; the staff list shows the verified name and address', async () => {
      const application = await signedApplication(MOVING_OUT);
      const r = await post('/api/agency/applications', application);
      expect(r.statusCode, r.body).toBe(201);
      const receipt = r.json();
      expect(receipt).toMatchObject({ status: 'accepted', procedure: 'moving-out', title: '転出届', applicant: { name: '公的\u3000一郎', address: '東京都港区虎ノ門5丁目' } });
      expect(receipt.receiptNumber).toMatch(/^20260401-\d{8}$/);

      const list = await app.inject({ method: 'GET', url: '/api/agency/staff/applications', headers: staff });
      expect(list.statusCode).toBe(200);
      const mine = list.json().applications.find((a: { receiptNumber: string }) => a.receiptNumber === receipt.receiptNumber);
      expect(mine).toMatchObject({ status: 'accepted', verdict: 'valid', applicantName: '公的 一郎', verified: { name: '公的\u3000一郎', address: '東京都港区虎ノ門5丁目', dateOfBirthEra: '昭和52年11月7日' }, reasons: [] });
      expect(mine.path.length).toBeGreaterThanOrEqual(4);
      expect(mine.path[0].anchor).toBe(true);
      // the indeterminate one before it is listed as rejected
      expect(list.json().applications.some((a: { status: string; verdict: string }) => a.status === 'rejected' && a.verdict === 'indeterminate')).toBe(true);

      // the evidence as stored: the signature over exactly the signed bytes, the signer's certificate
      const p7s = await app.inject({ method: 'GET', url: `/api/agency/staff/applications/${receipt.receiptNumber}/signature.p7s`, headers: staff });
      expect(p7s.statusCode).toBe(200);
      expect(p7s.rawPayload.toString('base64')).toBe(application.signature);
      const detail = await app.inject({ method: 'GET', url: `/api/agency/staff/applications/${receipt.receiptNumber}`, headers: staff });
      expect(detail.json().form).toEqual(MOVING_OUT);

      // the same signed application again: refused
      const again = await post('/api/agency/applications', application);
      expect(again.statusCode).toBe(409);
      expect(again.json()).toMatchObject({ error: 'AGENCY_APPLICATION_DUPLICATE' });
    });

    it('accepts a 住民票の写しの請求 too; its form is checked by its own rules', async () => {
      const form = { name: '公的\u3000一郎', dateOfBirth: '1977-11-07', address: '東京都港区虎ノ門5丁目', scope: 'household', copies: 2, includeDomicile: false, purpose: '児童手当の申請のため' };
      const doc = await prepare('residence-certificate', form);
      expect(doc.summary).toBe('住民票の写しの請求: 公的\u3000一郎');
      const r = await post('/api/agency/applications', { procedure: 'residence-certificate', form, content: doc.content, ...(await sign(ichiroCard, Buffer.from(doc.content, 'base64'))) });
      expect(r.statusCode, r.body).toBe(201);
      expect(r.json()).toMatchObject({ status: 'accepted', title: '住民票の写しの請求' });
      const tooMany = await post('/api/agency/documents', { procedure: 'residence-certificate', form: { ...form, copies: 11 } });
      expect(tooMany.statusCode).toBe(400);
      expect(tooMany.json().message).toContain('copies');
    });

    it('rejects a form that differs from what was signed', async () => {
      const application = await signedApplication(MOVING_OUT);
      const r = rejection(await post('/api/agency/applications', { ...application, form: { ...MOVING_OUT, newAddress: '沖縄県那覇市泉崎1丁目' } }));
      expect(r.reasons).toEqual(['form-mismatch']);
      expect(r.params.verdict).toBe('valid');
    });

    it('rejects content altered after signing (the form altered to match)', async () => {
      const application = await signedApplication(MOVING_OUT);
      const altered = { ...MOVING_OUT, newAddress: '沖縄県那覇市泉崎1丁目' };
      const content = Buffer.from(application.content, 'base64').toString('utf8').replace(MOVING_OUT.newAddress, altered.newAddress);
      const r = rejection(await post('/api/agency/applications', { ...application, form: altered, content: Buffer.from(content).toString('base64') }));
      expect(r.params.verdict).toBe('invalid');
      expect(r.reasons).toEqual(['content-altered']);
    });

    it('rejects a certificate whose name is not the form\u2019s', async () => {
      const r = rejection(await post('/api/agency/applications', await signedApplication({ ...MOVING_OUT, name: '公的 二郎' })));
      expect(r.params.verdict).toBe('valid');
      expect(r.reasons).toEqual(['name-mismatch']);
      expect(r.message).toContain('公的\u3000一郎');
    });

    it('rejects a signature by the user-authentication key (not the signing policy)', async () => {
      const r = rejection(await post('/api/agency/applications', await signedApplication(MOVING_OUT, ichiroCard, 'auth')));
      expect(r.params.verdict).toBe('invalid');
      expect(r.reasons).toContain('policy');
    });

    it('rejects a revoked certificate, with the revocation', async () => {
      await t.services.ca.revoke({ serial: hanakoSerial, caId: 'pref-13', reason: 'keyCompromise', actor: 'test' });
      const r = rejection(await post('/api/agency/applications', await signedApplication({ ...MOVING_OUT, name: '公的 花子', dateOfBirth: '1980-02-29' }, hanakoCard)));
      expect(r.params.verdict).toBe('invalid');
      expect(r.reasons).toContain('revoked');
    });

    it('answers bad bodies with JSON 4xx and keeps the staff list behind the password', async () => {
      const bad: [string, unknown, number, string][] = [
        ['/api/agency/documents', { procedure: 'moving-out', form: { ...MOVING_OUT, dateOfBirth: '1977-02-30' } }, 400, 'AGENCY_REQUEST_INVALID'],
        ['/api/agency/documents', { procedure: 'moving-out', form: { ...MOVING_OUT, extra: 1 } }, 400, 'AGENCY_REQUEST_INVALID'],
        ['/api/agency/documents', { procedure: 'moving-out', form: { ...MOVING_OUT, newAddress: MOVING_OUT.address } }, 400, 'AGENCY_REQUEST_INVALID'],
        ['/api/agency/documents', { procedure: 'marriage', form: {} }, 404, 'AGENCY_PROCEDURE_UNKNOWN'],
        ['/api/agency/documents', [], 400, 'AGENCY_REQUEST_INVALID'],
        ['/api/agency/applications', { procedure: 'moving-out', form: MOVING_OUT, content: 'not base64!', signature: 'AAAA' }, 400, 'AGENCY_REQUEST_INVALID'],
        ['/api/agency/applications', { procedure: 'moving-out', form: MOVING_OUT }, 400, 'AGENCY_REQUEST_INVALID'],
      ];
      for (const [url, body, status, code] of bad) {
        const r = await post(url, body);
        expect(r.statusCode, `${url} ${JSON.stringify(body)}: ${r.body}`).toBe(status);
        expect(r.json()).toMatchObject({ error: code });
      }
      // well-formed base64 that is no CMS at all: judged and rejected, not a crash
      const junk = rejection(await post('/api/agency/applications', { procedure: 'moving-out', form: MOVING_OUT, content: 'AAAA', signature: 'AAAA' }));
      expect(junk.reasons).toEqual(expect.arrayContaining(['form-mismatch', 'malformed']));

      const noAuth = await app.inject({ method: 'GET', url: '/api/agency/staff/applications' });
      expect(noAuth.statusCode).toBe(401);
      expect(noAuth.headers['www-authenticate']).toMatch(/^Basic /);
      expect(noAuth.json()).toMatchObject({ error: 'AGENCY_STAFF_UNAUTHENTICATED' });
      const wrong = await app.inject({ method: 'GET', url: '/api/agency/staff/applications', headers: { authorization: `Basic ${Buffer.from('staff:guess').toString('base64')}` } });
      expect(wrong.statusCode).toBe(401);
      const unknown = await app.inject({ method: 'GET', url: '/api/agency/staff/applications/20260401-00000000', headers: staff });
      expect(unknown.statusCode).toBe(404);
      expect(unknown.json()).toMatchObject({ error: 'AGENCY_APPLICATION_NOT_FOUND' });
      const badNumber = await app.inject({ method: 'GET', url: '/api/agency/staff/applications/..%2F..', headers: staff });
      expect(badNumber.statusCode).toBe(400);
    });
  });
}
