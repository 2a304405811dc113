import { randomBytes } from 'node:crypto';
import { encodeResponseApdu, MAX_EXTENDED_LE, parseCommandApdu, type CommandApdu } from './apdu.js';
import type { CardMemory } from './card-memory.js';
import { freshVolatileState, type VolatileState } from './card-state.js';
import { computeDigitalSignature } from './commands/compute-signature.js';
import type { AppletContext, CardHooks, CommandHandler, Reply } from './commands/context.js';
import { getData } from './commands/get-data.js';
import { getResponse } from './commands/get-response.js';
import { externalAuthenticate, getChallenge } from './commands/issuer-authentication.js';
import { eraseBinary, generateKeyPair, resetRetryCounter, updateBinary } from './commands/personalisation.js';
import { changeReferenceData, verify } from './commands/pin-commands.js';
import { readBinary } from './commands/read-binary.js';
import { select } from './commands/select.js';
import { CardError, SW } from './status-words.js';

/** Interindustry commands (CLA 00). */
const ISO_COMMANDS: Record<number, CommandHandler> = {
  0xa4: select,
  0xb0: readBinary,
  0x20: verify,
  0x24: changeReferenceData,
  0x84: getChallenge,
  0x82: externalAuthenticate,
  0xc0: getResponse,
};

/** Proprietary commands (CLA 80): the JPKI signature, GET DATA, and the issuer's personalisation set. */
const PROPRIETARY_COMMANDS: Record<number, CommandHandler> = {
  0x2a: computeDigitalSignature,
  0xca: getData,
  0x47: generateKeyPair,
  0x0e: eraseBinary,
  0xd6: updateBinary,
  0x2c: resetRetryCounter,
};

const MAX_SHORT_RESPONSE = 256;

export interface AppletOptions {
  hooks?: CardHooks;
  /** Source of challenges; node:crypto by default. */
  randomBytes?: (n: number) => Buffer;
}

/**
 * The JPKI application: one C-APDU in, one R-APDU out. `process` never throws; every failure is a status word
 * (unknown or malformed input included), and anything unforeseen is 6F 00 rather than a crash.
 */
export class JpkiApplet {
  private volatile: VolatileState = freshVolatileState();
  private readonly ctx: AppletContext;

  constructor(memory: CardMemory, options: AppletOptions = {}) {
    const self = this;
    this.ctx = {
      memory,
      get volatile() {
        return self.volatile;
      },
      hooks: options.hooks ?? {},
      randomBytes: options.randomBytes ?? randomBytes,
    };
  }

  /** Power-off, power-on and reset all come here: the RAM is gone (card-protocol §5.1). */
  resetVolatileState(): void {
    this.volatile = freshVolatileState();
  }

  async process(apdu: Uint8Array): Promise<Buffer> {
    const parsed = parseCommandApdu(apdu);
    if (!parsed.ok) {
      this.volatile.pendingResponse = null;
      return encodeResponseApdu(Buffer.alloc(0), parsed.sw);
    }
    const cmd = parsed.command;
    let reply: Reply;
    try {
      const handler = dispatch(cmd);
      if (handler !== getResponse) this.volatile.pendingResponse = null;
      reply = await handler(this.ctx, cmd);
    } catch (e) {
      reply = { sw: e instanceof CardError ? e.sw : SW.NO_PRECISE_DIAGNOSIS };
    }
    return this.respond(cmd, reply);
  }

  /**
   * Answers longer than Le (or than a short response) go out in parts: `61 xx` + GET RESPONSE. An extended
   * command gets up to its Le in one response.
   */
  private respond(cmd: CommandApdu, reply: Reply): Buffer {
    const sw = reply.sw ?? SW.OK;
    const data = reply.data ?? Buffer.alloc(0);
    const limit = cmd.extended ? (cmd.le ?? MAX_EXTENDED_LE) : Math.min(cmd.le ?? MAX_SHORT_RESPONSE, MAX_SHORT_RESPONSE);
    this.volatile.pendingResponse = null;
    if (sw !== SW.OK || data.length <= limit) return encodeResponseApdu(data, sw);
    const rest = Buffer.from(data.subarray(limit));
    this.volatile.pendingResponse = rest;
    return encodeResponseApdu(data.subarray(0, limit), SW.BYTES_REMAINING | (Math.min(rest.length, MAX_SHORT_RESPONSE) & 0xff));
  }
}

/**
 * CLA first (ISO 7816-4 §5.4.1), then INS. Unknown instructions answer 6D 00, never 90 00, so other OpenSC
 * drivers' probes fail (card-protocol §2.2, §7.6).
 */
function dispatch(cmd: CommandApdu): CommandHandler {
  const { cla, ins } = cmd;
  let table: Record<number, CommandHandler>;
  if (cla === 0x80) table = PROPRIETARY_COMMANDS;
  else if (cla & 0x80) throw new CardError(SW.CLA_NOT_SUPPORTED);
  else if (cla & 0x40) throw new CardError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED); // further interindustry: channels 4–19
  else if (cla & 0x20) throw new CardError(SW.CLA_NOT_SUPPORTED); // reserved for future use
  else if (cla & 0x10) throw new CardError(SW.COMMAND_CHAINING_NOT_SUPPORTED);
  // The real card refuses secure messaging: 68 82 for SELECT, 69 FC otherwise (card-protocol §3).
  else if (cla & 0x0c) throw new CardError(ins === 0xa4 ? SW.SECURE_MESSAGING_NOT_SUPPORTED : SW.SECURE_MESSAGING_REFUSED);
  else if (cla & 0x03) throw new CardError(SW.LOGICAL_CHANNEL_NOT_SUPPORTED);
  else table = ISO_COMMANDS;
  const handler = table[ins];
  if (!handler) throw new CardError(SW.INS_NOT_SUPPORTED);
  return handler;
}
