import type { RevokedByChange } from '../ca/register-events.js';
import type { CorrectionInput, DeathInput, MoveInput, RenameInput, ResidentChange } from '../register/index.js';
import { assertSupervisor, residentInScope, residentView, type CounterContext, type ResidentView } from './context.js';
import { actorOf, type Operator } from './operators.js';

export { revocationFor, type RevokedByChange } from '../ca/register-events.js';

export interface RegisterChangeResult {
  resident: ResidentView;
  event: { type: string; version: number; effectiveOn: string; changedFacts: string[]; moveScope?: string };
  revoked: RevokedByChange[];
}

/**
 * Register changes recorded at the counter. The register records the change and its event in its own
 * transaction; the CA, following the register's events, revokes what the change invalidates
 * (ca/register-events.ts) — the counter only waits for that to happen and reports it. Through the API only a
 * supervisor of the resident's municipality may record a change; the CLI acts as `cli`.
 */
export class RegisterChanges {
  constructor(private readonly ctx: CounterContext) {}

  move(by: Operator | string, residentId: string, input: MoveInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'move', (actor) => this.ctx.register.move(residentId, input, actor));
  }

  rename(by: Operator | string, residentId: string, input: RenameInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'rename', (actor) => this.ctx.register.rename(residentId, input, actor));
  }

  correct(by: Operator | string, residentId: string, input: CorrectionInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'correction', (actor) => this.ctx.register.correct(residentId, input, actor));
  }

  death(by: Operator | string, residentId: string, input: DeathInput): Promise<RegisterChangeResult> {
    return this.change(by, residentId, 'death', (actor) => this.ctx.register.death(residentId, input, actor));
  }

  private async change(by: Operator | string, residentId: string, what: string, run: (actor: string) => Promise<ResidentChange>): Promise<RegisterChangeResult> {
    if (typeof by !== 'string') {
      await residentInScope(this.ctx, by, residentId, `register.${what}`);
      await assertSupervisor(this.ctx, by, `register.${what}`);
    }
    const change = await run(typeof by === 'string' ? by : actorOf(by));
    const outcome = await this.ctx.registerEvents.settle(change.eventId);
    return {
      resident: residentView(change.after),
      event: {
        type: change.type,
        version: change.after.version,
        effectiveOn: change.effectiveOn,
        changedFacts: [...change.changedFacts],
        ...(change.moveScope ? { moveScope: change.moveScope } : {}),
      },
      revoked: outcome?.revoked ?? [],
    };
  }
}
