import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PROJECT_ROOT } from '../common/project-root.js';
import { prefectureByCode, type Prefecture } from '../pki/prefectures.js';

/**
 * The municipalities the register knows: every municipality of Japan (1,741: cities, the 20 designated cities,
 * Tokyo's 23 special wards, towns, villages) and the 171 wards of the designated cities, by JIS X 0402
 * local-government code. The list is data, not code: src/register/data/municipalities.csv, from the Digital
 * Agency's Address Base Registry (edited; provenance, licence and attribution in src/register/data/SOURCE.md).
 *
 * `name` is what follows the prefecture in an address (札幌市中央区, 西多摩郡奥多摩町); `nameEn` the romanised name
 * the signing certificate's subject carries as its second L= (jpki-profile.md §1.2, e.g. Sapporo-shi Chuo-ku).
 */
export interface Municipality {
  /** JIS X 0402 code without its check digit (5 digits): how the register stores it. */
  code: string;
  /** The sixth digit (全国地方公共団体コード's check digit). */
  checkDigit: string;
  prefecture: string;
  name: string;
  kana: string;
  nameEn: string;
  kind: MunicipalityKind;
}

export type MunicipalityKind = 'designated-city' | 'ward' | 'special-ward' | 'city' | 'town' | 'village';
const KINDS: readonly string[] = ['designated-city', 'ward', 'special-ward', 'city', 'town', 'village'];

/** The data file the register loads (read once, on first use). */
export const MUNICIPALITIES_CSV = join(PROJECT_ROOT, 'src', 'register', 'data', 'municipalities.csv');

let table: { list: readonly Municipality[]; byCode: Map<string, Municipality> } | undefined;

function load(): NonNullable<typeof table> {
  if (table) return table;
  const lines = readFileSync(MUNICIPALITIES_CSV, 'utf8').split('\n');
  const header = lines[0]!.trim();
  if (header !== 'code,check_digit,prefecture_code,prefecture,name,kana,romaji,kind') throw new Error(`${MUNICIPALITIES_CSV}: unexpected header ${header}`);
  const list: Municipality[] = [];
  for (const [i, raw] of lines.slice(1).entries()) {
    if (raw.trim() === '') continue;
    const [code, checkDigit, prefecture, , name, kana, nameEn, kind] = raw.split(',');
    if (kind === 'prefecture') continue;
    if (!/^\d{5}$/.test(code ?? '') || checkDigit !== jisCheckDigit(code!) || !prefectureByCode(prefecture ?? '') || !name || !nameEn || !KINDS.includes(kind ?? ''))
      throw new Error(`${MUNICIPALITIES_CSV} line ${i + 2} is not a municipality row: ${raw}`);
    list.push({ code: code!, checkDigit, prefecture: prefecture!, name, kana: kana ?? '', nameEn, kind: kind as MunicipalityKind });
  }
  table = { list, byCode: new Map(list.map((m) => [m.code, m])) };
  return table;
}

/** Every municipality and designated-city ward, ordered by code. */
export function allMunicipalities(): readonly Municipality[] {
  return load().list;
}

/**
 * The check digit of a 5-digit JIS X 0402 code: (11 − (6·d1 + 5·d2 + 4·d3 + 3·d4 + 2·d5) mod 11) mod 10.
 * 13103 → 2 (the full code 131032).
 */
export function jisCheckDigit(fiveDigits: string): string {
  let sum = 0;
  for (let i = 0; i < 5; i++) sum += Number(fiveDigits[i]) * (6 - i);
  return String((11 - (sum % 11)) % 10);
}

/** Digits as people type them: full-width digits become ASCII; spaces and hyphens are dropped. */
export function normaliseDigits(text: string): string {
  return String(text)
    .normalize('NFKC')
    .replace(/[\s\-‐‑‒–—―ー－]/gu, '');
}

/** Why a typed municipality code is not one (undefined when it names a municipality). */
export function municipalityCodeProblem(text: string): string | undefined {
  const code = normaliseDigits(text);
  if (!/^\d{5}$|^\d{6}$/.test(code)) return `${JSON.stringify(text)} is not a municipality code (5 digits of JIS X 0402, or 6 with the check digit)`;
  if (code.length === 6 && jisCheckDigit(code.slice(0, 5)) !== code[5])
    return `the check digit of ${code} is wrong (${code.slice(0, 5)}${jisCheckDigit(code.slice(0, 5))} would be right): mistyped?`;
  const m = load().byCode.get(code.slice(0, 5));
  if (!m) return `no municipality with code ${JSON.stringify(code)} in the register (see jpki register municipalities)`;
  return undefined;
}

/** The municipality a code names: 5 digits, or 6 with a correct check digit (full-width digits, spaces, hyphens allowed). */
export function municipalityByCode(text: string): Municipality | undefined {
  const code = normaliseDigits(text ?? '');
  if (code.length === 6) return jisCheckDigit(code.slice(0, 5)) === code[5] ? load().byCode.get(code.slice(0, 5)) : undefined;
  return code.length === 5 ? load().byCode.get(code) : undefined;
}

/** The 6-digit code with its check digit (131032). */
export function fullCode(m: Municipality): string {
  return `${m.code}${m.checkDigit}`;
}

export function prefectureOf(m: Municipality): Prefecture {
  return prefectureByCode(m.prefecture)!;
}

/** 東京都港区 — how an address in the municipality must begin. */
export function addressPrefix(m: Municipality): string {
  return `${prefectureOf(m).name}${m.name}`;
}
