import type { Clock } from '../common/clock.js';
import { municipalityByCode, municipalityCodeProblem, type NewResident } from '../register/index.js';
import { JpkiClient, type CardState } from '../reader/index.js';
import type { DeviceRecord } from '../store/index.js';
import type { CardIssuer, CounterCa, CounterRegister, CounterStore, RegisterEventSettlement } from './ports.js';
import {
  applicationInScope,
  applicationView,
  assertInScope,
  assertSupervisor,
  certificateSummary,
  documentView,
  residentInScope,
  residentView,
  withCard,
  type ApplicationView,
  type CertificateSummary,
  type CounterContext,
  type DocumentView,
  type ResidentView,
} from './context.js';
import { parseDeviceUri, type DeviceFactory } from './devices.js';
import { CounterError } from './errors.js';
import { IssuanceWorkflow } from './issuance.js';
import { dayLedger, type Ledger } from './ledger.js';
import { actorOf, CounterOperators, type Operator } from './operators.js';
import { PinServices } from './pin-services.js';
import { RegisterChanges } from './register-changes.js';
import { RevocationDesk } from './revocation.js';
import { Submissions } from './submissions.js';

/** The counter's ports (counter/ports.ts), filled in by the composition root. */
export interface CounterDependencies {
  store: CounterStore;
  clock: Clock;
  ca: CounterCa;
  register: CounterRegister;
  registerEvents: RegisterEventSettlement;
  devices: DeviceFactory;
  cardIssuer: CardIssuer;
  publicUrl: string;
}

export interface ResidentOverview {
  resident: ResidentView;
  certificates: CertificateSummary[];
  events: { version: number; type: string; effectiveOn: string; recordedAt: string; actor: string; details: Record<string, unknown> }[];
  applications: ApplicationView[];
}

export interface DeviceView {
  id: string;
  municipality: string;
  name: string;
  uri: string;
}

export interface DeviceStatus extends DeviceView {
  cardPresent: boolean;
  cardId?: string;
  /** No key pair on the card yet: a blank card as made by `jpki card new`. */
  blank?: boolean;
  state?: CardState;
  problem?: { code: string; message: string };
}

/**
 * The municipal counter (registration authority): operators, the issuance workflow with the key-pair
 * generation device, revocation, PIN services, register changes with their automatic revocations, receipts
 * and notices, the day's ledger. Every action is done as an Operator and stays within their municipality;
 * every one is audited as `operator:<name>`.
 */
export class Counter {
  readonly operators: CounterOperators;
  readonly issuance: IssuanceWorkflow;
  readonly revocation: RevocationDesk;
  readonly pins: PinServices;
  readonly registerChanges: RegisterChanges;
  private readonly ctx: CounterContext;

  constructor(deps: CounterDependencies) {
    const submissions = new Submissions({ store: deps.store, clock: deps.clock });
    this.ctx = { ...deps, submissions };
    this.operators = new CounterOperators({ store: deps.store, clock: deps.clock });
    this.issuance = new IssuanceWorkflow(this.ctx);
    this.revocation = new RevocationDesk(this.ctx);
    this.pins = new PinServices(this.ctx);
    this.registerChanges = new RegisterChanges(this.ctx);
  }

  // ---- scope, for the HTTP edge's hook (the services check again themselves) ---------------------------

  async assertResidentInScope(operator: Operator, residentId: string, action: string): Promise<void> {
    await residentInScope(this.ctx, operator, residentId, action);
  }

  async assertApplicationInScope(operator: Operator, number: string, action: string): Promise<void> {
    await applicationInScope(this.ctx, operator, number, action);
  }

  async assertDocumentInScope(operator: Operator, number: string, action: string): Promise<void> {
    const d = await this.ctx.store.counterRecords.document(number);
    if (!d) throw new CounterError('COUNTER_DOCUMENT_NOT_FOUND', `no receipt or notice numbered ${JSON.stringify(number)}`, { number });
    await assertInScope(this.ctx, operator, { municipality: d.municipality, ref: `document:${d.number}` }, action);
  }

  async assertSupervisor(operator: Operator, action: string): Promise<void> {
    await assertSupervisor(this.ctx, operator, action);
  }

  // ---- residents -------------------------------------------------------------------------------------

  /** Residents of the operator's municipality only: other municipalities' residents are not searchable. */
  async searchResidents(operator: Operator, q: { text?: string; dateOfBirth?: string; limit?: number }): Promise<ResidentView[]> {
    const list = await this.ctx.register.search({ ...q, municipality: operator.municipality, limit: Math.min(q.limit ?? 50, 200) });
    return list.map(residentView);
  }

  async residentOverview(operator: Operator, residentId: string): Promise<ResidentOverview> {
    const r = await residentInScope(this.ctx, operator, residentId, 'resident.show');
    const now = this.ctx.clock.now().getTime();
    const certificates = (await this.ctx.ca.certificatesOf(r.id)).filter((c) => c.kind === 'sign' || c.kind === 'auth');
    const events = await this.ctx.register.events(r.id);
    const apps = await this.ctx.store.counterRecords.applicationsOf(r.id);
    return {
      resident: residentView(r),
      certificates: certificates.map((c) => certificateSummary(c, now)),
      events: events.map((e) => ({ version: e.version, type: e.type, effectiveOn: e.effectiveOn, recordedAt: new Date(e.recordedAt).toISOString(), actor: e.actor, details: e.details })),
      applications: await Promise.all(apps.map((a) => applicationView(this.ctx.store, a))),
    };
  }

