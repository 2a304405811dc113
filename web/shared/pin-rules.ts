/**
 * The card's PIN rules (jpki-profile §3), checked in the browser before anything is sent — the server checks
 * them again, with the guessability rules that need the register. Used by the counter's device screens and,
 * later, the user client's PIN change.
 * - signing password (署名用): 6–16 of A–Z and 0–9 with at least one letter and one digit; lower case is
 *   taken as upper case, as JPKI clients do;
 * - user-authentication PIN (利用者証明用): 4 digits.
 */
export type PinName = 'sign' | 'auth';

export const PIN_MAX_TRIES: Record<PinName, number> = { sign: 5, auth: 3 };

/** What the card will be given: the signing password upper-cased. */
export function normalisePin(pin: PinName, value: string): string {
  return pin === 'sign' ? value.toUpperCase() : value;
}

export type PinProblem = 'required' | 'format';

export function pinProblem(pin: PinName, value: string): PinProblem | undefined {
  const v = normalisePin(pin, value);
  if (v.length === 0) return 'required';
  if (pin === 'auth') return /^[0-9]{4}$/.test(v) ? undefined : 'format';
  return /^[A-Z0-9]{6,16}$/.test(v) && /[A-Z]/.test(v) && /[0-9]/.test(v) ? undefined : 'format';
}
