import type { CertificateReservation, SignedCertificate } from '../ca/certification-authorities.js';
import { isJpkiError, JpkiError } from '../common/errors.js';
import { CERTIFICATE_FILES, type CertificateFile } from '../card/index.js';
import { municipalityByCode, RegisterError, type Resident } from '../register/index.js';
import { JpkiClient } from '../reader/index.js';
import type { ApplicationRecord, CertificateRecord } from '../store/index.js';
import type { CounterTx } from './ports.js';
import {
  applicationInScope,
  applicationView,
  asJson,
  cardHolders,
  checkFormAgainstRegister,
  counterCardError,
  documentView,
  nextNumber,
  resolveDevice,
  residentInScope,
  withCard,
  type ApplicationView,
  type CounterContext,
  type DocumentView,
} from './context.js';
import { CounterError } from './errors.js';
import { certificateCopy, usageGuide, type CertificateCopy, type UsageGuide } from './handover.js';
import {
  checkNewPin,
  DeviceStepSchema,
  FeeSchema,
  OpenIssuanceSchema,
  parseInput,
  PhotoIdSchema,
  type DeviceStepInput,
  type OpenIssuanceInput,
  type PhotoId,
} from './inputs.js';
import { actorOf, type Operator } from './operators.js';
import type { SubmissionOutcome } from './submissions.js';

/** The issuance fee (guide §4(3)). */
export const ISSUANCE_FEE_YEN = 500;
/** How long one device session may hold an application. */
const DEVICE_LEASE_MS = 2 * 60_000;

export interface IssuedCertificate {
  kind: 'sign' | 'auth';
  caId: string;
  serial: string;
  notBefore: string;
  notAfter: string;
}

export interface IssuanceResult {
  application: ApplicationView;
  receipt: DocumentView;
  cardId: string;
  certificates: { sign: IssuedCertificate; auth: IssuedCertificate };
  /** Earlier live certificates of the resident revoked as superseded. */
  superseded: { caId: string; serial: string; kind: string }[];
}

export interface Handover {
  applicationNumber: string;
  resident: { id: string; name: string };
  receiptNumber: string | null;
  sign: CertificateCopy;
  auth: CertificateCopy;
}

/**
 * New issuance at the counter (guide §4(3)), a server-side workflow of four steps:
 *
 *   open (application form) → identity (photo ID) → fee (500 yen tendered) → device
 *
 * The device step is one card session: issuer authentication, both key pairs generated on the card, both
 * certificates prepared (signed, not stored) by the resident's prefectural CA, the certificates and the CA
 * certificate written to EF 0001/0002/000A/000B, the two PINs set — and then ONE transaction stores both
 * certificates, revokes the resident's earlier ones (superseded), completes the application and issues the
 * numbered receipt. Card work that fails leaves nothing stored: the signed certificates are discarded and
 * the card's certificate files erased. Each step is an idempotent submission.
 */
export class IssuanceWorkflow {
  constructor(private readonly ctx: CounterContext) {}

  async open(operator: Operator, raw: OpenIssuanceInput, key: string): Promise<SubmissionOutcome<ApplicationView>> {
    const input = parseInput(OpenIssuanceSchema, raw);
    const resident = await residentInScope(this.ctx, operator, input.residentId, 'issuance.open');
    assertLiving(resident);
    checkFormAgainstRegister(input.form, resident);
    return this.ctx.submissions.run(operator, key, 'issuance.open', input, async (seal) =>
      this.ctx.store.transaction(async (tx) => {
        const now = this.ctx.clock.now().getTime();
        const number = await nextNumber(tx, 'A', resident.municipality, now);
        const app = await tx.counterRecords.insertApplication({
          number,
          kind: 'issuance',
          municipality: resident.municipality,
          residentId: resident.id,
          operatorId: operator.id,
          status: 'open',
          step: 'identity',
          form: input.form,
          identityType: null,
          identityNumber: null,
          fee: 0,
          result: null,
          createdAt: now,
          updatedAt: now,
          completedAt: null,
        });
        await tx.record({ actor: actorOf(operator), action: 'counter.issuance.open', target: `application:${number}`, details: { residentId: resident.id } });
        const view = asJson(await applicationView(tx, app));
        await seal(tx, view);
        return view;
      }),
    );
  }

  async identity(operator: Operator, number: string, raw: PhotoId, key: string): Promise<SubmissionOutcome<ApplicationView>> {
    const id = parseInput(PhotoIdSchema, raw);
    await this.application(operator, number, 'issuance.identity');
    return this.advance(operator, number, key, 'issuance.identity', { identity: id }, 'identity', 'fee', { identityType: id.type, identityNumber: id.number });
  }

