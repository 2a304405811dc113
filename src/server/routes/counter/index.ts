import type { FastifyInstance, FastifyReply, FastifyRequest, HTTPMethods } from 'fastify';
import { JpkiError } from '../../../common/errors.js';
import type { Counter } from '../../../counter/index.js';
import { counterErrorHandler, counterGuard, state, type CounterRouteConfig, type CounterScope } from './guard.js';
import { sessionRoutes } from './session.js';
import { residentRoutes } from './residents.js';
import { issuanceRoutes } from './issuances.js';
import { serviceRoutes } from './services.js';
import { paperRoutes } from './papers.js';
import { staffRoutes } from './staff.js';

export const COUNTER_PREFIX = '/api/counter';

/** One registered counter route with its declared scope (the out-of-scope test walks this list). */
export interface CounterRouteRecord {
  method: string;
  url: string;
  scope: CounterScope;
  supervisor: boolean;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Every route under /api/counter, as registered. */
    counterRoutes: CounterRouteRecord[];
  }
}

export interface CounterRoutesOptions {
  counter: Counter;
}

/**
 * The counter's JSON API under /api/counter (docs/counter.md has every route). Not encapsulated at this
 * level so that the root instance carries `counterRoutes`; the routes themselves live in an encapsulated
 * child with the guard hook and the translating error handler.
 */
export async function counterApi(app: FastifyInstance, opts: CounterRoutesOptions): Promise<void> {
  const routes: CounterRouteRecord[] = [];
  app.decorate('counterRoutes', routes);
  await app.register(
    async (api) => {
      api.addHook('onRoute', (route) => {
        const config = (route.config as { counter?: CounterRouteConfig } | undefined)?.counter;
        // A route without a declared scope must not exist: it would skip the municipality check.
        if (!config) throw new Error(`counter route ${String(route.method)} ${route.url} declares no scope`);
        for (const method of ([] as HTTPMethods[]).concat(route.method as HTTPMethods | HTTPMethods[])) {
          if (method === 'HEAD') continue;
          routes.push({ method, url: route.url, scope: config.scope, supervisor: config.supervisor === true });
        }
      });
      // JSON only: a text/plain body is what a cross-site form can send without a CORS preflight.
      api.removeContentTypeParser('text/plain');
      api.setErrorHandler(counterErrorHandler);
      api.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
        state(request);
        counterErrorHandler(new JpkiError('NOT_FOUND', 'not-found', `no such resource: ${request.method} ${request.url.split('?')[0]}`), request, reply);
      });
      api.addHook('onSend', async (_request, reply, payload) => {
        // Personal data: never cached by the browser or a proxy.
        void reply.header('cache-control', 'no-store');
        return payload;
      });
      api.addHook('preValidation', counterGuard(opts.counter));
      await api.register(sessionRoutes, opts);
      await api.register(residentRoutes, opts);
      await api.register(issuanceRoutes, opts);
      await api.register(serviceRoutes, opts);
      await api.register(paperRoutes, opts);
      await api.register(staffRoutes, opts);
    },
    { prefix: COUNTER_PREFIX },
  );
}
// Registered without encapsulation (what fastify-plugin does), so `counterRoutes` reaches the root.
(counterApi as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
