import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { ApplicationFormSchema, parseInput, PhotoIdSchema } from '../../../counter/index.js';
import type { Counter } from '../../../counter/index.js';
import { idempotencyKey, operatorOf, type CounterRouteConfig } from './guard.js';
import { sendOutcome } from './issuances.js';

const pinBody = {
  residentId: z.string().min(1).max(40),
  form: ApplicationFormSchema,
  identity: PhotoIdSchema,
  pin: z.enum(['sign', 'auth']),
  deviceId: z.string().min(1).max(40),
  newPin: z.string().max(16),
};
const PinChangeBody = z.strictObject({ ...pinBody, currentPin: z.string().max(16) });
const PinResetBody = z.strictObject(pinBody);

const BY_RESIDENT: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'resident', from: 'body' } } };

/** Revocation at the counter and the PIN services at the device. */
export async function serviceRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {
  const { revocation, pins } = counter;

  app.post('/revocations', { config: BY_RESIDENT }, async (request, reply) =>
    sendOutcome(reply, await revocation.revoke(operatorOf(request), request.body as never, idempotencyKey(request)), true),
  );

  app.post('/pin-changes', { config: BY_RESIDENT }, async (request, reply) => {
    const { deviceId, ...b } = parseInput(PinChangeBody, request.body);
    return sendOutcome(reply, await pins.change(operatorOf(request), { ...b, device: { id: deviceId } }, idempotencyKey(request)), true);
  });
  app.post('/pin-resets', { config: BY_RESIDENT }, async (request, reply) => {
    const { deviceId, ...b } = parseInput(PinResetBody, request.body);
    return sendOutcome(reply, await pins.reset(operatorOf(request), { ...b, device: { id: deviceId } }, idempotencyKey(request)), true);
  });
  app.post('/pin-unlocks', { config: BY_RESIDENT }, async (request, reply) => {
    const { deviceId, ...b } = parseInput(PinResetBody, request.body);
    return sendOutcome(reply, await pins.unlock(operatorOf(request), { ...b, device: { id: deviceId } }, idempotencyKey(request)), true);
  });
}