  async fee(operator: Operator, number: string, raw: { amount: number }, key: string): Promise<SubmissionOutcome<ApplicationView>> {
    const { amount } = parseInput(FeeSchema, raw);
    await this.application(operator, number, 'issuance.fee');
    if (amount !== ISSUANCE_FEE_YEN)
      throw new CounterError('COUNTER_FEE_INCORRECT', `the fee is ${ISSUANCE_FEE_YEN} yen, not ${amount}`, { expected: ISSUANCE_FEE_YEN, given: amount });
    return this.advance(operator, number, key, 'issuance.fee', { amount }, 'fee', 'device', { fee: amount });
  }

  async cancel(operator: Operator, number: string, key: string): Promise<SubmissionOutcome<ApplicationView>> {
    const app = await this.application(operator, number, 'issuance.cancel');
    if (app.status !== 'open') throw closed(app);
    return this.ctx.submissions.run(operator, key, 'issuance.cancel', { number }, async (seal) =>
      this.ctx.store.transaction(async (tx) => {
        if (!(await tx.counterRecords.cancel(app.id, this.ctx.clock.now().getTime()))) {
          const now = (await tx.counterRecords.applicationById(app.id))!;
          if (now.status !== 'open') throw closed(now);
          throw new CounterError('COUNTER_DEVICE_BUSY', `a device session for ${number} is running`, { number });
        }
        await tx.record({ actor: actorOf(operator), action: 'counter.issuance.cancel', target: `application:${number}`, details: {} });
        const view = asJson(await applicationView(tx, (await tx.counterRecords.applicationById(app.id))!));
        await seal(tx, view);
        return view;
      }),
    );
  }

  async get(operator: Operator, number: string): Promise<ApplicationView> {
    return applicationView(this.ctx.store, await this.application(operator, number, 'issuance.show'));
  }

  /** The device step: see the class comment for what happens and what is stored when. */
  async device(operator: Operator, number: string, raw: DeviceStepInput, key: string): Promise<SubmissionOutcome<IssuanceResult>> {
    const input = parseInput(DeviceStepSchema, raw);
    // Where the application stands is checked inside the submission: a replay of a completed step must
    // still get its first answer.
    const app = await this.application(operator, number, 'issuance.device');
    const resident = await residentInScope(this.ctx, operator, app.residentId, 'issuance.device');
    assertLiving(resident);
    checkFormAgainstRegister(app.form as OpenIssuanceInput['form'], resident);
    const signPin = checkNewPin('sign', input.signPin, 'signPin', resident.dateOfBirth);
    const authPin = checkNewPin('auth', input.authPin, 'authPin', resident.dateOfBirth);
    const device = await resolveDevice(this.ctx, operator, input.device);
    return this.ctx.submissions.run(operator, key, 'issuance.device', { number, device: input.device }, async (seal) => {
      const { store, clock } = this.ctx;
      if (!(await store.transaction((tx) => tx.counterRecords.leaseDevice(app.id, clock.now().getTime(), clock.now().getTime() + DEVICE_LEASE_MS)))) {
        const current = (await store.counterRecords.applicationById(app.id))!;
        if (current.status !== 'open') throw closed(current);
        if (current.step !== 'device') throw outOfOrder(current);
        throw new CounterError('COUNTER_DEVICE_BUSY', `a device session for ${number} is already running`, { number });
      }
      try {
        // Read again under the lease: the steps before may have completed since the first read.
        const leased = (await store.counterRecords.applicationById(app.id))!;
        return await withCard(device, (reader) => this.personalise(new JpkiClient(reader), operator, leased, resident, { signPin, authPin }, seal));
      } finally {
        await store.transaction((tx) => tx.counterRecords.releaseDevice(app.id)).catch(() => undefined);
      }
    });
  }

