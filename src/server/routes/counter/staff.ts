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
  app.post<{ Params: { name: string } }>('/operators/:name/unlock', { config: SUPERVISOR }, async (request) => {
    const me = operatorOf(request);
    return { operator: await counter.operators.unlock(request.params.name, `operator:${me.name}`, me) };
  });

  app.get('/devices', { config: OPERATOR }, async (request) => ({ devices: await counter.devices(operatorOf(request)) }));
  app.get<{ Params: { id: string } }>('/devices/:id', { config: OPERATOR }, async (request) => counter.deviceStatus(operatorOf(request), request.params.id));
}
