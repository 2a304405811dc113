import { municipalityByCode } from '../register/index.js';
import { JpkiClient, type PinStatus } from '../reader/index.js';
import type { PinName } from '../card/index.js';
import {
  applicationView,
  asJson,
  cardHolders,
  checkFormAgainstRegister,
  counterCardError,
  documentView,
  completeWithNotice,
  resolveDevice,
  residentInScope,
  withCard,
  type ApplicationView,
  type CounterContext,
  type DocumentView,
} from './context.js';
import { CounterError } from './errors.js';
import { checkNewPin, parseInput, PinChangeSchema, PinResetSchema, type PinChangeInput, type PinResetInput } from './inputs.js';
import { actorOf, type Operator } from './operators.js';
import type { SubmissionOutcome } from './submissions.js';

export type PinService = 'pin-change' | 'pin-reset' | 'pin-unlock';

export interface PinServiceResult {
  application: ApplicationView;
  notice: DocumentView;
  cardId: string;
  pin: PinName;
  /** The PIN's counter after the service (full after a reset or a lock release). */
  status: PinStatus;
}

const TITLES: Record<PinService, { ja: string; en: string }> = {
  'pin-change': { ja: 'パスワード変更申請受付通知書', en: 'Notice: PIN change application' },
  'pin-reset': { ja: 'パスワード初期化申請受付通知書', en: 'Notice: PIN initialisation application' },
  'pin-unlock': { ja: 'パスワードロック解除申請受付通知書', en: 'Notice: PIN lock-release application' },
};

/**
 * PIN services at the key-pair generation device (guide §4(6), (7)), each an application with the photo ID
 * shown, done on the resident's own card (the card must hold a live certificate of theirs):
 * - change: the resident enters the current PIN and a new one (the card's own CHANGE REFERENCE DATA);
 * - initialisation of a forgotten PIN: the issuer interface sets a new PIN with a full counter;
 * - lock release after 5 wrong entries: only for a locked PIN, through the issuer interface, with a new PIN
 *   (jpki-profile.md §3: the release comes with initialisation).
 * The card is changed first; then one transaction records the application, the notice and the audit record.
 */
export class PinServices {
  constructor(private readonly ctx: CounterContext) {}

  change(operator: Operator, raw: PinChangeInput, key: string): Promise<SubmissionOutcome<PinServiceResult>> {
    const input = parseInput(PinChangeSchema, raw);
    return this.run(operator, 'pin-change', input, key, async (client, pin, newPin) => {
      await client.selectAp();
      await client.changePin(pin, input.currentPin, newPin);
    });
  }

  reset(operator: Operator, raw: PinResetInput, key: string): Promise<SubmissionOutcome<PinServiceResult>> {
    const input = parseInput(PinResetSchema, raw);
    return this.run(operator, 'pin-reset', input, key, async (client, pin, newPin) => {
      await client.authenticateIssuer(this.ctx.cardIssuer);
      await client.resetPin(pin, newPin);
    });
  }

  unlock(operator: Operator, raw: PinResetInput, key: string): Promise<SubmissionOutcome<PinServiceResult>> {
    const input = parseInput(PinResetSchema, raw);
    return this.run(operator, 'pin-unlock', input, key, async (client, pin, newPin) => {
      await client.authenticateIssuer(this.ctx.cardIssuer);
      if (!(await client.pinStatus(pin)).blocked) throw new CounterError('COUNTER_PIN_NOT_LOCKED', `the ${pin} PIN is not locked`, { pin });
      await client.unlockPin(pin, newPin);
    });
  }

  private async run(
    operator: Operator,
    service: PinService,
    input: PinResetInput,
    key: string,
    onCard: (client: JpkiClient, pin: PinName, newPin: string) => Promise<void>,
  ): Promise<SubmissionOutcome<PinServiceResult>> {
    const resident = await residentInScope(this.ctx, operator, input.residentId, service);
    checkFormAgainstRegister(input.form, resident);
    const newPin = checkNewPin(input.pin, input.newPin, 'newPin', resident.dateOfBirth);
    const device = await resolveDevice(this.ctx, operator, input.device);
    const { newPin: _n, currentPin: _c, ...request } = input as PinChangeInput;
    return this.ctx.submissions.run(operator, key, service, request, async (seal) => {
      const { cardId, status } = await withCard(device, async (reader) => {
        const client = new JpkiClient(reader);
        const cardId = await client.readCardId();
        const holders = await cardHolders(this.ctx, cardId);
        if ([...holders].some((h) => h !== resident.id))
          throw new CounterError('COUNTER_CARD_OF_ANOTHER_RESIDENT', `card ${cardId} holds live certificates of another resident`, { cardId });
        if (!holders.has(resident.id)) throw new CounterError('COUNTER_CARD_NOT_RESIDENTS', `card ${cardId} holds no live certificate of resident ${resident.id}`, { cardId });
        try {
          await onCard(client, input.pin, newPin);
          await client.selectAp();
          return { cardId, status: await client.pinStatus(input.pin) };
        } catch (e) {
          throw counterCardError(e);
        }
      });
      return this.ctx.store.transaction(async (tx) => {
        const now = this.ctx.clock.now().getTime();
        const { application, notice } = await completeWithNotice(
          tx,
          { kind: service, resident, operator, form: { ...input.form, pin: input.pin }, identity: input.identity, result: { cardId, pin: input.pin }, at: now },
          (applicationNumber) => ({
            title: TITLES[service].ja,
            titleEn: TITLES[service].en,
            service,
            applicationNumber,
            residentName: resident.name,
            municipalityName: municipalityByCode(resident.municipality)?.name ?? resident.municipality,
            pin: input.pin,
            cardId,
          }),
        );
        await tx.record({ actor: actorOf(operator), action: `counter.${service}`, target: `application:${application.number}`, details: { residentId: resident.id, cardId, pin: input.pin, notice: notice.number } });
        const result = asJson({ application: await applicationView(tx, application), notice: await documentView(tx, notice), cardId, pin: input.pin, status });
        await seal(tx, result);
        return result;
      });
    });
  }
}
