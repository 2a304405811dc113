import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { LANGUAGES, parseInput } from '../../../counter/index.js';
import type { Counter } from '../../../counter/index.js';
import { operatorOf, type CounterRouteConfig } from './guard.js';

const NewOperatorBody = z.strictObject({
  name: z.string().min(2).max(40),
  role: z.enum(['clerk', 'supervisor']),
  password: z.string().min(1).max(200),
  language: z.enum(LANGUAGES).optional(),
});

const RoleBody = z.strictObject({ role: z.enum(['clerk', 'supervisor']) });
const PasswordBody = z.strictObject({ password: z.string().min(1).max(200) });
type ByName = { Params: { name: string } };

const OPERATOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' } } };
const SUPERVISOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' }, supervisor: true } };

/** The counter's staff (supervisors manage it) and its key-pair generation devices. */
export async function staffRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {

  app.get('/operators', { config: SUPERVISOR }, async (request) => ({ operators: await counter.operators.list(operatorOf(request).municipality) }));
  app.post('/operators', { config: SUPERVISOR }, async (request, reply) => {
    const me = operatorOf(request);
    const body = parseInput(NewOperatorBody, request.body);
    // A supervisor adds staff to their own counter only.
    return reply.status(201).send({ operator: await counter.operators.add({ ...body, municipality: me.municipality }, `operator:${me.name}`) });
  });
  // Each acts on an operator of the supervisor's own municipality only (the counter checks and audits a refusal).
  app.post<ByName>('/operators/:name/unlock', { config: SUPERVISOR }, async (request) => {
    const me = operatorOf(request);
    return { operator: await counter.operators.unlock(request.params.name, `operator:${me.name}`, me) };
  });
  app.post<ByName>('/operators/:name/lock', { config: SUPERVISOR }, async (request) => {
    const me = operatorOf(request);
    return { operator: await counter.operators.lock(request.params.name, `operator:${me.name}`, me) };
  });
  app.post<ByName>('/operators/:name/role', { config: SUPERVISOR }, async (request) => {
    const me = operatorOf(request);
    const { role } = parseInput(RoleBody, request.body);
    return { operator: await counter.operators.setRole(request.params.name, role, `operator:${me.name}`, me) };
  });
  app.post<ByName>('/operators/:name/password', { config: SUPERVISOR }, async (request) => {
    const me = operatorOf(request);
    const { password } = parseInput(PasswordBody, request.body);
    return { operator: await counter.operators.resetPassword(request.params.name, password, `operator:${me.name}`, me) };
  });

  app.get('/devices', { config: OPERATOR }, async (request) => ({ devices: await counter.devices(operatorOf(request)) }));
  app.get<{ Params: { id: string } }>('/devices/:id', { config: OPERATOR }, async (request) => counter.deviceStatus(operatorOf(request), request.params.id));
}
