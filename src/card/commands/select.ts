import { EF_ATR_INFO, JPKI_AID } from '../jpki-constants.js';
import { findEf, isVisible } from '../file-system.js';
import { CardError, SW } from '../status-words.js';
import { requireP1P2, type CommandHandler } from './context.js';

const BY_MF = 0x00;
const BY_FID = 0x02;
const BY_DF_NAME = 0x04;

/**
 * SELECT FILE `00 A4 P1 P2` (card-protocol §3.1). P2 = 0C (no FCI) or 00; neither returns data (§11.4), and a
 * trailing Le is tolerated because P2 = 00 formally asks for an FCI. A failed SELECT leaves the selection as it was.
 */
export const select: CommandHandler = (ctx, cmd) => {
  requireP1P2([BY_MF, BY_FID, BY_DF_NAME].includes(cmd.p1) && (cmd.p2 === 0x0c || cmd.p2 === 0x00));
  const v = ctx.volatile;
  switch (cmd.p1) {
    case BY_MF:
      // Real card: no data = the MF, accepted (without effect) only while an application is current; the MF
      // is never selected by FID (3F00 → 6A 82). OpenSC keeps a virtual MF and sends neither.
      if (cmd.data.length === 0) {
        if (!v.applicationSelected) throw new CardError(SW.INCORRECT_P1P2);
        return {};
      }
      if (cmd.data.length !== 2) throw new CardError(SW.WRONG_LENGTH);
      throw new CardError(SW.FILE_NOT_FOUND);
    case BY_FID: {
      if (cmd.data.length !== 2) throw new CardError(SW.WRONG_LENGTH);
      if (!v.applicationSelected) {
        // Under the MF only EF.ATR/INFO is there (extended-length information).
        if (cmd.data.readUInt16BE(0) !== EF_ATR_INFO) throw new CardError(SW.FILE_NOT_FOUND);
        v.currentEf = EF_ATR_INFO;
        return {};
      }
      const ef = findEf(cmd.data.readUInt16BE(0));
      if (!ef || !isVisible(ctx.memory, ef, v.issuerAuthenticated)) throw new CardError(SW.FILE_NOT_FOUND);
      v.currentEf = ef.fid;
      return {};
    }
    default: {
      if (cmd.data.length === 0) throw new CardError(SW.WRONG_LENGTH);
      // Foreign AIDs (other drivers' probes, the card's other APs) must get 6A 82, or OpenSC's MuscleApplet
      // driver claims the card (§2.2).
      if (!cmd.data.equals(JPKI_AID)) throw new CardError(SW.FILE_NOT_FOUND);
      // Selecting the AP is also how OpenSC 0.24+ logs out: every session right is dropped (§3.1, §5.1).
      v.applicationSelected = true;
      v.currentEf = null;
      v.verified = { auth: false, sign: false };
      v.issuerAuthenticated = false;
      v.challenge = null;
      return {};
    }
  }
};
