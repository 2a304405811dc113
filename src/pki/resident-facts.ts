import { childList, children, DerError, explicit, implicit, oid, readOid, readSingle, readString, sequence, TAG, utf8String } from './der.js';
import { encodeDateOfBirth, decodeDateOfBirth, parseIsoDate, ERAS } from './era.js';
import { prefectureByCode } from './prefectures.js';
import { PkiError } from './errors.js';
import {
  OID_JPKI_ADDRESS,
  OID_JPKI_ADDRESS_SUBSTITUTE,
  OID_JPKI_DATE_OF_BIRTH,
  OID_JPKI_NAME,
  OID_JPKI_NAME_SUBSTITUTE,
  OID_JPKI_SEX,
} from './oids.js';

/**
 * The resident's "basic four facts" (基本4情報) as the signing certificate carries them: subjectAltName
 * otherNames 1.2.392.200149.8.5.5.1–.6, each a UTF8String (jpki-profile.md §1.1).
 */
export interface ResidentFacts {
  /** Surname and given name separated by one full-width space (U+3000): 公的　一郎. */
  name: string;
  /** One digit per character of the name, '1' where a substitute character stands; default all '0'. */
  nameSubstitute?: string;
  /** '1' male, '2' female (we emit only these; '3' and '9' are accepted when reading). */
  sex: string;
  /** Gregorian date of birth, YYYY-MM-DD; written era-coded as EYYYYMMDD. */
  dateOfBirth: string;
  /** From the prefecture on, no postal code; at most 200 characters. */
  address: string;
  addressSubstitute?: string;
}

/** Limits of our profile. The address limit is the real one; the name limit is our choice. */
export const MAX_ADDRESS_LENGTH = 200;
export const MAX_NAME_LENGTH = 100;

/** Characters as the substitute flags count them: code points (a full-width space is one character). */
export function characterCount(s: string): number {
  return Array.from(s).length;
}

function violation(message: string): PkiError {
  return new PkiError('CERTIFICATE_PROFILE_VIOLATION', message);
}

function invalid(message: string, field: string): PkiError {
  return new PkiError('RESIDENT_FACTS_INVALID', message, { field });
}

// ---- the one validator of resident facts (the register's and the CA's) --------------------------------

/** A fact that may not be certified, with the field it is in and a stable code. */
export interface ResidentFactProblem {
  field: 'name' | 'address' | 'dateOfBirth' | 'sex' | 'nameSubstitute' | 'addressSubstitute' | 'municipality';
  code: 'RESIDENT_INVALID' | 'ADDRESS_OUTSIDE_MUNICIPALITY' | 'ADDRESS_OUTSIDE_PREFECTURE' | 'MUNICIPALITY_UNKNOWN' | 'MUNICIPALITY_OUTSIDE_PREFECTURE';
  message: string;
}

/** What the facts are checked against besides themselves. */
export interface ResidentFactsContext {
  /** Today in Japan (YYYY-MM-DD): a date of birth after it does not exist yet. */
  today?: string;
  /** JIS code of the prefecture whose governor certifies: the address must lie in it. */
  prefecture?: string;
  /** The municipality named (its code) and what the register's lookup found for it (undefined: unknown). */
  municipality?: { code: string; entry: { prefecture: string; name: string } | undefined };
}

/** The first day of the Meiji era: the profile's era codes begin there (era.ts). */
export const EARLIEST_DATE_OF_BIRTH = ERAS[0]!.start;

/**
 * Characters no certified text may hold: C0 and C1 controls and DEL; U+FFFD (a decoder's replacement
 * character: the real character was lost); the bidirectional controls (LRM, RLM, ALM, the embeddings,
 * overrides and isolates), which make a name display as something it is not; unpaired surrogates, which have
 * no UTF-8 form.
 */
const FORBIDDEN: { re: RegExp; what: string }[] = [
  { re: /[\u0000-\u001f\u007f-\u009f]/u, what: 'control characters' },
  { re: /\ufffd/u, what: 'U+FFFD (a replacement character: the original character was lost)' },
  { re: /[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]/u, what: 'bidirectional control characters' },
  { re: /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/, what: 'an unpaired surrogate' },
];

function textProblem(text: string, field: 'name' | 'address', max: number): ResidentFactProblem | undefined {
  const what = field === 'name' ? 'the name' : 'the address';
  if (text.trim().length === 0) return { field, code: 'RESIDENT_INVALID', message: `${what} is empty` };
  if (characterCount(text) > max) return { field, code: 'RESIDENT_INVALID', message: `${what} has ${characterCount(text)} characters; at most ${max} are allowed` };
  for (const f of FORBIDDEN) if (f.re.test(text)) return { field, code: 'RESIDENT_INVALID', message: `${what} contains ${f.what}` };
  return undefined;
}

export function nameProblem(name: string): ResidentFactProblem | undefined {
  return textProblem(name, 'name', MAX_NAME_LENGTH);
}

