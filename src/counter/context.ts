import type { Clock } from '../common/clock.js';
import { isLiveResidentCertificate } from '../ca/certification-authorities.js';
import { encodeDateOfBirth, formatDateOfBirth } from '../pki/era.js';
import { prefectureByCode } from '../pki/prefectures.js';
import { municipalityByCode, normaliseName, type Resident } from '../register/index.js';
import {
  IssuerAuthenticationFailedError,
  IssuerLockedError,
  PinBlockedError,
  PinIncorrectError,
  type Reader,
} from '../reader/index.js';
import type { ApplicationKind, ApplicationRecord, CertificateRecord, DocumentRecord } from '../store/index.js';
import type { DeviceFactory, KeyPairGenerationDevice } from './devices.js';
import { CounterError } from './errors.js';
import type { ApplicationForm, DeviceRef, PhotoId } from './inputs.js';
import { actorOf, type Operator } from './operators.js';
import type { CardIssuer, CounterCa, CounterRegister, CounterStore, CounterTx, RegisterEventSettlement } from './ports.js';
import type { Submissions } from './submissions.js';

/** What every counter workflow works with (the composition root fills it in from counter/ports.ts). */
export interface CounterContext {
  store: CounterStore;
  clock: Clock;
  ca: CounterCa;
  register: CounterRegister;
  /** The CA's handling of register events (a change's revocations). */
  registerEvents: RegisterEventSettlement;
  submissions: Submissions;
  devices: DeviceFactory;
  /** The card issuer: its master secret stays in the key store; it only answers card challenges. */
  cardIssuer: CardIssuer;
  /** The portal's public base URL, for the usage guide. */
  publicUrl: string;
}

// ---- scope: the one rule of the counter ------------------------------------------------------------------

/**
 * An operator acts only within their own municipality. A refusal is audited (in its own transaction, since
 * the action's own one never starts) and answered with COUNTER_OUT_OF_SCOPE.
 */
export async function assertInScope(ctx: Pick<CounterContext, 'store'>, operator: Operator, target: { municipality: string; ref: string }, action: string): Promise<void> {
  if (target.municipality === operator.municipality) return;
  await ctx.store.transaction((tx) =>
    tx.record({
      actor: actorOf(operator),
      action: 'counter.refused',
      target: target.ref,
      details: { reason: 'out-of-scope', attempted: action, municipality: target.municipality, operatorMunicipality: operator.municipality },
    }),
  );
  throw new CounterError('COUNTER_OUT_OF_SCOPE', `${target.ref} belongs to municipality ${target.municipality}, not to ${operator.municipality} where ${operator.name} works`, {
    municipality: target.municipality,
    operatorMunicipality: operator.municipality,
  });
}

export async function assertSupervisor(ctx: Pick<CounterContext, 'store'>, operator: Operator, action: string): Promise<void> {
  if (operator.role === 'supervisor') return;
  await ctx.store.transaction((tx) =>
    tx.record({ actor: actorOf(operator), action: 'counter.refused', target: `operator:${operator.name}`, details: { reason: 'supervisor-only', attempted: action } }),
  );
  throw new CounterError('COUNTER_SUPERVISOR_ONLY', `only a supervisor may do this (${action})`, { action });
}

/** The resident, checked to be the operator's to serve. */
export async function residentInScope(ctx: CounterContext, operator: Operator, residentId: string, action: string): Promise<Resident> {
  const r = await ctx.register.get(residentId);
  await assertInScope(ctx, operator, { municipality: r.municipality, ref: `resident:${r.id}` }, action);
  return r;
}

export async function applicationInScope(ctx: CounterContext, operator: Operator, number: string, action: string, sql: Pick<CounterTx, 'counterRecords'> = ctx.store): Promise<ApplicationRecord> {
  const a = await sql.counterRecords.application(number);
  if (!a) throw new CounterError('COUNTER_APPLICATION_NOT_FOUND', `no application numbered ${JSON.stringify(number)}`, { number });
  await assertInScope(ctx, operator, { municipality: a.municipality, ref: `application:${a.number}` }, action);
  return a;
}

// ---- the application form --------------------------------------------------------------------------

/** The form must say what the register says: otherwise the person may not be who they claim, or a typo. */
export function checkFormAgainstRegister(form: ApplicationForm, r: Resident): void {
  const compact = (s: string) => s.normalize('NFC').replace(/[\s\u3000]+/g, '');
  const mismatch = (field: string) => new CounterError('COUNTER_FORM_MISMATCH', `the form's ${field} does not match the resident register`, { field });
  if (normaliseName(form.name) !== r.name) throw mismatch('name');
  if (form.dateOfBirth !== r.dateOfBirth) throw mismatch('dateOfBirth');
  if (compact(form.address) !== compact(r.address)) throw mismatch('address');
}

