import { CHALLENGE_LENGTHS, ISSUER_CRYPTOGRAM_LENGTH, ISSUER_KEY_REFERENCE } from '../jpki-constants.js';
import { CardError, SW, triesLeftSw } from '../status-words.js';
import { refuseData, refuseLe, requireLe, requireP1P2, type CommandHandler } from './context.js';

/** GET CHALLENGE `00 84 00 00 08|10`: a fresh random challenge, good for one EXTERNAL AUTHENTICATE. */
export const getChallenge: CommandHandler = (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0 && cmd.p2 === 0);
  refuseData(cmd);
  const le = requireLe(cmd);
  if (!(CHALLENGE_LENGTHS as readonly number[]).includes(le)) throw new CardError(SW.WRONG_LENGTH);
  ctx.volatile.challenge = ctx.randomBytes(le);
  return { data: Buffer.from(ctx.volatile.challenge) };
};

/**
 * EXTERNAL AUTHENTICATE `00 82 00 01 10 <cryptogram>`: the issuer proves it holds this card's diversified key
 * (issuer-key.ts). Like a PIN, a try is spent and persisted before the comparison; the tenth failure locks
 * the issuer interface for good (63 C0, then 69 83). The challenge is consumed whatever the outcome.
 */
export const externalAuthenticate: CommandHandler = async (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0);
  if (cmd.p2 !== ISSUER_KEY_REFERENCE) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
  refuseLe(cmd);
  if (cmd.data.length !== ISSUER_CRYPTOGRAM_LENGTH) throw new CardError(SW.WRONG_LENGTH);
  const v = ctx.volatile;
  if (!v.applicationSelected) throw new CardError(SW.CONDITIONS_NOT_SATISFIED);
  const memory = ctx.memory;
  if (memory.issuerTriesLeft() === 0) throw new CardError(SW.AUTHENTICATION_METHOD_BLOCKED);
  const challenge = v.challenge;
  v.challenge = null;
  v.issuerAuthenticated = false;
  if (!challenge) throw new CardError(SW.CONDITIONS_NOT_SATISFIED);

  await memory.spendIssuerTry();
  ctx.hooks.tearingPoint?.('issuer-try-spent');
  if (!memory.issuerCryptogramMatches(challenge, cmd.data)) return { sw: triesLeftSw(memory.issuerTriesLeft()) };
  await memory.restoreIssuerTries();
  v.issuerAuthenticated = true;
  return {};
};
