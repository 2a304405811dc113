import type { Clock } from '../common/clock.js';
import type { RegisterEventOutcome } from '../store/index.js';
import type { CertificationAuthorities } from './certification-authorities.js';
import { isLiveResidentCertificate } from './certification-authorities.js';
import type { CaStore, RegisterEvent, RegisterEventSource } from './ports.js';
import { REVOCATION_REASONS, type RevocationReasonName } from './revocation-reasons.js';

/**
 * What a register event means for the resident's certificates (jpki-profile.md §1.4, §1.5): a change of any
 * certified fact (name, address, date of birth, sex, or their substitute flags) ends the SIGNING
 * certificate, reason affiliationChanged; the user-authentication certificate carries no facts and
 * survives a move or a name change. Death ends both, reason cessationOfOperation.
 */
export function revocationFor(change: Pick<RegisterEvent, 'type' | 'changedFacts'>): { kinds: ('sign' | 'auth')[]; reason: RevocationReasonName } | null {
  if (change.type === 'death') return { kinds: ['sign', 'auth'], reason: 'cessationOfOperation' };
  if (change.changedFacts.length > 0) return { kinds: ['sign'], reason: 'affiliationChanged' };
  return null;
}

export type RevokedByChange = RegisterEventOutcome['revoked'][number];

export interface RegisterEventHandlerDeps {
  store: CaStore;
  events: RegisterEventSource;
  authorities: Pick<CertificationAuthorities, 'revokeWithin'>;
  clock: Clock;
  onError?: (e: unknown) => void;
}

const BATCH = 200;

/**
 * The CA side of the register's change events (the register's outbox): each event is handled exactly once,
 * in order, in a transaction of the CA's that revokes what the change invalidates and records the outcome.
 * The register never calls into the counter or the CA; a change committed by any process is handled by the
 * next `settle()` (the counter calls it right after a change, `jpki serve` on every commit and each second).
 */
export class RegisterEventHandler {
  private queue: Promise<unknown> = Promise.resolve();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly deps: RegisterEventHandlerDeps) {}

  /** Handles every pending event; resolves to the outcome of `eventId` when given. */
  settle(eventId?: number): Promise<RegisterEventOutcome | undefined> {
    const run = async () => {
      await this.handlePending();
      return eventId === undefined ? undefined : this.deps.store.registerEventOutcomes.get(eventId);
    };
    const p = this.queue.then(run, run);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Follows the register: settles every `intervalMs` (and whenever `poke` is called). */
  start(intervalMs = 1000): void {
    if (this.timer) return;
    this.poke();
    this.timer = setInterval(() => this.poke(), intervalMs);
    this.timer.unref();
  }

  poke(): void {
    this.settle().catch((e) => this.deps.onError?.(e));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.queue.catch(() => undefined);
  }

  private async handlePending(): Promise<void> {
    for (;;) {
      const after = await this.deps.store.registerEventOutcomes.lastEventId();
      const events = await this.deps.events.eventsAfter(after, BATCH);
      // Events that revoke nothing (a resident entered: millions in a bulk import) are acknowledged a run
      // at a time, in one transaction with one audit record; the others one by one.
      for (let i = 0; i < events.length; ) {
        let j = i;
        while (j < events.length && events[j]!.type === 'registered') j++;
        if (j - i >= 2) {
          await this.acknowledge(events.slice(i, j));
          i = j;
        } else await this.handle(events[i++]!);
      }
      if (events.length < BATCH) return;
    }
  }

  /** Receipts for a run of events that revoke nothing (a resident entered), with one audit record. */
  private async acknowledge(events: readonly RegisterEvent[]): Promise<void> {
    const now = this.deps.clock.now().getTime();
    await this.deps.store.transaction(async (tx) => {
      const fresh = await tx.registerEventOutcomes.insertMany(events.map((e) => ({ eventId: e.id, residentId: e.residentId, handledAt: now, revoked: [] })));
      if (fresh > 0)
        await tx.record({ actor: 'ca', action: 'ca.register-events', target: `events:${events[0]!.id}-${events.at(-1)!.id}`, details: { count: events.length, type: 'registered', revoked: [] } });
    });
  }

  private async handle(e: RegisterEvent): Promise<void> {
    const { clock, authorities } = this.deps;
    await this.deps.store
      .transaction(async (tx) => {
        if (await tx.registerEventOutcomes.get(e.id)) return;
        const rule = revocationFor(e);
        const revoked: RevokedByChange[] = [];
        if (rule) {
          const now = clock.now().getTime();
          for (const cert of await tx.certificates.byResident(e.residentId)) {
            if (!isLiveResidentCertificate(cert, now) || !rule.kinds.includes(cert.kind as 'sign' | 'auth')) continue;
            await authorities.revokeWithin(tx, { serial: cert.serial, caId: cert.caId, reason: rule.reason, actor: e.actor });
            revoked.push({ kind: cert.kind, caId: cert.caId, serial: cert.serial, reason: rule.reason, reasonCode: REVOCATION_REASONS[rule.reason].code });
          }
        }
        // Another process handling the same event at once: the second receipt fails and rolls its work back.
        if (!(await tx.registerEventOutcomes.insert({ eventId: e.id, residentId: e.residentId, handledAt: clock.now().getTime(), revoked }))) throw new AlreadyHandled();
        await tx.record({ actor: e.actor, action: 'ca.register-event', target: `resident:${e.residentId}`, details: { event: e.id, type: e.type, revoked: revoked.map((r) => `${r.caId}/${r.serial}`) } });
      })
      .catch((err) => {
        if (!(err instanceof AlreadyHandled)) throw err;
      });
  }
}

class AlreadyHandled extends Error {}
