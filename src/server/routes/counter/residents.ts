import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../../counter/index.js';
import { RENAME_REASONS } from '../../../register/index.js';
import type { Counter } from '../../../counter/index.js';
import { operatorOf, type CounterRouteConfig } from './guard.js';

const SearchQuery = z.strictObject({
  q: z.string().max(100).optional(),
  dateOfBirth: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  limit: z.coerce.number().int().min(1).max(200).optional(),
  lang: z.string().optional(),
});

const YMD = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const flags = z.string().regex(/^[01]+$/).max(200);

const NewResidentSchema = z.strictObject({
  name: z.string().min(1).max(100),
  nameSubstitute: flags.optional(),
  address: z.string().min(1).max(200),
  addressSubstitute: flags.optional(),
  dateOfBirth: YMD,
  sex: z.enum(['1', '2']),
  // as people type them (131032 with the check digit, full-width digits, hyphens): the register checks them
  municipality: z.string().min(5).max(20),
  recordCode: z.string().min(11).max(30).optional(),
  registeredOn: YMD.optional(),
});
const MoveSchema = z.strictObject({ address: z.string().min(1).max(200), addressSubstitute: flags.optional(), municipality: z.string().min(5).max(20).optional(), effectiveOn: YMD.optional() });
const RenameSchema = z.strictObject({ name: z.string().min(1).max(100), nameSubstitute: flags.optional(), reason: z.enum(RENAME_REASONS).optional(), effectiveOn: YMD.optional() });
const CorrectionSchema = z.strictObject({
  name: z.string().min(1).max(100).optional(),
  nameSubstitute: flags.optional(),
  address: z.string().min(1).max(200).optional(),
  addressSubstitute: flags.optional(),
  dateOfBirth: YMD.optional(),
  sex: z.enum(['1', '2']).optional(),
  reason: z.string().min(1).max(200),
});
const DeathSchema = z.strictObject({ effectiveOn: YMD.optional() });

const OPERATOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' } } };
const SUPERVISOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' }, supervisor: true } };
const RESIDENT: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'resident', from: 'params' } } };
const RESIDENT_SUPERVISOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'resident', from: 'params' }, supervisor: true } };

type ById = { Params: { residentId: string } };

/** Finding residents of the operator's municipality, and (supervisors) recording register changes. */
export async function residentRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {

  app.get('/residents', { config: OPERATOR }, async (request) => {
    const q = parseInput(SearchQuery, request.query);
    return { residents: await counter.searchResidents(operatorOf(request), { ...(q.q ? { text: q.q } : {}), ...(q.dateOfBirth ? { dateOfBirth: q.dateOfBirth } : {}), ...(q.limit ? { limit: q.limit } : {}) }) };
  });

  app.get<ById>('/residents/:residentId', { config: RESIDENT }, async (request) => counter.residentOverview(operatorOf(request), request.params.residentId));

  app.post('/residents', { config: SUPERVISOR }, async (request, reply) => {
    const input = parseInput(NewResidentSchema, request.body);
    return reply.status(201).send({ resident: await counter.addResident(operatorOf(request), input) });
  });

  app.post<ById>('/residents/:residentId/move', { config: RESIDENT_SUPERVISOR }, async (request) =>
    counter.registerChanges.move(operatorOf(request), request.params.residentId, parseInput(MoveSchema, request.body)),
  );
  app.post<ById>('/residents/:residentId/rename', { config: RESIDENT_SUPERVISOR }, async (request) =>
    counter.registerChanges.rename(operatorOf(request), request.params.residentId, parseInput(RenameSchema, request.body)),
  );
  app.post<ById>('/residents/:residentId/correction', { config: RESIDENT_SUPERVISOR }, async (request) =>
    counter.registerChanges.correct(operatorOf(request), request.params.residentId, parseInput(CorrectionSchema, request.body)),
  );
  app.post<ById>('/residents/:residentId/death', { config: RESIDENT_SUPERVISOR }, async (request) =>
    counter.registerChanges.death(operatorOf(request), request.params.residentId, parseInput(DeathSchema, request.body ?? {})),
  );
}