/** The address: well-formed text, in the CA's prefecture, beginning with its municipality's name. */
export function addressProblem(address: string, ctx: ResidentFactsContext = {}): ResidentFactProblem | undefined {
  const text = textProblem(address, 'address', MAX_ADDRESS_LENGTH);
  if (text) return text;
  const place = municipalityProblem(ctx);
  if (place) return place;
  const m = ctx.municipality;
  if (m?.entry) {
    const prefix = `${prefectureByCode(m.entry.prefecture)?.name ?? ''}${m.entry.name}`;
    if (!address.startsWith(prefix) || address.length === prefix.length)
      return { field: 'address', code: 'ADDRESS_OUTSIDE_MUNICIPALITY', message: `the address ${JSON.stringify(address)} must begin with ${prefix} and go on from there` };
  }
  if (ctx.prefecture !== undefined) {
    const p = prefectureByCode(ctx.prefecture);
    if (p && !address.startsWith(p.name))
      return { field: 'address', code: 'ADDRESS_OUTSIDE_PREFECTURE', message: `the address ${JSON.stringify(address)} is not in ${p.name}, whose governor certifies it` };
  }
  return undefined;
}

/** The municipality named is one the register knows, in the certifying governor's prefecture. */
export function municipalityProblem(ctx: ResidentFactsContext): ResidentFactProblem | undefined {
  const m = ctx.municipality;
  if (m && !m.entry) return { field: 'municipality', code: 'MUNICIPALITY_UNKNOWN', message: `no municipality with code ${JSON.stringify(m.code)} in the register` };
  if (m?.entry && ctx.prefecture !== undefined && m.entry.prefecture !== ctx.prefecture)
    return {
      field: 'municipality',
      code: 'MUNICIPALITY_OUTSIDE_PREFECTURE',
      message: `municipality ${m.code} is in ${prefectureByCode(m.entry.prefecture)?.name ?? m.entry.prefecture}, not in ${prefectureByCode(ctx.prefecture)?.name ?? ctx.prefecture} whose governor certifies`,
    };
  return undefined;
}

/** A real date, from the Meiji era on (the profile has no era code before it), not after today. */
export function dateOfBirthProblem(date: string, today?: string, field: 'dateOfBirth' = 'dateOfBirth'): ResidentFactProblem | undefined {
  if (!parseIsoDate(date ?? '')) return { field, code: 'RESIDENT_INVALID', message: `${JSON.stringify(date)} is not a real date (YYYY-MM-DD)` };
  if (today !== undefined && date > today) return { field, code: 'RESIDENT_INVALID', message: `${date} is in the future` };
  if (date < EARLIEST_DATE_OF_BIRTH) return { field, code: 'RESIDENT_INVALID', message: `${date} is before ${EARLIEST_DATE_OF_BIRTH}, the first day of the Meiji era` };
  return undefined;
}

export function sexProblem(sex: string): ResidentFactProblem | undefined {
  if (sex !== '1' && sex !== '2') return { field: 'sex', code: 'RESIDENT_INVALID', message: `sex must be 1 (male) or 2 (female), not ${JSON.stringify(sex)}` };
  return undefined;
}

export function flagsProblem(flags: string | undefined, of: string, field: 'nameSubstitute' | 'addressSubstitute'): ResidentFactProblem | undefined {
  if (flags === undefined) return undefined;
  if (!/^[01]*$/.test(flags)) return { field, code: 'RESIDENT_INVALID', message: `${field} may hold only the digits 0 and 1` };
  if (flags.length !== characterCount(of)) return { field, code: 'RESIDENT_INVALID', message: `${field} has ${flags.length} digits but the text has ${characterCount(of)} characters` };
  return undefined;
}

/**
 * Every problem of the facts, in field order: the one set of rules the register applies when it records a
 * resident and the CA applies (as a lint) before it certifies one (issue 10, hole 5).
 */
export function residentFactsProblems(f: ResidentFacts, ctx: ResidentFactsContext = {}): ResidentFactProblem[] {
  const problems = [
    nameProblem(f.name ?? ''),
    addressProblem(f.address ?? '', ctx),
    sexProblem(f.sex),
    dateOfBirthProblem(f.dateOfBirth ?? '', ctx.today),
    flagsProblem(f.nameSubstitute, f.name ?? '', 'nameSubstitute'),
    flagsProblem(f.addressSubstitute, f.address ?? '', 'addressSubstitute'),
  ];
  return problems.filter((p): p is ResidentFactProblem => p !== undefined);
}

/** Checks the facts; throws RESIDENT_FACTS_INVALID naming the field and the rule of the first problem. */
export function validateResidentFacts(f: ResidentFacts, ctx: ResidentFactsContext = {}): void {
  const [first] = residentFactsProblems(f, ctx);
  if (first) throw invalid(first.message, first.field);
}

/** Throws RESIDENT_FACTS_INVALID for the problem, if any (the CA's refusal of a municipality alone). */
export function throwFactProblem(p: ResidentFactProblem | undefined): void {
  if (p) throw invalid(p.message, p.field);
}

