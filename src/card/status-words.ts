import { JpkiError } from '../common/errors.js';

/**
 * Every status word the card emits, in one table (OpenSC's iso7816_errors[] seen from the card's side).
 * Applet code throws `new CardError(SW.X)`; the applet turns it into the two trailing bytes. The host side
 * (reader/card-status.ts) maps the same words to domain errors in one function.
 */
export const SW = {
  OK: 0x9000,
  /** `61 xx`: xx more bytes wait for GET RESPONSE (xx = 00: 256 or more). Used by the issuer's public-key answer. */
  BYTES_REMAINING: 0x6100,
  /** `63 Cx`: tries left (PIN query, wrong PIN, wrong issuer cryptogram). */
  TRIES_LEFT: 0x63c0,
  MEMORY_FAILURE: 0x6581,
  WRONG_LENGTH: 0x6700,
  LOGICAL_CHANNEL_NOT_SUPPORTED: 0x6881,
  SECURE_MESSAGING_NOT_SUPPORTED: 0x6882,
  COMMAND_CHAINING_NOT_SUPPORTED: 0x6884,
  COMMAND_INCOMPATIBLE_WITH_FILE: 0x6981,
  SECURITY_STATUS_NOT_SATISFIED: 0x6982,
  AUTHENTICATION_METHOD_BLOCKED: 0x6983,
  REFERENCE_DATA_NOT_USABLE: 0x6984,
  CONDITIONS_NOT_SATISFIED: 0x6985,
  NO_CURRENT_EF: 0x6986,
  /** The real JPKI card's answer to secure-messaging CLAs on commands other than SELECT (card-protocol §3). */
  SECURE_MESSAGING_REFUSED: 0x69fc,
  WRONG_DATA: 0x6a80,
  FILE_NOT_FOUND: 0x6a82,
  NOT_ENOUGH_MEMORY: 0x6a84,
  INCORRECT_P1P2: 0x6a86,
  REFERENCE_DATA_NOT_FOUND: 0x6a88,
  OFFSET_OUT_OF_RANGE: 0x6b00,
  /** `6C xx`: wrong Le, xx is the exact length (00 = 256). */
  WRONG_LE: 0x6c00,
  INS_NOT_SUPPORTED: 0x6d00,
  CLA_NOT_SUPPORTED: 0x6e00,
  NO_PRECISE_DIAGNOSIS: 0x6f00,
} as const;

interface StatusWordInfo {
  name: keyof typeof SW;
  meaning: string;
}

const TABLE: Record<number, StatusWordInfo> = {
  0x9000: { name: 'OK', meaning: 'success' },
  0x6581: { name: 'MEMORY_FAILURE', meaning: 'memory failure: the card image could not be written; nothing was changed' },
  0x6700: { name: 'WRONG_LENGTH', meaning: 'wrong length (Lc or Le, or a malformed APDU)' },
  0x6881: { name: 'LOGICAL_CHANNEL_NOT_SUPPORTED', meaning: 'logical channels are not supported' },
  0x6882: { name: 'SECURE_MESSAGING_NOT_SUPPORTED', meaning: 'secure messaging is not supported' },
  0x6884: { name: 'COMMAND_CHAINING_NOT_SUPPORTED', meaning: 'command chaining is not supported' },
  0x6981: { name: 'COMMAND_INCOMPATIBLE_WITH_FILE', meaning: 'command incompatible with the structure of the current file' },
  0x6982: { name: 'SECURITY_STATUS_NOT_SATISFIED', meaning: 'security status not satisfied (PIN or issuer authentication needed)' },
  0x6983: { name: 'AUTHENTICATION_METHOD_BLOCKED', meaning: 'authentication method blocked (the PIN or the issuer interface is locked)' },
  0x6984: { name: 'REFERENCE_DATA_NOT_USABLE', meaning: 'reference data not usable (the PIN is blocked)' },
  0x6985: { name: 'CONDITIONS_NOT_SATISFIED', meaning: 'conditions of use not satisfied (no challenge, nothing pending)' },
  0x6986: { name: 'NO_CURRENT_EF', meaning: 'command not allowed: no suitable current EF' },
  0x69fc: { name: 'SECURE_MESSAGING_REFUSED', meaning: 'secure messaging refused' },
  0x6a80: { name: 'WRONG_DATA', meaning: 'incorrect data (PIN format, certificate header)' },
  0x6a82: { name: 'FILE_NOT_FOUND', meaning: 'file or application not found' },
  0x6a84: { name: 'NOT_ENOUGH_MEMORY', meaning: 'not enough memory in the file' },
  0x6a86: { name: 'INCORRECT_P1P2', meaning: 'incorrect parameters P1-P2' },
  0x6a88: { name: 'REFERENCE_DATA_NOT_FOUND', meaning: 'referenced data not found (PIN not set, no key, unknown key reference)' },
  0x6b00: { name: 'OFFSET_OUT_OF_RANGE', meaning: 'offset at or beyond the end of the file' },
  0x6d00: { name: 'INS_NOT_SUPPORTED', meaning: 'instruction not supported' },
  0x6e00: { name: 'CLA_NOT_SUPPORTED', meaning: 'class not supported' },
  0x6f00: { name: 'NO_PRECISE_DIAGNOSIS', meaning: 'no precise diagnosis (internal error)' },
};

/** `63 Cx` for n tries left; a 4-bit field, so anything above 15 reads as 15. */
export function triesLeftSw(n: number): number {
  return SW.TRIES_LEFT | Math.max(0, Math.min(n, 15));
}

export function describeStatusWord(sw: number): string {
  const hex = sw.toString(16).toUpperCase().padStart(4, '0');
  const sw1 = sw >> 8;
  if (sw1 === 0x61) return `${hex}: ${sw & 0xff || 256} response bytes remaining`;
  if (sw1 === 0x6c) return `${hex}: wrong Le, exact length ${sw & 0xff || 256}`;
  if ((sw & 0xfff0) === SW.TRIES_LEFT) return `${hex}: ${sw & 0x0f} tries left`;
  const info = TABLE[sw];
  return info ? `${hex}: ${info.meaning}` : `${hex}: unknown status word`;
}

/** The one exception type of applet code: it carries the status word to answer with. */
export class CardError extends JpkiError {
  constructor(
    readonly sw: number,
    detail?: string,
    options?: { cause?: unknown },
  ) {
    super(`card.sw.${sw.toString(16).padStart(4, '0')}`, 'internal', detail ?? describeStatusWord(sw), { sw }, options);
  }
}
