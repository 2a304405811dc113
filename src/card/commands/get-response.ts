import { CardError, SW } from '../status-words.js';
import { refuseData, requireLe, requireP1P2, type CommandHandler } from './context.js';

/**
 * GET RESPONSE `00 C0 00 00 Le`: the next part of an answer announced with `61 xx`. The applet keeps any rest
 * pending and announces it again; any other command drops it.
 */
export const getResponse: CommandHandler = (ctx, cmd) => {
  requireP1P2(cmd.p1 === 0 && cmd.p2 === 0);
  refuseData(cmd);
  requireLe(cmd);
  const pending = ctx.volatile.pendingResponse;
  if (!pending) throw new CardError(SW.CONDITIONS_NOT_SATISFIED);
  return { data: pending };
};
