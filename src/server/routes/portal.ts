import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Portal } from '../../portal/index.js';
import { parseRequest } from './parse.js';

/**
 * The portal's API (docs/portal.md): the machine-readable trust-anchor list (what `jpki client fingerprints
 * --compare` reads), the page configuration, and the online window's challenge, validity check and online
 * revocation. Bodies are checked with zod; errors go through the app's one handler.
 */
export interface PortalRoutesOptions {
  portal: Portal;
  /** The local client agent the portal's pages talk to (default http://127.0.0.1:8741). */
  agentUrl: string;
}

const base64Der = z.string().min(4).max(96 * 1024).regex(/^[A-Za-z0-9+/]+={0,2}$/, 'base64');
const StatusBody = z.object({ certificate: base64Der }).strict();
const RevocationBody = z.object({ challengeId: z.string().regex(/^[0-9a-f]{32}$/), signature: base64Der, certificate: base64Der, reason: z.string().max(40) }).strict();
const ChallengeBody = z.object({ purpose: z.literal('revocation') }).strict();

const parse = <T>(schema: z.ZodType<T>, value: unknown): T => parseRequest(schema, value, 'PORTAL_REQUEST_INVALID');

export async function portalRoutes(app: FastifyInstance, opts: PortalRoutesOptions): Promise<void> {
  const { portal } = opts;
  app.get('/api/portal/trust-anchors', async (_req, reply) => {
    reply.header('cache-control', 'public, max-age=300');
    return { anchors: await portal.trustAnchors() };
  });
  app.get('/api/portal/config', async () => ({ agentUrl: opts.agentUrl }));
  app.post('/api/portal/online/challenges', async (req, reply) => {
    parse(ChallengeBody, req.body ?? {});
    return reply.status(201).header('cache-control', 'no-store').send(portal.issueChallenge());
  });
  app.post('/api/portal/online/status', async (req, reply) => {
    const body = parse(StatusBody, req.body);
    reply.header('cache-control', 'no-store');
    return portal.certificateStatus(Buffer.from(body.certificate, 'base64'));
  });
  app.post('/api/portal/online/revocations', async (req, reply) => {
    const body = parse(RevocationBody, req.body);
    const notice = await portal.revokeOnline({
      challengeId: body.challengeId,
      signature: Buffer.from(body.signature, 'base64'),
      certificate: Buffer.from(body.certificate, 'base64'),
      reason: body.reason,
    });
    return reply.status(201).header('cache-control', 'no-store').send(notice);
  });
}
