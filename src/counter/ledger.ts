import { municipalityByCode } from '../register/index.js';
import { applicationView, documentView, type ApplicationView, type CounterContext, type DocumentView } from './context.js';
import { CounterError } from './errors.js';
import type { Operator } from './operators.js';

export interface LedgerEntry extends ApplicationView {
  residentName: string;
  documents: DocumentView[];
}

export interface Ledger {
  /** The Japanese calendar day, YYYY-MM-DD. */
  date: string;
  municipality: string;
  municipalityName: string;
  /** 'all' for a supervisor (every operator), 'own' for a clerk (their own applications). */
  scope: 'all' | 'own';
  operator: string | null;
  entries: LedgerEntry[];
  totals: {
    applications: number;
    completed: number;
    open: number;
    cancelled: number;
    /** Yen received: the receipts of these applications. */
    fees: number;
    receipts: number;
    notices: number;
    byKind: Record<string, number>;
  };
}

const DAY_MS = 24 * 3600_000;
const JST_MS = 9 * 3600_000;

/**
 * The day's ledger (業務日誌) of a counter: every application taken that day with its papers and totals.
 * A clerk sees their own work; a supervisor sees every operator of the municipality (optionally one).
 */
export async function dayLedger(ctx: CounterContext, operator: Operator, date: string | undefined, onlyOperator?: string): Promise<Ledger> {
  const day = date ?? new Date(ctx.clock.now().getTime() + JST_MS).toISOString().slice(0, 10);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(`${day}T00:00:00Z`)))
    throw new CounterError('COUNTER_REQUEST_INVALID', `date: ${JSON.stringify(day)} is not YYYY-MM-DD`, { field: 'date', problem: 'format' });
  const from = Date.parse(`${day}T00:00:00Z`) - JST_MS;
  const supervisor = operator.role === 'supervisor';
  let operatorId: string | undefined = supervisor ? undefined : operator.id;
  let operatorName: string | null = supervisor ? null : operator.name;
  if (supervisor && onlyOperator) {
    const o = await ctx.store.operators.byName(onlyOperator);
    if (!o || o.municipality !== operator.municipality)
      throw new CounterError('COUNTER_OPERATOR_NOT_FOUND', `no operator named ${onlyOperator} at this counter`, { operator: onlyOperator });
    operatorId = o.id;
    operatorName = o.name;
  }
  const apps = await ctx.store.counterRecords.applicationsBetween(operator.municipality, from, from + DAY_MS, operatorId);
  const docs = await ctx.store.counterRecords.documentsOf(apps.map((a) => a.id));
  const entries: LedgerEntry[] = [];
  for (const a of apps) {
    const r = await ctx.register.find(a.residentId);
    entries.push({
      ...(await applicationView(ctx.store, a)),
      residentName: r?.name ?? '',
      documents: await Promise.all(docs.filter((d) => d.applicationId === a.id).map((d) => documentView(ctx.store, d))),
    });
  }
  const byKind: Record<string, number> = {};
  for (const a of apps) byKind[a.kind] = (byKind[a.kind] ?? 0) + 1;
  return {
    date: day,
    municipality: operator.municipality,
    municipalityName: municipalityByCode(operator.municipality)?.name ?? operator.municipality,
    scope: supervisor ? 'all' : 'own',
    operator: operatorName,
    entries,
    totals: {
      applications: apps.length,
      completed: apps.filter((a) => a.status === 'completed').length,
      open: apps.filter((a) => a.status === 'open').length,
      cancelled: apps.filter((a) => a.status === 'cancelled').length,
      fees: docs.filter((d) => d.type === 'receipt').reduce((s, d) => s + d.amount, 0),
      receipts: docs.filter((d) => d.type === 'receipt').length,
      notices: docs.filter((d) => d.type === 'notice').length,
      byKind,
    },
  };
}
