import { JpkiError } from '../common/errors.js';

/**
 * How a program reaches a card: APDUs in, APDUs out. Implementations only move bytes (in-process, PC/SC),
 * as OpenSC's reader layer does; what the bytes mean is jpki-client.ts's business.
 */
export interface Reader {
  /** For messages: "in-process:<file>" or the PC/SC reader name. */
  readonly name: string;
  /** The card's answer to reset. */
  readonly atr: Uint8Array;
  /** One C-APDU, one R-APDU (data + SW1 SW2). Rejects with ReaderError when the card or reader is gone. */
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
  /** Warm reset: the card's session (selection, verified PINs, issuer authentication) is dropped. */
  reset(): Promise<void>;
  isCardPresent(): Promise<boolean>;
  /** Ends the session (the card is reset, so the next user starts from scratch) and frees the reader. */
  close(): Promise<void>;
}

/** The reader, pcscd or the card itself is not there (or went away). */
export class ReaderError extends JpkiError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(`reader.${code}`, 'unavailable', message, {}, options);
  }
}
