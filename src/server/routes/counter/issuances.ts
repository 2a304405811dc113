import type { FastifyInstance, FastifyReply } from 'fastify';
import { z } from 'zod';
import { parseInput, type SubmissionOutcome } from '../../../counter/index.js';
import type { Counter } from '../../../counter/index.js';
import { idempotencyKey, operatorOf, type CounterRouteConfig } from './guard.js';

const DeviceStepBody = z.strictObject({ deviceId: z.string().min(1).max(40), signPin: z.string().max(16), authPin: z.string().max(4) });

const BY_RESIDENT: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'resident', from: 'body' } } };
const BY_APPLICATION: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'application' } } };

type ByNumber = { Params: { number: string } };

/** Sends a submission's result: 201 for a first creation, 200 otherwise; replays say so in a header. */
export function sendOutcome<T>(reply: FastifyReply, outcome: SubmissionOutcome<T>, created = false): FastifyReply {
  if (outcome.replayed) void reply.header('idempotent-replayed', 'true');
  return reply.status(created ? 201 : 200).send(outcome.result);
}

/** The issuance wizard: application → identity → fee → device, then the hand-over papers. */
export async function issuanceRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {
  const { issuance } = counter;

  app.post('/issuances', { config: BY_RESIDENT }, async (request, reply) =>
    sendOutcome(reply, await issuance.open(operatorOf(request), request.body as never, idempotencyKey(request)), true),
  );
  app.get<ByNumber>('/issuances/:number', { config: BY_APPLICATION }, async (request) => issuance.get(operatorOf(request), request.params.number));
  app.post<ByNumber>('/issuances/:number/identity', { config: BY_APPLICATION }, async (request, reply) =>
    sendOutcome(reply, await issuance.identity(operatorOf(request), request.params.number, request.body as never, idempotencyKey(request))),
  );
  app.post<ByNumber>('/issuances/:number/fee', { config: BY_APPLICATION }, async (request, reply) =>
    sendOutcome(reply, await issuance.fee(operatorOf(request), request.params.number, request.body as never, idempotencyKey(request))),
  );
  app.post<ByNumber>('/issuances/:number/device', { config: BY_APPLICATION }, async (request, reply) => {
    const body = parseInput(DeviceStepBody, request.body);
    return sendOutcome(
      reply,
      await issuance.device(operatorOf(request), request.params.number, { device: { id: body.deviceId }, signPin: body.signPin, authPin: body.authPin }, idempotencyKey(request)),
    );
  });
  app.post<ByNumber>('/issuances/:number/cancel', { config: BY_APPLICATION }, async (request, reply) =>
    sendOutcome(reply, await issuance.cancel(operatorOf(request), request.params.number, idempotencyKey(request))),
  );
  app.get<ByNumber>('/issuances/:number/certificate-copy', { config: BY_APPLICATION }, async (request) => issuance.certificateCopy(operatorOf(request), request.params.number));
  app.get<ByNumber>('/issuances/:number/usage-guide', { config: BY_APPLICATION }, async (request) => issuance.usageGuide(operatorOf(request), request.params.number));
}
