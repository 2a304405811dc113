import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Services } from '../compose/services.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { publicationRoutes } from './routes/publication.js';
import { ocspRoutes } from './routes/ocsp.js';
import { crlRoutes } from './routes/crl.js';
import { counterApi } from './routes/counter/index.js';
import { webRoutes } from './routes/web.js';
import { portalRoutes } from './routes/portal.js';

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /** The residents' local client agent the portal's pages call (default: the services' configuration). */
  agentUrl?: string;
}

/**
 * The HTTP face of the service: a thin edge over the modules (STYLE §11). Routes validate their input,
 * call a module's front door and shape the reply; errors go through one handler.
 */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: options.logger ?? false,
    bodyLimit: 1 << 20,
    // Keep-alive for relying parties hammering OCSP/CRLs; close idle sockets eventually.
    keepAliveTimeout: 30_000,
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Each route plugin gets the one service it serves, not the whole composition (ARCHITECTURE.md).
  const publication = { ca: services.ca, crls: services.crls, clock: services.clock };
  await app.register(publicationRoutes, publication);
  await app.register(ocspRoutes, { responder: services.ocsp.responder, clock: services.clock });
  await app.register(crlRoutes, publication);
  await app.register(counterApi, { counter: services.counter });
  const agentUrl = options.agentUrl ?? services.agentUrl;
  await app.register(portalRoutes, { portal: services.portal, agentUrl });
  await app.register(webRoutes, { agentUrl });
  return app;
}
