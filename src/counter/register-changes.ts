import { REVOCATION_REASONS, type RevocationReasonName } from '../ca/revocation-reasons.js';
import type { CorrectionInput, DeathInput, MoveInput, RenameInput, ResidentChange } from '../register/index.js';
import type { Repositories } from '../store/index.js';
import { assertSupervisor, isLive, residentInScope, residentView, type CounterContext, type ResidentView } from './context.js';
import { actorOf, type Operator } from './operators.js';

export interface RevokedByChange {
  kind: string;
  caId: string;
  serial: string;
  reason: RevocationReasonName;
  reasonCode: number;
}

export interface RegisterChangeResult {
  resident: ResidentView;
  event: { type: string; version: number; effectiveOn: string; changedFacts: string[]; moveScope?: string };
  revoked: RevokedByChange[];
}

/**
 * What a register event means for the resident's certificates (jpki-profile.md §1.4, §1.5): a change of any
 * certified fact (name, address, date of birth, sex, or their substitute flags) ends the SIGNING
 * certificate, reason affiliationChanged; the user-authentication certificate carries no facts and
 * survives a move or a name change. Death ends both, reason cessationOfOperation.
 */
export function revocationFor(change: ResidentChange): { kinds: ('sign' | 'auth')[]; reason: RevocationReasonName } | null {
  if (change.type === 'death') return { kinds: ['sign', 'auth'], reason: 'cessationOfOperation' };
  if (change.changedFacts.length > 0) return { kinds: ['sign'], reason: 'affiliationChanged' };
  return null;
}

/**
 * Register changes with their automatic certificate revocation, in one transaction: the event and the
 * revocations commit together or not at all (the register itself knows nothing of certificates). Through
 * the API only a supervisor of the resident's municipality may record them; the CLI acts as `cli`.
 */
export class RegisterChanges {
  constructor(private readonly ctx: CounterContext) {}

  move(by: Operator | string, residentId: string, input: MoveInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'move', (tx, actor, then) => this.ctx.register.moveIn(tx, residentId, input, actor, then));
  }

  rename(by: Operator | string, residentId: string, input: RenameInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'rename', (tx, actor, then) => this.ctx.register.renameIn(tx, residentId, input, actor, then));
  }

  correct(by: Operator | string, residentId: string, input: CorrectionInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'correction', (tx, actor, then) => this.ctx.register.correctIn(tx, residentId, input, actor, then));
  }

  death(by: Operator | string, residentId: string, input: DeathInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'death', (tx, actor, then) => this.ctx.register.deathIn(tx, residentId, input, actor, then));
  }

  private async change(
    by: Operator | string,
    residentId: string,
    what: string,
    run: (tx: Repositories, actor: string, then: (tx: Repositories, change: ResidentChange) => Promise<Record<string, unknown>>) => Promise<ResidentChange>,
  ): Promise<RegisterChangeResult> {
    if (typeof by !== 'string') {
      await residentInScope(this.ctx, by, residentId, `register.${what}`);
      await assertSupervisor(this.ctx, by, `register.${what}`);
    }
    const actor = typeof by === 'string' ? by : actorOf(by);
    const revoked: RevokedByChange[] = [];
    const change = await this.ctx.store.transaction((tx) =>
      run(tx, actor, async (tx2, c) => {
        const rule = revocationFor(c);
        if (!rule) return { revoked: [] };
        const now = this.ctx.clock.now().getTime();
        for (const cert of await tx2.certificates.byResident(c.before.id)) {
          if (!isLive(cert, now) || !rule.kinds.includes(cert.kind as 'sign' | 'auth')) continue;
          await this.ctx.ca.revokeIn(tx2, { serial: cert.serial, caId: cert.caId, reason: rule.reason, actor });
          revoked.push({ kind: cert.kind, caId: cert.caId, serial: cert.serial, reason: rule.reason, reasonCode: REVOCATION_REASONS[rule.reason].code });
        }
        return { revoked: revoked.map((r) => `${r.caId}/${r.serial}`) };
      }),
    );
    return {
      resident: residentView(change.after),
      event: {
        type: change.type,
        version: change.after.version,
        effectiveOn: change.effectiveOn,
        changedFacts: [...change.changedFacts],
        ...(change.moveScope ? { moveScope: change.moveScope } : {}),
      },
      revoked,
    };
  }
}
