import { PINS } from '../jpki-constants.js';
import { isWellFormedPin, pinFromBytes } from '../pin-format.js';
import { CardError, SW, triesLeftSw } from '../status-words.js';
import { isCurrentOrShortId, refuseLe, requireData, requireP1P2, targetEf, type CommandHandler } from './context.js';

const PIN_FIDS = [PINS.auth.fid, PINS.sign.fid];

/**
 * VERIFY `00 20 00 80 [Lc PIN]` on the PIN EF selected before (or P2 = 80|SFI). Card-protocol §3.3, §5:
 * - no data: tries left as `63 Cx`, always, even after a good VERIFY and when blocked (63 C0): OpenSC binds on it;
 * - data: blocked → 69 83 (authentication method blocked: OpenSC maps it to CKR_PIN_LOCKED; 69 84 would be a
 *   general error, card-protocol §3.3, §11.2); wrong format → 6A 80 (no try spent, it cannot be the PIN); otherwise one try is
 *   spent and persisted first (anti-tearing), then compared: 90 00 and full counter, or `63 Cx`.
 * An unset PIN (blank card) reports its full counter and answers a VERIFY with data 6A 88.
 */
export const verify: CommandHandler = async (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0x00 && isCurrentOrShortId(cmd.p2, PIN_FIDS));
  refuseLe(cmd);
  const { pin } = targetEf(ctx, cmd.p2, 'pin');
  const memory = ctx.memory;
  if (cmd.data.length === 0) return { sw: triesLeftSw(memory.pinTriesLeft(pin)) };

  ctx.volatile.verified[pin] = false;
  if (!memory.pinIsSet(pin)) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
  if (memory.pinTriesLeft(pin) === 0) throw new CardError(SW.AUTHENTICATION_METHOD_BLOCKED);
  const candidate = pinFromBytes(cmd.data);
  if (!isWellFormedPin(pin, candidate)) throw new CardError(SW.WRONG_DATA);

  await memory.spendPinTry(pin);
  ctx.hooks.tearingPoint?.('pin-try-spent');
  if (!memory.pinMatches(pin, candidate)) return { sw: triesLeftSw(memory.pinTriesLeft(pin)) };
  await memory.restorePinTries(pin);
  ctx.volatile.verified[pin] = true;
  return {};
};

/**
 * CHANGE REFERENCE DATA `00 24 01 80 Lc <new PIN>` (§3.4): P1 = 01, the data is the new value only; the same
 * PIN must have been verified in this session.
 */
export const changeReferenceData: CommandHandler = async (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0x01 && isCurrentOrShortId(cmd.p2, PIN_FIDS));
  refuseLe(cmd);
  requireData(cmd);
  const { pin } = targetEf(ctx, cmd.p2, 'pin');
  if (ctx.memory.pinIsSet(pin) && ctx.memory.pinTriesLeft(pin) === 0) throw new CardError(SW.AUTHENTICATION_METHOD_BLOCKED);
  if (!ctx.volatile.verified[pin]) throw new CardError(SW.SECURITY_STATUS_NOT_SATISFIED);
  const value = pinFromBytes(cmd.data);
  if (!isWellFormedPin(pin, value)) throw new CardError(SW.WRONG_DATA);
  await ctx.memory.setPin(pin, value);
  return {};
};
