import { generateKeyPair as generateRsaKeyPair } from 'node:crypto';
import { promisify } from 'node:util';
import { CERTIFICATE_CAPACITY, KEYS, PINS, RSA_MODULUS_BITS } from '../jpki-constants.js';
import { findEf } from '../file-system.js';
import { isWellFormedPin, pinFromBytes } from '../pin-format.js';
import { CardError, SW } from '../status-words.js';
import { isCurrentOrShortId, refuseData, refuseLe, requireData, requireIssuer, requireLe, requireP1P2, targetEf, type AppletContext, type CommandHandler } from './context.js';

/**
 * The issuer's personalisation commands (CLA 80; docs/card.md "Issuer interface"). Each needs EXTERNAL
 * AUTHENTICATE in this session (69 82 otherwise) and acts on the current EF, like the JPKI commands.
 */

const generateKeyPairAsync = promisify(generateRsaKeyPair);
const KEY_FIDS = [KEYS.auth.fid, KEYS.sign.fid];
const PIN_FIDS = [PINS.auth.fid, PINS.sign.fid];
const GENERATE = 0x00;
const READ_PUBLIC_KEY = 0x01;

/**
 * GENERATE KEY PAIR `80 47 00 80 00`: a new RSA-2048 pair (e = 65537) in the current key EF, replacing any
 * earlier one. `80 47 01 80 00` reads the public key of the pair already there. The answer is the public key
 * as SubjectPublicKeyInfo DER (294 bytes), so it comes in two parts: 256 bytes + `61 26`, then GET RESPONSE.
 */
export const generateKeyPair: CommandHandler = async (ctx, cmd) => {
  requireP1P2((cmd.p1 === GENERATE || cmd.p1 === READ_PUBLIC_KEY) && isCurrentOrShortId(cmd.p2, KEY_FIDS));
  refuseData(cmd);
  requireLe(cmd);
  requireIssuer(ctx);
  const { key } = targetEf(ctx, cmd.p2, 'key');
  if (cmd.p1 === READ_PUBLIC_KEY) {
    const spki = ctx.memory.publicKey(key);
    if (!spki) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
    return { data: Buffer.from(spki) };
  }
  const pair = await generateKeyPairAsync('rsa', { modulusLength: RSA_MODULUS_BITS, publicExponent: 0x10001 });
  const spki = pair.publicKey.export({ format: 'der', type: 'spki' });
  await ctx.memory.storeKeyPair(key, pair.privateKey, spki);
  return { data: spki };
};

/** ERASE BINARY `80 0E 00 00`: empties the current certificate EF (it then reads as absent to the public). */
export const eraseBinary: CommandHandler = async (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0 && cmd.p2 === 0);
  refuseData(cmd);
  refuseLe(cmd);
  requireIssuer(ctx);
  await ctx.memory.eraseCertificate(currentCertificate(ctx));
  return {};
};

/**
 * UPDATE BINARY `80 D6 <offset:15 bits> Lc <data>`: writes into the current certificate EF at the offset.
 * Writes are contiguous: the offset may be at most the file's present size (6B 00), and the file holds at
 * most 4096 bytes (6A 84). A certificate is written as ERASE, then 255-byte chunks in order.
 */
export const updateBinary: CommandHandler = async (ctx, cmd) => {
  requireP1P2((cmd.p1 & 0x80) === 0);
  requireData(cmd);
  refuseLe(cmd);
  requireIssuer(ctx);
  const file = currentCertificate(ctx);
  const offset = (cmd.p1 << 8) | cmd.p2;
  if (offset > ctx.memory.certificate(file).length) throw new CardError(SW.OFFSET_OUT_OF_RANGE);
  if (offset + cmd.data.length > CERTIFICATE_CAPACITY) throw new CardError(SW.NOT_ENOUGH_MEMORY);
  await ctx.memory.writeCertificate(file, offset, cmd.data);
  return {};
};

const NEW_PIN = 0x02;
const UNBLOCK_ONLY = 0x03;

/**
 * RESET RETRY COUNTER `80 2C P1 80`, on the current PIN EF (or P2 = 80|SFI):
 * - P1 = 02, data = new PIN: sets the PIN and a full counter. Sets the initial PINs of a blank card,
 *   initialises a forgotten PIN, and releases a lock with a new PIN.
 * - P1 = 03, no data: releases a lock (full counter), keeping the PIN (6A 88 if it was never set).
 * The PIN's verified state in this session is dropped either way.
 */
export const resetRetryCounter: CommandHandler = async (ctx, cmd) => {
  requireP1P2((cmd.p1 === NEW_PIN || cmd.p1 === UNBLOCK_ONLY) && isCurrentOrShortId(cmd.p2, PIN_FIDS));
  refuseLe(cmd);
  if (cmd.p1 === NEW_PIN) requireData(cmd);
  else refuseData(cmd);
  requireIssuer(ctx);
  const { pin } = targetEf(ctx, cmd.p2, 'pin');
  ctx.volatile.verified[pin] = false;
  if (cmd.p1 === NEW_PIN) {
    const value = pinFromBytes(cmd.data);
    if (!isWellFormedPin(pin, value)) throw new CardError(SW.WRONG_DATA);
    await ctx.memory.setPin(pin, value);
  } else {
    if (!ctx.memory.pinIsSet(pin)) throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
    await ctx.memory.restorePinTries(pin);
  }
  return {};
};

function currentCertificate(ctx: AppletContext) {
  const ef = ctx.volatile.applicationSelected && ctx.volatile.currentEf !== null ? findEf(ctx.volatile.currentEf) : null;
  if (!ef) throw new CardError(SW.NO_CURRENT_EF);
  if (ef.kind !== 'certificate') throw new CardError(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
  return ef.file;
}