  private async personalise(
    client: JpkiClient,
    operator: Operator,
    app: ApplicationRecord,
    resident: Resident,
    pins: { signPin: string; authPin: string },
    seal: (tx: CounterTx, result: unknown) => Promise<void>,
  ): Promise<IssuanceResult> {
    const { ca, register, store } = this.ctx;
    const actor = actorOf(operator);
    const cardId = await client.readCardId();
    const holders = await cardHolders(this.ctx, cardId);
    if ([...holders].some((h) => h !== resident.id))
      throw new CounterError('COUNTER_CARD_OF_ANOTHER_RESIDENT', `card ${cardId} holds live certificates of another resident`, { cardId });
    try {
      await client.authenticateIssuer(this.ctx.cardIssuer);
    } catch (e) {
      throw counterCardError(e);
    }
    // From here on the card changes: any failure erases its certificate files, and the CA abandons (and,
    // when already signed, revokes) the two certificates it reserved.
    let stage = 'key-generation';
    const reserved: CertificateReservation[] = [];
    let delivered: SignedCertificate[] | undefined;
    try {
      const authKey = await client.generateKeyPair('auth');
      const signKey = await client.generateKeyPair('sign');
      stage = 'signing';
      const m = municipalityByCode(resident.municipality);
      const common = { prefecture: resident.prefecture, municipality: resident.municipality, residentId: resident.id, cardId, actor };
      // Record, then sign: both certificates are in the CA's ledger before its key signs either.
      reserved.push(await ca.reserve({ ...common, kind: 'sign', publicKey: { spki: signKey }, facts: register.facts(resident), ...(m ? { municipalityName: m.nameEn } : {}) }));
      reserved.push(await ca.reserve({ ...common, kind: 'auth', publicKey: { spki: authKey } }));
      const [sign, auth] = await Promise.all(reserved.map((r) => ca.sign(r)));
      const caCertificate = (await ca.get(sign!.caId)).certificate;
      stage = 'certificate-writing';
      const files: Record<CertificateFile, Uint8Array> = { sign: sign!.der, 'sign-ca': caCertificate, auth: auth!.der, 'auth-ca': caCertificate };
      for (const f of CERTIFICATE_FILES) await client.writeCertificate(f, files[f]);
      stage = 'pin-setting';
      await client.setInitialPins({ auth: pins.authPin, sign: pins.signPin });
      stage = 'recording';
      // One card, one live signing certificate: the CA confirms both and supersedes whatever the resident held.
      const { superseded } = await ca.confirm([sign!, auth!], { supersede: { residentId: resident.id }, actor });
      delivered = [sign!, auth!];
      return await store.transaction(async (tx) => {
        const result = await this.record(tx, operator, app, resident, cardId, sign!, auth!, superseded);
        await seal(tx, result);
        return result;
      });
    } catch (e) {
      await wipeCertificates(client);
      const why = `issuance ${app.number} stopped at ${stage}`;
      const undone = delivered
        ? ca.revokeAll(delivered.map((c) => ({ serial: c.serial, caId: c.caId, reason: 'cessationOfOperation', actor })))
        : ca.abandon(reserved, actor, why);
      const clean = await undone.then(
        () => true,
        () => false,
      );
      const outcome = clean
        ? "nothing was issued or charged: the certificates the CA had reserved are void (revoked if already signed), and the card's certificate files were erased"
        : "the card's certificate files were erased; the CA's sweeper revokes whatever was reserved for it";
      throw new CounterError(
        'COUNTER_ISSUANCE_ABORTED',
        `${why}: ${isJpkiError(e) || e instanceof Error ? e.message : String(e)}; ${outcome}`,
        { step: stage, number: app.number, ...(e instanceof JpkiError ? { cause: e.code } : {}) },
        { cause: e },
      );
    }
  }

  /** The counter's transaction of an issuance: the application completed, its receipt, the submission sealed. */
  private async record(
    tx: CounterTx,
    operator: Operator,
    app: ApplicationRecord,
    resident: Resident,
    cardId: string,
    sign: SignedCertificate,
    auth: SignedCertificate,
    superseded: readonly CertificateRecord[],
  ): Promise<IssuanceResult> {
    const { ca, clock } = this.ctx;
    const now = clock.now().getTime();
    const actor = actorOf(operator);
    const receiptNumber = await nextNumber(tx, 'R', app.municipality, now);
    const certificates = { sign: issued(sign), auth: issued(auth) };
    const completion = { receipt: receiptNumber, cardId, certificates, superseded: superseded.map((c) => ({ caId: c.caId, serial: c.serial, kind: c.kind })) };
    if (!(await tx.counterRecords.complete(app.id, completion, now))) throw closed((await tx.counterRecords.applicationById(app.id))!);
    const m = municipalityByCode(app.municipality);
    const receipt = {
      number: receiptNumber,
      type: 'receipt' as const,
      applicationId: app.id,
      municipality: app.municipality,
      residentId: resident.id,
      operatorId: operator.id,
      amount: app.fee,
      issuedAt: now,
      content: {
        title: '電子証明書発行手数料',
        titleEn: 'Electronic certificate issuance fee',
        applicationNumber: app.number,
        residentName: resident.name,
        amount: app.fee,
        municipalityName: m?.name ?? app.municipality,
        issuer: (await ca.get(sign.caId)).name,
        certificates: { sign: sign.serial, auth: auth.serial },
      },
    };
    await tx.counterRecords.insertDocument(receipt);
    await tx.record({
      actor,
      action: 'counter.issuance.complete',
      target: `application:${app.number}`,
      details: { residentId: resident.id, cardId, receipt: receiptNumber, fee: app.fee, sign: `${sign.caId}/${sign.serial}`, auth: `${auth.caId}/${auth.serial}`, superseded: completion.superseded.length },
    });
    const completed = (await tx.counterRecords.applicationById(app.id))!;
    return asJson({
      application: await applicationView(tx, completed),
      receipt: await documentView(tx, receipt),
      cardId,
      certificates,
      superseded: completion.superseded,
    });
  }

