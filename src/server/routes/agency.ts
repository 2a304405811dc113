import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Agency } from '../../agency/index.js';
import { JpkiError } from '../../common/errors.js';
import type { ErrorBody } from '../errors.js';
import { parseRequest } from './parse.js';

/**
 * The sample agency's API (docs/agency.md): the page's configuration, the document to sign for a form, the
 * signed application, and — behind the staff password (HTTP Basic) — the applications received with their
 * verification reports and the evidence (signature, certificate, signed bytes). Bodies are checked with zod;
 * errors go through the app's one handler; a rejected application is a 422 in the same JSON shape.
 */
export interface AgencyRoutesOptions {
  agency: Agency;
  /** The residents' local client agent the pages talk to. */
  agentUrl: string;
  /** The staff page's password (user name `staff`). */
  staffPassword: string;
}

const base64 = (max: number) => z.string().min(4).max(max).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
const procedureId = z.string().min(1).max(40).regex(/^[a-z-]+$/);
const DocumentBody = z.object({ procedure: procedureId, form: z.record(z.string(), z.unknown()) }).strict();
const ApplicationBody = z
  .object({ procedure: procedureId, form: z.record(z.string(), z.unknown()), content: base64(128 * 1024), signature: base64(96 * 1024), certificate: base64(16 * 1024).optional() })
  .strict();
const ListQuery = z.object({ status: z.enum(['accepted', 'rejected']).optional(), limit: z.coerce.number().int().min(1).max(200).optional(), before: z.coerce.number().int().min(1).optional(), lang: z.string().max(8).optional() }).strict();
const ReceiptParams = z.object({ receipt: z.string().regex(/^\d{8}-\d{8}$/, 'a receipt number YYYYMMDD-NNNNNNNN') }).strict();

const parse = <T>(schema: z.ZodType<T>, value: unknown): T => parseRequest(schema, value, 'AGENCY_REQUEST_INVALID');

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();

/** HTTP Basic `staff:<password>`, compared in constant time. */
function staffGuard(password: string) {
  const expected = digest(`staff:${password}`);
  return async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const m = /^Basic ([A-Za-z0-9+/=]{1,1024})$/.exec(request.headers.authorization ?? '');
    const given = m ? digest(Buffer.from(m[1]!, 'base64').toString('utf8')) : undefined;
    if (given && timingSafeEqual(given, expected)) return;
    await reply
      .status(401)
      .header('www-authenticate', 'Basic realm="JPKI agency staff", charset="UTF-8"')
      .header('cache-control', 'no-store')
      .send({ error: 'AGENCY_STAFF_UNAUTHENTICATED', message: 'the staff page needs the staff password (user staff)' } satisfies ErrorBody);
  };
}

export async function agencyRoutes(app: FastifyInstance, opts: AgencyRoutesOptions): Promise<void> {
  const { agency } = opts;
  app.get('/api/agency/config', async () => ({ agentUrl: opts.agentUrl, agencyName: agency.agencyName, procedures: agency.procedures() }));

  app.post('/api/agency/documents', async (req, reply) => {
    const body = parse(DocumentBody, req.body);
    return reply.status(201).header('cache-control', 'no-store').send(agency.prepare(body.procedure, body.form));
  });

  app.post('/api/agency/applications', async (req, reply) => {
    const body = parse(ApplicationBody, req.body);
    const outcome = await agency.submit({
      procedure: body.procedure,
      form: body.form,
      content: Buffer.from(body.content, 'base64'),
      signature: Buffer.from(body.signature, 'base64'),
      ...(body.certificate ? { certificate: Buffer.from(body.certificate, 'base64') } : {}),
    });
    reply.header('cache-control', 'no-store');
    if (outcome.status === 'accepted') return reply.status(201).send(outcome);
    // Rejected: kept under a reference number; the reasons' codes for the page, their sentences in the message.
    return reply.status(422).send({
      error: 'AGENCY_APPLICATION_REJECTED',
      message: `the application was not accepted: ${outcome.reasons.map((r) => `${r.code}: ${r.message}`).join('; ')}`,
      params: { reference: outcome.receiptNumber, verdict: outcome.verdict, reasons: outcome.reasons.map((r) => r.code).join(','), receivedAt: outcome.receivedAt },
    } satisfies ErrorBody);
  });

  // The staff's side, behind the staff password.
  await app.register(async (staff) => {
    staff.addHook('onRequest', staffGuard(opts.staffPassword));
    staff.addHook('onSend', async (_req, reply) => {
      reply.header('cache-control', 'no-store');
    });
    staff.get('/api/agency/staff/applications', async (req) => {
      const q = parse(ListQuery, req.query);
      return { applications: await agency.list({ ...(q.status ? { status: q.status } : {}), ...(q.limit ? { limit: q.limit } : {}), ...(q.before ? { beforeId: q.before } : {}) }) };
    });
    staff.get('/api/agency/staff/applications/:receipt', async (req) => agency.get(parse(ReceiptParams, req.params).receipt));
    const evidence = [
      { file: 'signature.p7s', type: 'application/pkcs7-signature', pick: (e: Awaited<ReturnType<Agency['evidence']>>) => e.signature },
      { file: 'certificate.cer', type: 'application/pkix-cert', pick: (e: Awaited<ReturnType<Agency['evidence']>>) => e.certificate },
      { file: 'content.json', type: 'application/json', pick: (e: Awaited<ReturnType<Agency['evidence']>>) => e.content },
    ];
    for (const item of evidence) {
      staff.get(`/api/agency/staff/applications/:receipt/${item.file}`, async (req, reply) => {
        const { receipt } = parse(ReceiptParams, req.params);
        const body = item.pick(await agency.evidence(receipt));
        if (!body) throw new JpkiError('AGENCY_EVIDENCE_MISSING', 'not-found', `application ${receipt} has no ${item.file}`);
        return reply.header('content-type', item.type).header('content-disposition', `attachment; filename="${receipt}-${item.file}"`).send(body);
      });
    }
  });
}
