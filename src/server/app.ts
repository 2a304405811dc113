import type { Server } from 'node:http';
import Fastify, { type FastifyHttpOptions, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Services } from '../compose/services.js';
import { errorHandler, notFoundHandler } from './errors.js';
import { clientErrorHandler, DEFAULT_LIMITS, frameworkErrorHandler, limitOptions, type ServerLimits } from './limits.js';
import { publicationRoutes } from './routes/publication.js';
import { ocspRoutes } from './routes/ocsp.js';
import { crlRoutes } from './routes/crl.js';
import { counterApi } from './routes/counter/index.js';
import { webRoutes } from './routes/web.js';
import { portalRoutes } from './routes/portal.js';
import { agencyRoutes } from './routes/agency.js';
import { installOcspFastPath, ocspFastPath } from './ocsp-fast-path.js';

/** A route as registered: what the fuzz tests walk, so that every route anyone adds is attacked too. */
export interface RegisteredRoute {
  method: string;
  url: string;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route of the app (HEAD left out), in registration order. */
    routeList: RegisteredRoute[];
  }
}

export interface AppOptions {
  logger?: FastifyServerOptions['logger'];
  /** The residents' local client agent the portal's pages call (default: the services' configuration). */
  agentUrl?: string;
  /** Time and size limits of requests and connections (DEFAULT_LIMITS; tests shorten them). */
  limits?: Partial<ServerLimits>;
  /**
   * The reverse proxies whose X-Forwarded-For/-Proto to believe (fastify's trustProxy: true, or addresses and
   * CIDRs such as "127.0.0.1,10.0.0.0/8"): behind a TLS proxy the session cookie is then Secure.
   */
  trustProxy?: boolean | string;
  /** Plain OCSP requests answered before fastify's routing (ocsp-fast-path.ts; default true; tests compare both). */
  ocspFastPath?: boolean;
}

/**
 * The HTTP face of the service: a thin edge over the modules (STYLE §11). Routes validate their input,
 * call a module's front door and shape the reply; errors go through one handler.
 */
export async function buildApp(services: Services, options: AppOptions = {}): Promise<FastifyInstance> {
  const limits = { ...DEFAULT_LIMITS, ...options.limits };
  const serverOptions: FastifyHttpOptions<Server> = {
    logger: options.logger ?? false,
    ...limitOptions(limits),
    trustProxy: options.trustProxy ?? false,
    clientErrorHandler,
    frameworkErrors: frameworkErrorHandler,
  };
  const app = Fastify(serverOptions) as unknown as FastifyInstance;
  app.server.maxConnections = limits.maxConnections;
  if (options.ocspFastPath !== false) installOcspFastPath(app.server, ocspFastPath({ responder: services.ocsp.responder, clock: services.clock }));
  const routeList: RegisteredRoute[] = [];
  app.decorate('routeList', routeList);
  app.addHook('onRoute', (route) => {
    for (const method of ([] as string[]).concat(route.method)) if (method !== 'HEAD') routeList.push({ method, url: route.url });
  });
  app.setErrorHandler(errorHandler);
  app.setNotFoundHandler(notFoundHandler);
  // Each route plugin gets the one service it serves, not the whole composition (ARCHITECTURE.md).
  const publication = { ca: services.ca, crls: services.crlReads, clock: services.clock };
  await app.register(publicationRoutes, publication);
  await app.register(ocspRoutes, { responder: services.ocsp.responder, clock: services.clock });
  await app.register(crlRoutes, publication);
  await app.register(counterApi, { counter: services.counter });
  const agentUrl = options.agentUrl ?? services.agentUrl;
  await app.register(portalRoutes, { portal: services.portal, agentUrl });
  await app.register(agencyRoutes, { agency: services.agency, agentUrl, staffPassword: services.agencyStaffPassword });
  await app.register(webRoutes, { agentUrl });
  return app;
}
