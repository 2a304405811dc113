import type { CommandApdu } from '../apdu.js';
import type { CardMemory } from '../card-memory.js';
import type { VolatileState } from '../card-state.js';
import { findEf, type ElementaryFile } from '../file-system.js';
import { CardError, SW } from '../status-words.js';

/** Points where a real card could lose power with a write done and the next step not yet taken. */
export type TearingPoint = 'pin-try-spent' | 'issuer-try-spent';

export interface CardHooks {
  /**
   * Called right after a spent try is on disk and before the candidate is compared. For the tearing test
   * only (the serve command kills its own process here when JPKI_CARD_TEST_TEAR_AT names the point).
   */
  tearingPoint?(point: TearingPoint): void;
}

/** What a command handler works with. */
export interface AppletContext {
  memory: CardMemory;
  volatile: VolatileState;
  hooks: CardHooks;
  randomBytes(n: number): Buffer;
}

export interface Reply {
  data?: Buffer;
  /** Defaults to 90 00. */
  sw?: number;
}

export type CommandHandler = (ctx: AppletContext, cmd: CommandApdu) => Promise<Reply> | Reply;

// ---- shared checks, in the order cards apply them: P1-P2, lengths, then state and security --------------

export function requireP1P2(ok: boolean): void {
  if (!ok) throw new CardError(SW.INCORRECT_P1P2);
}

/** Case 1 or 3: no Le. */
export function refuseLe(cmd: CommandApdu): void {
  if (cmd.le !== null) throw new CardError(SW.WRONG_LENGTH);
}

/** Case 1 or 2: no command data. */
export function refuseData(cmd: CommandApdu): void {
  if (cmd.data.length) throw new CardError(SW.WRONG_LENGTH);
}

export function requireData(cmd: CommandApdu): void {
  if (!cmd.data.length) throw new CardError(SW.WRONG_LENGTH);
}

export function requireLe(cmd: CommandApdu): number {
  if (cmd.le === null) throw new CardError(SW.WRONG_LENGTH);
  return cmd.le;
}

export function requireIssuer(ctx: AppletContext): void {
  if (!ctx.volatile.issuerAuthenticated) throw new CardError(SW.SECURITY_STATUS_NOT_SATISFIED);
}

/**
 * The EF a command acts on: the current EF for P2 = 80 ("key of the current EF", JICSAP), or the EF named by
 * a short identifier in P2 = 80|SFI. `kind` restricts which EFs make sense; no AP or no current EF is 69 86.
 */
export function targetEf<K extends ElementaryFile['kind']>(ctx: AppletContext, p2: number, kind: K): Extract<ElementaryFile, { kind: K }> {
  if (!ctx.volatile.applicationSelected) throw new CardError(SW.NO_CURRENT_EF);
  let ef: ElementaryFile | null;
  if (p2 === 0x80) {
    ef = ctx.volatile.currentEf === null ? null : findEf(ctx.volatile.currentEf);
    if (!ef) throw new CardError(SW.NO_CURRENT_EF);
  } else {
    ef = findEf(p2 & 0x1f);
    if (!ef) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
  }
  if (ef.kind !== kind) throw new CardError(p2 === 0x80 ? SW.NO_CURRENT_EF : SW.REFERENCE_DATA_NOT_FOUND);
  return ef as Extract<ElementaryFile, { kind: K }>;
}

/** P2 = 80, or 80|SFI naming one of the given EFs. */
export function isCurrentOrShortId(p2: number, fids: readonly number[]): boolean {
  return p2 === 0x80 || ((p2 & 0xe0) === 0x80 && fids.includes(p2 & 0x1f));
}
