import { childList, children, DerError, explicit, implicit, oid, readOid, readSingle, readString, sequence, TAG, utf8String } from './der.js';
import { encodeDateOfBirth, decodeDateOfBirth, parseIsoDate } from './era.js';
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

/** Checks the facts against the profile; throws RESIDENT_FACTS_INVALID naming the field and the rule. */
export function validateResidentFacts(f: ResidentFacts): void {
  const name = f.name ?? '';
  if (name.trim().length === 0) throw invalid('the name is empty', 'name');
  if (characterCount(name) > MAX_NAME_LENGTH)
    throw invalid(`the name has ${characterCount(name)} characters; at most ${MAX_NAME_LENGTH} are allowed`, 'name');
  if (/[\u0000-\u001f\u007f]/.test(name)) throw invalid('the name contains control characters', 'name');
  const address = f.address ?? '';
  if (address.trim().length === 0) throw invalid('the address is empty', 'address');
  if (characterCount(address) > MAX_ADDRESS_LENGTH)
    throw invalid(`the address has ${characterCount(address)} characters; at most ${MAX_ADDRESS_LENGTH} are allowed`, 'address');
  if (/[\u0000-\u001f\u007f]/.test(address)) throw invalid('the address contains control characters', 'address');
  if (f.sex !== '1' && f.sex !== '2') throw invalid(`sex must be 1 (male) or 2 (female), not ${JSON.stringify(f.sex)}`, 'sex');
  if (!parseIsoDate(f.dateOfBirth ?? '')) throw invalid(`the date of birth ${JSON.stringify(f.dateOfBirth)} is not a real date (YYYY-MM-DD)`, 'dateOfBirth');
  checkFlags(f.nameSubstitute, name, 'nameSubstitute');
  checkFlags(f.addressSubstitute, address, 'addressSubstitute');
}

function checkFlags(flags: string | undefined, of: string, field: string): void {
  if (flags === undefined) return;
  if (!/^[01]*$/.test(flags)) throw invalid(`${field} may hold only the digits 0 and 1`, field);
  if (flags.length !== characterCount(of))
    throw invalid(`${field} has ${flags.length} digits but the text has ${characterCount(of)} characters`, field);
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
