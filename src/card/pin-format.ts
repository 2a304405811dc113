import type { PinName } from './jpki-constants.js';

/**
 * PIN formats (jpki-profile §3): the signing password is 6–16 of A–Z and 0–9 with at least one letter and one
 * digit; the user-authentication PIN is 4 digits. The card checks the format before touching the counter:
 * a value of the wrong format can never be the PIN, so refusing it costs no try (card-protocol §11.3).
 */
const FORMATS: Record<PinName, { pattern: RegExp; rule: string }> = {
  sign: { pattern: /^(?=[A-Z0-9]*[A-Z])(?=[A-Z0-9]*[0-9])[A-Z0-9]{6,16}$/, rule: '6–16 characters of A–Z and 0–9, with at least one letter and one digit' },
  auth: { pattern: /^[0-9]{4}$/, rule: '4 digits' },
};

export function isWellFormedPin(pin: PinName, value: string): boolean {
  return FORMATS[pin].pattern.test(value);
}

/** The rule in words, for error messages. */
export function pinFormatRule(pin: PinName): string {
  return FORMATS[pin].rule;
}

/** PINs travel as raw ASCII; anything outside printable ASCII is decoded to a string that fails the pattern. */
export function pinFromBytes(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('latin1');
}
