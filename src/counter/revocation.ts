import { REVOCATION_REASONS, type RevocationReasonName } from '../ca/revocation-reasons.js';
import type { Resident } from '../register/index.js';
import { municipalityByCode } from '../register/index.js';
import {
  applicationView,
  asJson,
  checkFormAgainstRegister,
  documentView,
  isLive,
  completeWithNotice,
  residentInScope,
  type ApplicationView,
  type CounterContext,
  type DocumentView,
} from './context.js';
import { CounterError } from './errors.js';
import { parseInput, RevocationSchema, type CounterRevocationReason, type RevocationInput } from './inputs.js';
import { actorOf, type Operator } from './operators.js';
import type { SubmissionOutcome } from './submissions.js';

/**
 * The reasons of the revocation application / private-key compromise report (guide §4(4)) as CRL reason
 * codes (jpki-profile.md §1.5):
 * - lost, stolen, misuse (or suspected misuse): the private key may be in someone else's hands → keyCompromise;
 * - broken: the card no longer works; nothing suggests the key left it, and the holder stops using the
 *   certificate → cessationOfOperation (not keyCompromise, which would tell relying parties that signatures
 *   made before the break are suspect);
 * - unneeded: the holder asks to stop → cessationOfOperation.
 */
export const COUNTER_REASON_CRL: Record<CounterRevocationReason, RevocationReasonName> = {
  lost: 'keyCompromise',
  stolen: 'keyCompromise',
  misuse: 'keyCompromise',
  broken: 'cessationOfOperation',
  unneeded: 'cessationOfOperation',
};

export interface CounterRevocationResult {
  application: ApplicationView;
  notice: DocumentView;
  revoked: { kind: string; caId: string; serial: string; reason: RevocationReasonName; reasonCode: number }[];
}

/**
 * Revocation at the counter (guide §4(4)A): the application with its reason and the photo ID shown, the
 * card taken back when the resident brings it, the certificates revoked by the CA, and a numbered notice of
 * acceptance (受理通知書) recorded by the counter.
 */
export class RevocationDesk {
  constructor(private readonly ctx: CounterContext) {}

  async revoke(operator: Operator, raw: RevocationInput, key: string): Promise<SubmissionOutcome<CounterRevocationResult>> {
    const input = parseInput(RevocationSchema, raw);
    const resident = await residentInScope(this.ctx, operator, input.residentId, 'revocation');
    checkFormAgainstRegister(input.form, resident);
    const kinds = new Set(input.certificates ?? ['sign', 'auth']);
    const crlReason = COUNTER_REASON_CRL[input.reason];
    const request = { ...input, certificates: [...kinds].sort() };
    return this.ctx.submissions.run(operator, key, 'revocation', request, async (seal) => {
      const now = this.ctx.clock.now().getTime();
      const actor = actorOf(operator);
      const live = (await this.ctx.ca.certificatesOf(resident.id)).filter((c) => isLive(c, now) && kinds.has(c.kind as 'sign' | 'auth'));
      if (live.length === 0) throw new CounterError('COUNTER_NOTHING_TO_REVOKE', `resident ${resident.id} has no live certificate to revoke`, { residentId: resident.id });
      // The CA revokes in a transaction of its own (all or none), then the counter records the application
      // and its notice in its own: a crash between leaves the certificates revoked, the safe side.
      await this.ctx.ca.revokeAll(live.map((c) => ({ serial: c.serial, caId: c.caId, reason: crlReason, actor })));
      const revoked: CounterRevocationResult['revoked'] = live.map((c) => ({ kind: c.kind, caId: c.caId, serial: c.serial, reason: crlReason, reasonCode: REVOCATION_REASONS[crlReason].code }));
      return this.ctx.store.transaction(async (tx) => {
        const cards = [...new Set(live.map((c) => c.cardId).filter((c): c is string => c !== null))];
        const { application, notice } = await completeWithNotice(
          tx,
          {
            kind: 'revocation',
            resident,
            operator,
            form: { ...input.form, reason: input.reason, cardTakenBack: input.cardTakenBack, certificates: [...kinds] },
            identity: input.identity,
            result: { revoked, cards },
            at: now,
          },
          (applicationNumber) => noticeContent(resident, applicationNumber, input.reason, crlReason, revoked, input.cardTakenBack, cards),
        );
        await tx.record({
          actor,
          action: 'counter.revocation',
          target: `application:${application.number}`,
          details: { residentId: resident.id, reason: input.reason, crlReason, revoked: revoked.map((r) => `${r.caId}/${r.serial}`), cardTakenBack: input.cardTakenBack, notice: notice.number },
        });
        const result = asJson({ application: await applicationView(tx, application), notice: await documentView(tx, notice), revoked });
        await seal(tx, result);
        return result;
      });
    });
  }
}

function noticeContent(
  r: Resident,
  applicationNumber: string,
  reason: CounterRevocationReason,
  crlReason: RevocationReasonName,
  revoked: CounterRevocationResult['revoked'],
  cardTakenBack: boolean,
  cards: string[],
): Record<string, unknown> {
  return {
    title: '電子証明書失効申請等受理通知書',
    titleEn: 'Notice of acceptance: revocation application / private-key compromise report',
    applicationNumber,
    residentName: r.name,
    municipalityName: municipalityByCode(r.municipality)?.name ?? r.municipality,
    reason,
    crlReason,
    revoked,
    cardTakenBack,
    cards,
  };
}