function otherName(type: string, value: string): Buffer {
  // GeneralName otherName [0] IMPLICIT SEQUENCE { type-id OID, value [0] EXPLICIT UTF8String }
  return implicit(0, Buffer.concat([oid(type), explicit(0, utf8String(value))]), true);
}

/**
 * The subjectAltName extnValue (GeneralNames) for the facts, in the order a real card has them:
 * .1 name, .4 date of birth, .3 sex, .5 address, .2 and .6 the substitute flags (jpki-profile.md §1.1 b).
 */
export function encodeResidentFactsSan(f: ResidentFacts): Buffer {
  validateResidentFacts(f);
  return sequence(
    otherName(OID_JPKI_NAME, f.name),
    otherName(OID_JPKI_DATE_OF_BIRTH, encodeDateOfBirth(f.dateOfBirth)),
    otherName(OID_JPKI_SEX, f.sex),
    otherName(OID_JPKI_ADDRESS, f.address),
    otherName(OID_JPKI_NAME_SUBSTITUTE, f.nameSubstitute ?? '0'.repeat(characterCount(f.name))),
    otherName(OID_JPKI_ADDRESS_SUBSTITUTE, f.addressSubstitute ?? '0'.repeat(characterCount(f.address))),
  );
}

/** The facts as read back from a certificate, with the raw era-coded date of birth. */
export interface DecodedResidentFacts extends Required<ResidentFacts> {
  /** The value as written, e.g. 319771107. */
  dateOfBirthCode: string;
}

const FIELDS: Record<string, keyof DecodedResidentFacts> = {
  [OID_JPKI_NAME]: 'name',
  [OID_JPKI_NAME_SUBSTITUTE]: 'nameSubstitute',
  [OID_JPKI_SEX]: 'sex',
  [OID_JPKI_DATE_OF_BIRTH]: 'dateOfBirthCode',
  [OID_JPKI_ADDRESS]: 'address',
  [OID_JPKI_ADDRESS_SUBSTITUTE]: 'addressSubstitute',
};

/**
 * Reads the six otherNames from a subjectAltName extnValue. Strict, like the verifiers that check real
 * certificates: exactly the six, each once, each a UTF8String; era-coded date; flags as long as their text.
 * (@peculiar/x509's SubjectAlternativeNameExtension silently drops unknown otherNames; this walks the DER
 * with the project's reader, which is also what keeps it cheap enough for the issuance lint.)
 */
export function decodeResidentFactsSan(extnValue: Uint8Array): DecodedResidentFacts {
  const out: Partial<Record<keyof DecodedResidentFacts, string>> = {};
  try {
    const names = readSingle(extnValue);
    if (names.tag !== TAG.SEQUENCE) throw new DerError('GeneralNames is not a SEQUENCE', 0);
    for (const gn of children(extnValue, names)) {
      // otherName [0] IMPLICIT SEQUENCE { type-id OBJECT IDENTIFIER, value [0] EXPLICIT ANY }
      if (gn.tag !== 0xa0) throw violation('subjectAltName holds a name that is not a JPKI otherName');
      const [typeId, wrapped, ...rest] = childList(extnValue, gn);
      if (!typeId || typeId.tag !== TAG.OID || !wrapped || wrapped.tag !== 0xa0 || rest.length) throw new DerError('malformed otherName', gn.start);
      const oid = readOid(extnValue, typeId);
      const field = FIELDS[oid];
      if (!field) throw violation(`unknown otherName ${oid} in subjectAltName`);
      if (out[field] !== undefined) throw violation(`otherName ${oid} appears twice`);
      const [value, ...extra] = childList(extnValue, wrapped);
      if (!value || extra.length) throw new DerError('malformed otherName value', wrapped.start);
      if (value.tag !== TAG.UTF8_STRING) throw violation(`otherName ${oid} is not a UTF8String`);
      out[field] = readString(extnValue, value);
    }
  } catch (e) {
    if (e instanceof PkiError) throw e;
    throw violation(`subjectAltName is not valid DER: ${(e as Error).message}`);
  }
  const missing = Object.values(FIELDS).filter((f) => out[f] === undefined);
  if (missing.length) throw violation(`subjectAltName lacks ${missing.join(', ')}`);
  const dob = decodeDateOfBirth(out.dateOfBirthCode!);
  if (!dob) throw violation(`date of birth ${JSON.stringify(out.dateOfBirthCode)} is not EYYYYMMDD`);
  const facts = {
    name: out.name!,
    nameSubstitute: out.nameSubstitute!,
    sex: out.sex!,
    dateOfBirth: dob.isoDate,
    dateOfBirthCode: out.dateOfBirthCode!,
    address: out.address!,
    addressSubstitute: out.addressSubstitute!,
  };
  if (!['1', '2', '3', '9'].includes(facts.sex)) throw violation(`sex code ${JSON.stringify(facts.sex)} is unknown`);
  if (facts.nameSubstitute.length !== characterCount(facts.name) || facts.addressSubstitute.length !== characterCount(facts.address))
    throw violation('substitute flags do not match the length of their text');
  return facts;
}