  /** The copy of both certificates and the data of the receipt, for printing at hand-over. */
  async certificateCopy(operator: Operator, number: string): Promise<Handover> {
    const { app, sign, auth } = await this.issuedCertificates(operator, number, 'issuance.certificate-copy');
    const resident = await this.ctx.register.get(app.residentId);
    const issuer = await this.ctx.ca.get(sign.caId);
    return {
      applicationNumber: app.number,
      resident: { id: resident.id, name: resident.name },
      receiptNumber: typeof app.result?.receipt === 'string' ? app.result.receipt : null,
      sign: certificateCopy(sign, issuer),
      auth: certificateCopy(auth, await this.ctx.ca.get(auth.caId)),
    };
  }

  /** The usage guide: fingerprints of the issuing prefectural CA and of the JPKI bridge CA. */
  async usageGuide(operator: Operator, number: string): Promise<UsageGuide & { applicationNumber: string }> {
    const { app, sign } = await this.issuedCertificates(operator, number, 'issuance.usage-guide');
    return { applicationNumber: app.number, ...(await usageGuide(this.ctx.ca, sign.caId, sign.notAfter, this.ctx.publicUrl)) };
  }

  private async issuedCertificates(operator: Operator, number: string, action: string) {
    const app = await this.application(operator, number, action);
    if (app.status !== 'completed' || !app.result)
      throw new CounterError('COUNTER_APPLICATION_NOT_COMPLETED', `application ${number} has issued nothing yet`, { number });
    const certs = app.result.certificates as { sign: IssuedCertificate; auth: IssuedCertificate };
    const [sign, auth] = await Promise.all([
      this.ctx.ca.findCertificate(certs.sign.serial, certs.sign.caId),
      this.ctx.ca.findCertificate(certs.auth.serial, certs.auth.caId),
    ]);
    return { app, sign, auth };
  }

  private async application(operator: Operator, number: string, action: string): Promise<ApplicationRecord> {
    const app = await applicationInScope(this.ctx, operator, number, action);
    if (app.kind !== 'issuance') throw new CounterError('COUNTER_APPLICATION_NOT_FOUND', `${number} is not an issuance application`, { number });
    return app;
  }

  private async advance(
    operator: Operator,
    number: string,
    key: string,
    action: string,
    request: unknown,
    from: 'identity' | 'fee',
    to: 'fee' | 'device',
    fields: { identityType?: string; identityNumber?: string; fee?: number },
  ): Promise<SubmissionOutcome<ApplicationView>> {
    return this.ctx.submissions.run(operator, key, action, { number, ...(request as object) }, async (seal) =>
      this.ctx.store.transaction(async (tx) => {
        const app = (await tx.counterRecords.application(number))!;
        if (app.status !== 'open') throw closed(app);
        if (app.step !== from) throw outOfOrder(app);
        if (!(await tx.counterRecords.advance(app.id, from, to, fields, this.ctx.clock.now().getTime()))) throw outOfOrder(app);
        await tx.record({ actor: actorOf(operator), action: `counter.${action}`, target: `application:${number}`, details: from === 'identity' ? { type: fields.identityType } : { fee: fields.fee } });
        const view = asJson(await applicationView(tx, (await tx.counterRecords.applicationById(app.id))!));
        await seal(tx, view);
        return view;
      }),
    );
  }
}

function issued(c: SignedCertificate): IssuedCertificate {
  return { kind: c.kind as 'sign' | 'auth', caId: c.caId, serial: c.serial, notBefore: c.notBefore.toISOString(), notAfter: c.notAfter.toISOString() };
}

function assertLiving(r: Resident): void {
  if (r.status === 'deceased') throw new RegisterError('RESIDENT_DECEASED', `resident ${r.id} has died; no certificate can be issued`, { residentId: r.id });
}

function closed(app: ApplicationRecord): CounterError {
  return new CounterError('COUNTER_APPLICATION_CLOSED', `application ${app.number} is ${app.status}`, { number: app.number, status: app.status });
}

function outOfOrder(app: ApplicationRecord): CounterError {
  return new CounterError('COUNTER_STEP_OUT_OF_ORDER', `application ${app.number} is at the step ${app.step}`, { number: app.number, step: app.step });
}

/** Best effort after a failed session: a certificate nobody recorded must not stay on the card. */
async function wipeCertificates(client: JpkiClient): Promise<void> {
  for (const f of CERTIFICATE_FILES) await client.eraseCertificate(f).catch(() => undefined);
}
