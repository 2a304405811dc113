import { DATA_TAG, ISSUER_MAX_TRIES } from '../jpki-constants.js';
import { CardError, SW } from '../status-words.js';
import { refuseData, requireLe, type CommandHandler } from './context.js';

/**
 * GET DATA `80 CA <tag> 00`, free to read, before or after selecting the AP. CLA 80 rather than 00 because
 * OpenSC probes other drivers with `00 CA DF 30` and must not get 90 00 (card-protocol §2.2).
 * - tag 0101: card ID, 8 bytes (shown as 16 hex digits); the issuer derives the card's key from it.
 * - tag 0102: card state, 4 bytes: flags (bit 0 auth key, bit 1 sign key, bit 2 auth PIN set, bit 3 sign PIN
 *   set, bit 4 issuer interface locked), auth PIN tries left, sign PIN tries left, issuer tries left.
 */
export const getData: CommandHandler = (ctx, cmd) => {
  refuseData(cmd);
  requireLe(cmd);
  const m = ctx.memory;
  switch ((cmd.p1 << 8) | cmd.p2) {
    case DATA_TAG.CARD_ID:
      return { data: Buffer.from(m.cardId, 'hex') };
    case DATA_TAG.CARD_STATE: {
      const flags =
        (m.hasKey('auth') ? 0x01 : 0) |
        (m.hasKey('sign') ? 0x02 : 0) |
        (m.pinIsSet('auth') ? 0x04 : 0) |
        (m.pinIsSet('sign') ? 0x08 : 0) |
        (m.issuerTriesLeft() === 0 ? 0x10 : 0);
      return { data: Buffer.of(flags, m.pinTriesLeft('auth'), m.pinTriesLeft('sign'), Math.min(m.issuerTriesLeft(), ISSUER_MAX_TRIES)) };
    }
    default:
      throw new CardError(SW.REFERENCE_DATA_NOT_FOUND);
  }
};
