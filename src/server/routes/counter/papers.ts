import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { parseInput } from '../../../counter/index.js';
import type { Counter } from '../../../counter/index.js';
import { operatorOf, type CounterRouteConfig } from './guard.js';

const LedgerQuery = z.strictObject({
  date: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).optional(),
  operator: z.string().min(1).max(40).optional(),
  lang: z.string().optional(),
});

const BY_DOCUMENT: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'document' } } };
const BY_APPLICATION: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'application' } } };
const OPERATOR: { counter: CounterRouteConfig } = { counter: { scope: { kind: 'operator' } } };

type ByNumber = { Params: { number: string } };

/** Receipts and notices by number, any application by number, and the day's ledger. */
export async function paperRoutes(app: FastifyInstance, { counter }: { counter: Counter }): Promise<void> {
  app.get<ByNumber>('/receipts/:number', { config: BY_DOCUMENT }, async (request) => counter.document(operatorOf(request), request.params.number, 'receipt'));
  app.get<ByNumber>('/notices/:number', { config: BY_DOCUMENT }, async (request) => counter.document(operatorOf(request), request.params.number, 'notice'));
  app.get<ByNumber>('/applications/:number', { config: BY_APPLICATION }, async (request) => counter.application(operatorOf(request), request.params.number));
  app.get('/ledger', { config: OPERATOR }, async (request) => {
    const q = parseInput(LedgerQuery, request.query);
    return counter.ledger(operatorOf(request), q.date, q.operator);
  });
}
