import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SESSION_LIFETIME_MS, parseInput, LANGUAGES } from '../../../counter/index.js';
import type { Counter } from '../../../counter/index.js';
import { operatorOf, SESSION_COOKIE, state, type CounterRouteConfig } from './guard.js';

const LoginSchema = z.strictObject({
  name: z.string().min(1).max(40),
  password: z.string().min(1).max(200),
  /** cookie (browser, default): an HttpOnly cookie plus a CSRF token; bearer: the token in the body instead. */
  session: z.enum(['cookie', 'bearer']).default('cookie'),
});

const LanguageSchema = z.strictObject({ language: z.enum(LANGUAGES) });

function sessionCookie(request: FastifyRequest, value: string, maxAgeSeconds: number): string {
  const secure = request.protocol === 'https' ? '; Secure' : '';
  return `${SESSION_COOKIE}=${encodeURIComponent(value)}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${secure}`;
}

const PUBLIC: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'public' } } };
const OPERATOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' } } };

/** Login, logout, who am I, language preference. */
export async function sessionRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {

  app.post('/login', { config: PUBLIC }, async (request, reply: FastifyReply) => {
    const input = parseInput(LoginSchema, request.body);
    const session = await counter.operators.login(input.name, input.password);
    const view = (await counter.operators.list(session.operator.municipality)).find((o) => o.id === session.operator.id)!;
    state(request).lang = session.operator.language;
    if (input.session === 'cookie') void reply.header('set-cookie', sessionCookie(request, session.token, Math.floor(SESSION_LIFETIME_MS / 1000)));
    return reply.status(200).send({
      operator: view,
      csrfToken: session.csrfToken,
      expiresAt: session.expiresAt,
      ...(input.session === 'bearer' ? { token: session.token } : {}),
    });
  });

  app.post('/logout', { config: OPERATOR }, async (request, reply) => {
    const st = state(request);
    await counter.operators.logout(st.token!, operatorOf(request));
    void reply.header('set-cookie', sessionCookie(request, '', 0));
    return reply.status(200).send({ loggedOut: true });
  });

  app.get('/me', { config: OPERATOR }, async (request) => {
    const st = state(request);
    const op = operatorOf(request);
    const view = (await counter.operators.list(op.municipality)).find((o) => o.id === op.id)!;
    return { operator: view, csrfToken: st.csrfToken, expiresAt: st.expiresAt, language: st.lang };
  });

  app.post('/me/language', { config: OPERATOR }, async (request) => {
    const { language } = parseInput(LanguageSchema, request.body);
    const op = await counter.operators.setLanguage(operatorOf(request), language);
    state(request).lang = language;
    return { operator: op };
  });
}
