import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { JpkiError } from '../../common/errors.js';
import type { PublicationRoutesOptions } from './publication.js';
import type { CrlRecord } from '../../store/index.js';

/** At most this long may an HTTP cache keep a CRL (and never past its nextUpdate): deltas change hourly. */
export const CRL_MAX_AGE_S = 3600;

/**
 * A CRL as HTTP serves it: DER as application/pkix-crl (RFC 2585 §4.2), with Last-Modified = thisUpdate,
 * Expires = nextUpdate, a max-age that never outlasts the CRL, and an ETag naming the CRL number — a
 * relying party that already has this CRL gets a 304.
 */
export function sendCrl(reply: FastifyReply, crl: CrlRecord, now: number, request?: FastifyRequest): FastifyReply {
  const maxAge = Math.max(0, Math.floor((crl.nextUpdate - now) / 1000));
  const etag = `"${crl.caId}-${crl.scope.replace(':', '-')}-${crl.crlNumber}"`;
  reply
    .header('content-type', 'application/pkix-crl')
    .header('cache-control', `public, max-age=${Math.min(maxAge, CRL_MAX_AGE_S)}`)
    .header('last-modified', new Date(crl.thisUpdate).toUTCString())
    .header('expires', new Date(crl.nextUpdate).toUTCString())
    .header('etag', etag);
  if (request?.headers['if-none-match'] === etag) return reply.code(304).send();
  return reply.send(crl.der);
}

const CA_ID = /^[a-z0-9-]{1,40}$/;
const MUNICIPALITY = /^\d{5,6}$/;

/**
 * The delta CRL of one municipality's partition: `/crl/<ca>/<municipality>/delta.crl`, the URL in the
 * freshestCRL of that partition's certificates and CRL. (The full, ARL, partition and CA-wide delta CRLs
 * are served by publication.ts.)
 */
export async function crlRoutes(app: FastifyInstance, opts: PublicationRoutesOptions): Promise<void> {
  const { ca, crls, clock } = opts;
  app.get<{ Params: { id: string; municipality: string; file: string } }>('/crl/:id/:municipality/:file', async (req, reply) => {
    const { id, municipality, file } = req.params;
    if (!CA_ID.test(id) || !MUNICIPALITY.test(municipality) || file !== 'delta.crl') throw new JpkiError('NOT_FOUND', 'not-found', `no such CRL ${req.url.split('?')[0]}`);
    await ca.get(id);
    return sendCrl(reply, await crls.stored(id, { type: 'partition-delta', municipality }), clock.now().getTime(), req);
  });
}
