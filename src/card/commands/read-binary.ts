import { CERTIFICATES, EF_ATR_INFO } from '../jpki-constants.js';
import { atrInfoContent, findEf, isVisible, transparentContent } from '../file-system.js';
import { CardError, SW } from '../status-words.js';
import { refuseData, requireLe, requireP1P2, type CommandHandler } from './context.js';

/**
 * READ BINARY `00 B0 P1 P2 Le` (card-protocol §3.2). P1 bit 8 = 0: 15-bit offset in P1-P2 on the current EF.
 * P1 bit 8 = 1: P1 low 5 bits name the EF by short identifier (and make it current), P2 is the offset.
 * Returns up to Le bytes (an extended Le: a whole certificate in one answer), fewer at the end of the file
 * with 90 00; at or past the end 6B 00 (JICSAP). Before the AP is selected, only EF.ATR/INFO (2F01, SFI 01).
 */
export const readBinary: CommandHandler = (ctx, cmd) => {
  const byShortId = (cmd.p1 & 0x80) !== 0;
  requireP1P2(!byShortId || (cmd.p1 & 0x60) === 0);
  refuseData(cmd);
  const le = requireLe(cmd);
  const v = ctx.volatile;
  if (!v.applicationSelected) {
    if (byShortId) {
      if ((cmd.p1 & 0x1f) !== (EF_ATR_INFO & 0x1f)) throw new CardError(SW.FILE_NOT_FOUND);
      v.currentEf = EF_ATR_INFO;
    }
    if (v.currentEf !== EF_ATR_INFO) throw new CardError(SW.NO_CURRENT_EF);
    const info = atrInfoContent();
    const at = byShortId ? cmd.p2 : (cmd.p1 << 8) | cmd.p2;
    if (at >= info.length) throw new CardError(SW.OFFSET_OUT_OF_RANGE);
    return { data: Buffer.from(info.subarray(at, at + le)) };
  }

  let offset: number;
  if (byShortId) {
    const ef = findEf(cmd.p1 & 0x1f);
    if (!ef || !isVisible(ctx.memory, ef, v.issuerAuthenticated)) throw new CardError(SW.FILE_NOT_FOUND);
    v.currentEf = ef.fid;
    offset = cmd.p2;
  } else {
    offset = (cmd.p1 << 8) | cmd.p2;
  }
  const ef = v.currentEf === null ? null : findEf(v.currentEf);
  if (!ef) throw new CardError(SW.NO_CURRENT_EF);
  const content = transparentContent(ctx.memory, ef);
  if (!content) throw new CardError(SW.COMMAND_INCOMPATIBLE_WITH_FILE);
  if (ef.kind === 'certificate') {
    const pin = CERTIFICATES[ef.file].readPin;
    if (pin && !v.verified[pin]) throw new CardError(SW.SECURITY_STATUS_NOT_SATISFIED);
  }
  if (offset >= content.length) throw new CardError(SW.OFFSET_OUT_OF_RANGE);
  return { data: Buffer.from(content.subarray(offset, offset + le)) };
};