  /** Enters a resident (転入 / birth). Through the API: a supervisor, for their own municipality. */
  async addResident(by: Operator | string, given: NewResident): Promise<ResidentView> {
    // 131032 (with the check digit) or full-width digits name the same municipality as 13103
    const m = municipalityByCode(String(given.municipality ?? ''));
    const input = m ? { ...given, municipality: m.code } : given;
    if (typeof by !== 'string') {
      await assertSupervisor(this.ctx, by, 'register.add');
      await assertInScope(this.ctx, by, { municipality: String(input.municipality), ref: `municipality:${String(input.municipality)}` }, 'register.add');
    }
    return residentView(await this.ctx.register.add(input, typeof by === 'string' ? by : actorOf(by)));
  }

  // ---- papers and the ledger -------------------------------------------------------------------------

  async document(operator: Operator, number: string, type?: 'receipt' | 'notice'): Promise<DocumentView> {
    const d = await this.ctx.store.counterRecords.document(number);
    if (!d || (type && d.type !== type)) throw new CounterError('COUNTER_DOCUMENT_NOT_FOUND', `no ${type ?? 'receipt or notice'} numbered ${JSON.stringify(number)}`, { number });
    await assertInScope(this.ctx, operator, { municipality: d.municipality, ref: `document:${d.number}` }, `${d.type}.show`);
    return documentView(this.ctx.store, d);
  }

  async application(operator: Operator, number: string): Promise<ApplicationView> {
    return applicationView(this.ctx.store, await applicationInScope(this.ctx, operator, number, 'application.show'));
  }

  async ledger(operator: Operator, date?: string, onlyOperator?: string): Promise<Ledger> {
    if (onlyOperator && onlyOperator !== operator.name) await assertSupervisor(this.ctx, operator, 'ledger.operator');
    return dayLedger(this.ctx, operator, date, onlyOperator === operator.name ? undefined : onlyOperator);
  }

  // ---- key-pair generation devices -------------------------------------------------------------------

  /** Installs a device at a municipality's counter (`jpki counter device add`). */
  async addDevice(input: { municipality: string; name: string; uri: string }, actor: string): Promise<DeviceView> {
    const m = municipalityByCode(input.municipality);
    if (!m) throw new CounterError('COUNTER_REQUEST_INVALID', municipalityCodeProblem(input.municipality) ?? `no municipality with code ${JSON.stringify(input.municipality)}`, { field: 'municipality', problem: 'unknown' });
    input = { ...input, municipality: m.code };
    parseDeviceUri(input.uri);
    const name = String(input.name ?? '').trim();
    if (!name || name.length > 60) throw new CounterError('COUNTER_REQUEST_INVALID', 'a device needs a name of 1–60 characters', { field: 'name', problem: 'value' });
    return this.ctx.store.transaction(async (tx) => {
      const existing = await tx.counterRecords.devices(input.municipality);
      let n = existing.length + 1;
      while (existing.some((d) => d.id === `${input.municipality}-${n}`)) n++;
      const record: DeviceRecord = { id: `${input.municipality}-${n}`, municipality: input.municipality, name, uri: input.uri, createdAt: this.ctx.clock.now().getTime() };
      await tx.counterRecords.insertDevice(record);
      await tx.record({ actor, action: 'counter.device.add', target: `device:${record.id}`, details: { municipality: record.municipality, uri: record.uri } });
      return deviceView(record);
    });
  }

  async devices(operator: Operator | { municipality?: string }): Promise<DeviceView[]> {
    return (await this.ctx.store.counterRecords.devices(operator.municipality)).map(deviceView);
  }

  /** Whether a card is in the device and what state it is in (no PIN is used). */
  async deviceStatus(operator: Operator, id: string): Promise<DeviceStatus> {
    const d = await this.ctx.store.counterRecords.device(id);
    if (!d || d.municipality !== operator.municipality) throw new CounterError('COUNTER_DEVICE_NOT_FOUND', `no device ${id} at this counter`, { device: id });
    try {
      return await withCard(this.ctx.devices(d.uri), async (reader) => {
        const client = new JpkiClient(reader);
        const cardId = await client.readCardId();
        const state = await client.readCardState();
        return { ...deviceView(d), cardPresent: true, cardId, blank: !state.keys.sign && !state.keys.auth, state };
      });
    } catch (e) {
      if (e instanceof CounterError && e.code === 'COUNTER_DEVICE_NO_CARD') return { ...deviceView(d), cardPresent: false };
      const err = e as { code?: string; message?: string };
      return { ...deviceView(d), cardPresent: false, problem: { code: err.code ?? 'INTERNAL', message: err.message ?? String(e) } };
    }
  }
}

function deviceView(d: DeviceRecord): DeviceView {
  return { id: d.id, municipality: d.municipality, name: d.name, uri: d.uri };
}

export function createCounter(deps: CounterDependencies): Counter {
  return new Counter(deps);
}
