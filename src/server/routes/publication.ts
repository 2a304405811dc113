import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JpkiError } from '../../common/errors.js';
import { parseScope, type CrlScope } from '../../ca/crl-publisher.js';
import { authorityView } from '../../ca/authority-view.js';
import type { CertificationAuthorities } from '../../ca/certification-authorities.js';
import type { CrlPublisher } from '../../ca/crl-publisher.js';
import type { Clock } from '../../common/clock.js';
import { sendCrl } from './crl.js';

const CA_ID = /^[a-z0-9-]{1,40}$/;

function fileParam(file: string, ext: string): string {
  if (!file.endsWith(ext)) throw new JpkiError('NOT_FOUND', 'not-found', `no such file ${file}`);
  const id = file.slice(0, -ext.length);
  if (!CA_ID.test(id)) throw new JpkiError('NOT_FOUND', 'not-found', `no such file ${file}`);
  return id;
}

/**
 * What every CA publishes: its certificate, its CRLs (full, ARL, partitions, delta) and a JSON list of the
 * CAs with fingerprints — the data the portal shows and relying parties fetch.
 */
/** What the publication routes read: the CAs, their stored CRLs, the time. */
export interface PublicationRoutesOptions {
  ca: CertificationAuthorities;
  /** Stored CRLs only (the primary's, or a read replica's with `--read-db`). */
  crls: Pick<CrlPublisher, 'stored'>;
  clock: Clock;
}

export async function publicationRoutes(app: FastifyInstance, opts: PublicationRoutesOptions): Promise<void> {
  const { ca, crls, clock } = opts;

  app.get('/ca', async () => {
    const list = await ca.list();
    return list.map((a) => ({
      ...authorityView(a),
      certificate: `/ca/${a.id}.cer`,
      crl: `/crl/${a.id}.crl`,
      arl: `/arl/${a.id}.crl`,
    }));
  });

  app.get<{ Params: { file: string } }>('/ca/:file', async (req, reply) => {
    const a = await ca.get(fileParam(req.params.file, '.cer'));
    return reply.header('content-type', 'application/pkix-cert').header('cache-control', 'public, max-age=86400').send(a.certificate);
  });

  const serveCrl = async (id: string, scope: CrlScope, reply: FastifyReply, req: FastifyRequest) => {
    await ca.get(id);
    // stored CRLs only: a GET never makes a CA sign (the CRL updater publishes them)
    return sendCrl(reply, await crls.stored(id, scope), clock.now().getTime(), req);
  };

  app.get<{ Params: { file: string } }>('/crl/:file', async (req, reply) => serveCrl(fileParam(req.params.file, '.crl'), { type: 'full' }, reply, req));
  app.get<{ Params: { file: string } }>('/arl/:file', async (req, reply) => serveCrl(fileParam(req.params.file, '.crl'), { type: 'arl' }, reply, req));
  app.get<{ Params: { id: string; file: string } }>('/crl/:id/:file', async (req, reply) => {
    if (!CA_ID.test(req.params.id)) throw new JpkiError('NOT_FOUND', 'not-found', `no such CA ${req.params.id}`);
    const name = fileParam(req.params.file, '.crl');
    let scope: CrlScope;
    try {
      scope = parseScope(name);
    } catch {
      throw new JpkiError('NOT_FOUND', 'not-found', `no such CRL ${req.params.file}`);
    }
    if (scope.type !== 'partition' && scope.type !== 'delta') throw new JpkiError('NOT_FOUND', 'not-found', `no such CRL ${req.params.file}`);
    return serveCrl(req.params.id, scope, reply, req);
  });
}