/** The form as the register has it (the CLI fills it in for the operator, who confirms with the resident). */
export function formFromRegister(r: Resident): ApplicationForm {
  return { name: r.name, dateOfBirth: r.dateOfBirth, address: r.address };
}

// ---- devices and cards -----------------------------------------------------------------------------

export async function resolveDevice(ctx: CounterContext, operator: Operator, ref: DeviceRef): Promise<KeyPairGenerationDevice> {
  if ('uri' in ref) return ctx.devices(ref.uri);
  const d = await ctx.store.counterRecords.device(ref.id);
  // Another municipality's device is "not here", not "forbidden": a counter sees only its own devices.
  if (!d || d.municipality !== operator.municipality) throw new CounterError('COUNTER_DEVICE_NOT_FOUND', `no device ${ref.id} at this counter`, { device: ref.id });
  return ctx.devices(d.uri);
}

/** Runs a card session and always takes the card out of the reader afterwards. */
export async function withCard<T>(device: KeyPairGenerationDevice, fn: (reader: Reader) => Promise<T>): Promise<T> {
  const reader = await device.connect();
  try {
    return await fn(reader);
  } finally {
    await reader.close().catch(() => undefined);
  }
}

/** Card answers the counter words in its own terms (a wrong PIN is not a failed login: no 401). */
export function counterCardError(e: unknown): unknown {
  if (e instanceof PinIncorrectError)
    return new CounterError('COUNTER_PIN_INCORRECT', e.message, { pin: e.pin, triesLeft: e.triesLeft }, { cause: e });
  if (e instanceof PinBlockedError) return new CounterError('COUNTER_PIN_LOCKED', e.message, { pin: e.pin }, { cause: e });
  if (e instanceof IssuerAuthenticationFailedError || e instanceof IssuerLockedError)
    return new CounterError('COUNTER_CARD_ISSUER_REFUSED', `the card refuses this installation's issuer key: ${e.message}`, {}, { cause: e });
  return e;
}

/** Whose card it is: the residents with live certificates on it. */
export async function cardHolders(ctx: CounterContext, cardId: string): Promise<Set<string>> {
  const live = await ctx.ca.liveOnCard(cardId);
  return new Set(live.map((c) => c.residentId).filter((r): r is string => r !== null));
}

// ---- numbers and views -----------------------------------------------------------------------------

/** Japan's calendar year of an instant (numbers restart each year). */
function japanYear(at: number): string {
  return new Date(at + 9 * 3600_000).toISOString().slice(0, 4);
}

/** A–application, R–receipt, N–notice: `R-13103-2026-000001`, gapless per municipality and year. */
export async function nextNumber(tx: Pick<CounterTx, 'counterRecords'>, series: 'A' | 'R' | 'N', municipality: string, at: number): Promise<string> {
  const year = japanYear(at);
  const n = await tx.counterRecords.nextNumber(`${municipality}:${series}:${year}`);
  return `${series}-${municipality}-${year}-${String(n).padStart(6, '0')}`;
}

/**
 * A counter application completed in one step (revocation, PIN services), with its numbered notice of
 * acceptance: both written in the caller's transaction. `noticeContent` gets the application's number.
 */
export async function completeWithNotice(
  tx: CounterTx,
  a: { kind: ApplicationKind; resident: Resident; operator: Operator; form: Record<string, unknown>; identity: PhotoId; result: unknown; at: number },
  noticeContent: (applicationNumber: string) => Record<string, unknown>,
): Promise<{ application: ApplicationRecord; notice: DocumentRecord }> {
  const { resident, operator, at } = a;
  const applicationNumber = await nextNumber(tx, 'A', resident.municipality, at);
  // the notice's number is in the application's result too: the resident's page links the notice
  const noticeNumber = await nextNumber(tx, 'N', resident.municipality, at);
  const application = await tx.counterRecords.insertApplication({
    number: applicationNumber,
    kind: a.kind,
    municipality: resident.municipality,
    residentId: resident.id,
    operatorId: operator.id,
    status: 'completed',
    step: 'done',
    form: a.form as ApplicationRecord['form'],
    identityType: a.identity.type,
    identityNumber: a.identity.number,
    fee: 0,
    result: { ...(a.result as Record<string, unknown>), notice: noticeNumber } as ApplicationRecord['result'],
    createdAt: at,
    updatedAt: at,
    completedAt: at,
  });
  const notice: DocumentRecord = {
    number: noticeNumber,
    type: 'notice',
    applicationId: application.id,
    municipality: resident.municipality,
    residentId: resident.id,
    operatorId: operator.id,
    amount: 0,
    issuedAt: at,
    content: noticeContent(application.number) as DocumentRecord['content'],
  };
  await tx.counterRecords.insertDocument(notice);
  return { application, notice };
}

