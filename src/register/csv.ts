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

/** Rows of fields with the line each row starts on. */
export function parseCsv(text: string): { line: number; fields: string[] }[] {
  const rows: { line: number; fields: string[] }[] = [];
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let line = 1;
  while (i < text.length) {
    const start = line;
    const fields: string[] = [];
    for (;;) {
      let value = '';
      if (text[i] === '"') {
        i++;
        for (;;) {
          if (i >= text.length) throw importError(start, 'a quoted field is not closed');
          const c = text[i]!;
          if (c === '"') {
            if (text[i + 1] === '"') (value += '"'), (i += 2);
            else {
              i++;
              break;
            }
          } else {
            if (c === '\n') line++;
            value += c;
            i++;
          }
        }
        if (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') throw importError(line, 'text after a closing quote');
      } else {
        while (i < text.length && text[i] !== ',' && text[i] !== '\n' && text[i] !== '\r') value += text[i++];
      }
      fields.push(value);
      if (text[i] === ',') {
        i++;
        continue;
      }
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      line++;
      break;
    }
    if (!(fields.length === 1 && fields[0] === '')) rows.push({ line: start, fields });
  }
  return rows;
}

/** The residents an import file describes, each with its line number. */
export function residentsFromCsv(text: string): { line: number; resident: NewResident }[] {
  const rows = parseCsv(text);
  if (rows.length === 0) throw importError(1, 'the file is empty (a header row is needed)');
  const header = rows[0]!.fields.map((h) => h.trim().toLowerCase());
  for (const h of header) if (!(h in IMPORT_COLUMNS)) throw importError(1, `unknown column ${JSON.stringify(h)} (known: ${Object.keys(IMPORT_COLUMNS).join(', ')})`, h);
  for (const r of REQUIRED) if (!header.includes(r)) throw importError(1, `the header lacks the column ${r}`, r);
  if (new Set(header).size !== header.length) throw importError(1, 'a column appears twice in the header');
  return rows.slice(1).map(({ line, fields }) => {
    if (fields.length !== header.length) throw importError(line, `${fields.length} fields where the header has ${header.length}`);
    const resident: Record<string, string> = {};
    header.forEach((h, i) => {
      const v = fields[i]!.trim();
      if (v !== '') resident[IMPORT_COLUMNS[h as keyof typeof IMPORT_COLUMNS]] = v;
    });
    for (const r of REQUIRED) if (resident[IMPORT_COLUMNS[r]] === undefined) throw importError(line, `${r} is empty`, r);
    return { line, resident: resident as unknown as NewResident };
  });
}
