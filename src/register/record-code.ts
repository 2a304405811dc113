import { randomInt } from 'node:crypto';

/**
 * The resident-record code (住民票コード): 11 digits, ten random ones and a check digit. The check digit is
 * "modulus 11, weights 2–7" as we read the rule: weights 2, 3, 4, 5, 6, 7, 2, 3, 4, 5 from the rightmost of
 * the ten digits, r = sum mod 11, check = 0 when r ≤ 1, otherwise 11 − r.
 */
export function recordCodeCheckDigit(tenDigits: string): number {
  if (!/^\d{10}$/.test(tenDigits)) throw new RangeError('ten digits expected');
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += Number(tenDigits[9 - i]) * ((i % 6) + 2);
  const r = sum % 11;
  return r <= 1 ? 0 : 11 - r;
}

export function isValidRecordCode(code: string): boolean {
  return /^\d{11}$/.test(code) && recordCodeCheckDigit(code.slice(0, 10)) === Number(code[10]);
}

/** Why a typed resident-record code is not one (digits as people type them: spaces, hyphens, full width). */
export function recordCodeProblem(text: string): string {
  const code = String(text).normalize('NFKC').replace(/[\s\-‐‑‒–—―ー－]/gu, '');
  if (!/^\d{11}$/.test(code)) return `${JSON.stringify(text)} is not a resident-record code (11 digits with a check digit)`;
  if (!isValidRecordCode(code)) return `the check digit of the resident-record code ${code} is wrong (${code.slice(0, 10)}${recordCodeCheckDigit(code.slice(0, 10))} would be right): mistyped?`;
  return '';
}

export function newRecordCode(): string {
  let ten = '';
  for (let i = 0; i < 10; i++) ten += String(randomInt(10));
  return `${ten}${recordCodeCheckDigit(ten)}`;
}
