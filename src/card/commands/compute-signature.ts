import { KEYS, SIGN_INPUT_MAX } from '../jpki-constants.js';
import { CardError, SW } from '../status-words.js';
import { isCurrentOrShortId, requireLe, requireP1P2, targetEf, type CommandHandler } from './context.js';

const KEY_FIDS = [KEYS.auth.fid, KEYS.sign.fid];
const PKCS1_V15_AS_GIVEN = 0x00;
const SIGNATURE_LENGTH = 256;

/**
 * COMPUTE DIGITAL SIGNATURE `80 2A 00 80 Lc <DigestInfo> 00` (card-protocol §3.5): PKCS#1 v1.5 type-1 padding
 * and the RSA private operation over the bytes as given, with the key of the current EF (0017 / 001A) or
 * P2 = 80|SFI (97 / 9A). Needs that key's PIN verified in this session (69 82). Only P1 = 00 is offered;
 * the hashing schemes a real card reportedly has (P1 01–05) are not used by any client.
 */
export const computeDigitalSignature: CommandHandler = (ctx, cmd) => {
  requireP1P2(cmd.p1 === PKCS1_V15_AS_GIVEN && isCurrentOrShortId(cmd.p2, KEY_FIDS));
  if (cmd.data.length === 0 || cmd.data.length > SIGN_INPUT_MAX) throw new CardError(SW.WRONG_LENGTH);
  const le = requireLe(cmd);
  if (le < SIGNATURE_LENGTH) throw new CardError(SW.WRONG_LE | (SIGNATURE_LENGTH & 0xff));
  const { key } = targetEf(ctx, cmd.p2, 'key');
  if (!ctx.volatile.verified[KEYS[key].pin]) throw new CardError(SW.SECURITY_STATUS_NOT_SATISFIED);
  if (!ctx.memory.hasKey(key)) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
  return { data: ctx.memory.sign(key, cmd.data) };
};