export function maskIdentityNumber(n: string | null): string | null {
  if (n === null) return null;
  return n.length <= 4 ? '*'.repeat(n.length) : `${'*'.repeat(n.length - 4)}${n.slice(-4)}`;
}

export interface ResidentView {
  id: string;
  recordCode: string;
  name: string;
  nameSubstitute: string;
  address: string;
  addressSubstitute: string;
  dateOfBirth: string;
  /** 昭和52年11月7日 */
  dateOfBirthJa: string;
  sex: string;
  municipality: string;
  municipalityName: string;
  municipalityNameEn: string;
  prefecture: string;
  prefectureName: string;
  status: string;
  version: number;
}

export function residentView(r: Resident): ResidentView {
  const m = municipalityByCode(r.municipality);
  return {
    id: r.id,
    recordCode: r.recordCode,
    name: r.name,
    nameSubstitute: r.nameSubstitute,
    address: r.address,
    addressSubstitute: r.addressSubstitute,
    dateOfBirth: r.dateOfBirth,
    dateOfBirthJa: formatDateOfBirth(encodeDateOfBirth(r.dateOfBirth)) ?? r.dateOfBirth,
    sex: r.sex,
    municipality: r.municipality,
    municipalityName: m?.name ?? r.municipality,
    municipalityNameEn: m?.nameEn ?? r.municipality,
    prefecture: r.prefecture,
    prefectureName: prefectureByCode(r.prefecture)?.name ?? r.prefecture,
    status: r.status,
    version: r.version,
  };
}

export interface CertificateSummary {
  kind: string;
  caId: string;
  serial: string;
  cardId: string | null;
  notBefore: string;
  notAfter: string;
  status: 'live' | 'revoked' | 'expired';
  revokedAt: string | null;
  revocationReason: number | null;
}

export function certificateSummary(c: CertificateRecord, now: number): CertificateSummary {
  return {
    kind: c.kind,
    caId: c.caId,
    serial: c.serial,
    cardId: c.cardId,
    notBefore: new Date(c.notBefore).toISOString(),
    notAfter: new Date(c.notAfter).toISOString(),
    status: c.revokedAt !== null ? 'revoked' : c.notAfter <= now ? 'expired' : 'live',
    revokedAt: c.revokedAt === null ? null : new Date(c.revokedAt).toISOString(),
    revocationReason: c.revocationReason,
  };
}

export const isLive = isLiveResidentCertificate;

export interface DocumentView {
  number: string;
  type: string;
  applicationNumber: string;
  municipality: string;
  municipalityName: string;
  residentId: string;
  operator: string;
  amount: number;
  issuedAt: string;
  content: Record<string, unknown>;
}

export async function documentView(sql: Pick<CounterTx, 'counterRecords' | 'operators'>, d: DocumentRecord): Promise<DocumentView> {
  const app = await sql.counterRecords.applicationById(d.applicationId);
  const op = await sql.operators.get(d.operatorId);
  return {
    number: d.number,
    type: d.type,
    applicationNumber: app?.number ?? '',
    municipality: d.municipality,
    municipalityName: municipalityByCode(d.municipality)?.name ?? d.municipality,
    residentId: d.residentId,
    operator: op?.name ?? d.operatorId,
    amount: d.amount,
    issuedAt: new Date(d.issuedAt).toISOString(),
    content: d.content,
  };
}

export interface ApplicationView {
  number: string;
  kind: string;
  status: string;
  step: string;
  municipality: string;
  residentId: string;
  operator: string;
  form: Record<string, unknown>;
  identity: { type: string; number: string | null } | null;
  fee: number;
  result: Record<string, unknown> | null;
  createdAt: string;
  completedAt: string | null;
}

export async function applicationView(sql: Pick<CounterTx, 'operators'>, a: ApplicationRecord): Promise<ApplicationView> {
  const op = await sql.operators.get(a.operatorId);
  return {
    number: a.number,
    kind: a.kind,
    status: a.status,
    step: a.step,
    municipality: a.municipality,
    residentId: a.residentId,
    operator: op?.name ?? a.operatorId,
    form: a.form,
    identity: a.identityType === null ? null : { type: a.identityType, number: maskIdentityNumber(a.identityNumber) },
    fee: a.fee,
    result: a.result,
    createdAt: new Date(a.createdAt).toISOString(),
    completedAt: a.completedAt === null ? null : new Date(a.completedAt).toISOString(),
  };
}

/** JSON round trip: what a first request returns is exactly what a replay returns. */
export function asJson<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
