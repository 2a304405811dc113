import { RegisterError } from './errors.js';
import type { NewResident } from './register.js';

/**
 * The import file of `jpki register import`: UTF-8 CSV (RFC 4180 quoting, optional BOM) with a header row.
 * Columns, in any order: name, birth, sex, address, municipality (required), name_substitute,
 * address_substitute, record_code (optional). Unknown columns are refused rather than ignored.
 */
export const IMPORT_COLUMNS = {
  name: 'name',
  birth: 'dateOfBirth',
  sex: 'sex',
  address: 'address',
  municipality: 'municipality',
  name_substitute: 'nameSubstitute',
  address_substitute: 'addressSubstitute',
  record_code: 'recordCode',
} as const satisfies Record<string, keyof NewResident>;

const REQUIRED = ['name', 'birth', 'sex', 'address', 'municipality'] as const;

function importError(line: number, message: string, field?: string): RegisterError {
  return new RegisterError('REGISTER_IMPORT_INVALID', `line ${line}: ${message}`, { line, ...(field ? { field } : {}) });
}

const COMMA = 44;
const LF = 10;
const CR = 13;
const QUOTE = 34;

/**
 * Rows of fields with the line each row starts on, one at a time (a million-row file is read once, without
 * holding every row). Blank lines are skipped; a quoted field may span lines.
 */
export function* csvRows(text: string): Generator<{ line: number; fields: string[] }> {
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  const n = text.length;
  while (i < n) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value: string;
      if (text.charCodeAt(i) === QUOTE) {
        i++;
        value = '';
        for (;;) {
          const q = text.indexOf('"', i);
          if (q < 0) throw importError(start, 'a quoted field is not closed');
          const part = text.slice(i, q);
          for (let k = part.indexOf('\n'); k >= 0; k = part.indexOf('\n', k + 1)) line++;
          value += part;
          if (text.charCodeAt(q + 1) === QUOTE) {
            value += '"';
            i = q + 2;
          } else {
            i = q + 1;
            break;
          }
        }
        const c = text.charCodeAt(i);
        if (i < n && c !== COMMA && c !== LF && c !== CR) throw importError(line, 'text after a closing quote');
      } else {
        let j = i;
        for (; j < n; j++) {
          const c = text.charCodeAt(j);
          if (c === COMMA || c === LF || c === CR) break;
        }
        value = text.slice(i, j);
        i = j;
      }
      fields.push(value);
      if (text.charCodeAt(i) === COMMA) {
        i++;
        continue;
      }
      if (text.charCodeAt(i) === CR) i++;
      if (text.charCodeAt(i) === LF) i++;
      line++;
      break;
    }
    if (!(fields.length === 1 && fields[0] === '')) yield { line: start, fields };
  }
}

/** Rows of fields with the line each row starts on. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  return [...csvRows(text)];
}

export type ImportHeader = readonly (keyof typeof IMPORT_COLUMNS)[];

/** The header row's columns, checked (unknown, missing or repeated columns are refused on line 1). */
export function importHeader(row: { fields: string[] } | undefined): ImportHeader {
  if (!row) throw importError(1, 'the file is empty (a header row is needed)');
  const header = row.fields.map((h) => h.trim().toLowerCase());
  for (const h of header) if (!(h in IMPORT_COLUMNS)) throw importError(1, `unknown column ${JSON.stringify(h)} (known: ${Object.keys(IMPORT_COLUMNS).join(', ')})`, h);
  for (const r of REQUIRED) if (!header.includes(r)) throw importError(1, `the header lacks the column ${r}`, r);
  if (new Set(header).size !== header.length) throw importError(1, 'a column appears twice in the header');
  return header as ImportHeader;
}

/** One data row as a new resident (fields trimmed; empty optional fields left out). */
export function residentFromRow(header: ImportHeader, { line, fields }: { line: number; fields: string[] }): NewResident {
  if (fields.length !== header.length) throw importError(line, `${fields.length} fields where the header has ${header.length}`);
  const resident: Record<string, string> = {};
  for (let i = 0; i < header.length; i++) {
    const v = fields[i]!.trim();
    if (v !== '') resident[IMPORT_COLUMNS[header[i]!]] = v;
  }
  for (const r of REQUIRED) if (resident[IMPORT_COLUMNS[r]] === undefined) throw importError(line, `${r} is empty`, r);
  return resident as unknown as NewResident;
}

/** The residents an import file describes, each with its line number. */
export function residentsFromCsv(text: string): { line: number; resident: NewResident }[] {
  const rows = csvRows(text);
  const first = rows.next();
  const header = importHeader(first.done ? undefined : first.value);
  const out: { line: number; resident: NewResident }[] = [];
  for (const row of rows) out.push({ line: row.line, resident: residentFromRow(header, row) });
  return out;
}
