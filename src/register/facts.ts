import { addressProblem, characterCount, dateOfBirthProblem, nameProblem, sexProblem, type ResidentFactProblem } from '../pki/resident-facts.js';
import { parseIsoDate } from '../pki/era.js';
import { RegisterError } from './errors.js';
import { addressPrefix, municipalityByCode, municipalityCodeProblem, type Municipality } from './municipalities.js';

/**
 * Normalising and checking the facts the register records, field by field, with errors that name the
 * field. The same rules apply when a resident is added, imported or changed — and they are the CA's rules
 * too: the checks are the one validator in pki/resident-facts.ts, which the CA runs as a lint before it
 * certifies the facts (issue 10, hole 5).
 */

function refuse(p: ResidentFactProblem | undefined, m?: Municipality, address?: string): void {
  if (!p) return;
  if (p.code === 'ADDRESS_OUTSIDE_MUNICIPALITY' && m)
    throw new RegisterError('ADDRESS_OUTSIDE_MUNICIPALITY', p.message, { field: 'address', address: address ?? '', municipality: m.code, prefix: addressPrefix(m) });
  throw new RegisterError('RESIDENT_INVALID', p.message, { field: p.field });
}

function invalid(field: string, message: string): RegisterError {
  return new RegisterError('RESIDENT_INVALID', message, { field });
}

/** NFC; surname and given name separated by exactly one full-width space (U+3000), as certificates carry it. */
export function normaliseName(raw: string): string {
  return raw.normalize('NFC').trim().replace(/[ \t\u3000]+/g, '\u3000');
}

export function normaliseAddress(raw: string): string {
  return raw.normalize('NFC').trim();
}

export function checkName(name: string): void {
  refuse(nameProblem(name));
}

export function checkAddress(address: string, m: Municipality): void {
  refuse(addressProblem(address, { municipality: { code: m.code, entry: m }, prefecture: m.prefecture }), m, address);
}

/** Substitute-character flags: one 0/1 per character of the text; all zeros when not given. */
export function substituteFlags(flags: string | undefined, text: string, field: string): string {
  if (flags === undefined || flags === '') return '0'.repeat(characterCount(text));
  if (!/^[01]+$/.test(flags)) throw invalid(field, `${field} may hold only the digits 0 and 1`);
  if (flags.length !== characterCount(text)) throw invalid(field, `${field} has ${flags.length} digits but the text has ${characterCount(text)} characters`);
  return flags;
}

export function checkSex(sex: string): '1' | '2' {
  refuse(sexProblem(sex));
  return sex as '1' | '2';
}

/** A date of birth: real, from the Meiji era on, not after `today` (the CA's rule too). */
export function checkDateOfBirth(value: string, today: string): string {
  refuse(dateOfBirthProblem(value, today));
  return value;
}

/** A real date, not after `today` (YYYY-MM-DD, Japan's calendar day). */
export function checkDate(value: string, field: string, today: string, notBefore?: { date: string; what: string }): string {
  if (!parseIsoDate(value)) throw invalid(field, `${JSON.stringify(value)} is not a real date (YYYY-MM-DD)`);
  if (value > today) throw invalid(field, `${value} is in the future`);
  if (notBefore && value < notBefore.date) throw invalid(field, `${value} is before ${notBefore.what} (${notBefore.date})`);
  return value;
}

export function requireMunicipality(code: string): Municipality {
  const m = municipalityByCode(code);
  if (!m) throw new RegisterError('MUNICIPALITY_UNKNOWN', municipalityCodeProblem(code) ?? `no municipality with code ${JSON.stringify(code)} in the register (see jpki register municipalities)`, { field: 'municipality', municipality: code });
  return m;
}

/** Today's date in Japan (the register's calendar), YYYY-MM-DD. */
export function japanDate(at: Date): string {
  return new Date(at.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}
