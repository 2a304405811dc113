/**
 * Japanese era dates as the JPKI profile writes them (jpki-profile.md §1.1, §4): the date of birth is
 * `EYYYYMMDD` — an era code E, then the Gregorian date — and residents see dates in the era calendar.
 */
export interface Era {
  code: '1' | '2' | '3' | '4' | '5';
  name: string;
  /** First day of the era (Gregorian, local date). */
  start: string;
  /** Era year = Gregorian year − offset. */
  offset: number;
}

export const ERAS: readonly Era[] = [
  { code: '1', name: '明治', start: '1868-01-01', offset: 1867 },
  { code: '2', name: '大正', start: '1912-07-30', offset: 1911 },
  { code: '3', name: '昭和', start: '1926-12-25', offset: 1925 },
  { code: '4', name: '平成', start: '1989-01-08', offset: 1988 },
  { code: '5', name: '令和', start: '2019-05-01', offset: 2018 },
];

/** A real calendar date `YYYY-MM-DD`, or undefined (rejects 1977-02-30, 2023-02-29). */
export function parseIsoDate(text: string): { year: number; month: number; day: number } | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return undefined;
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const d = new Date(Date.UTC(year, month - 1, day));
  if (d.getUTCFullYear() !== year || d.getUTCMonth() !== month - 1 || d.getUTCDate() !== day) return undefined;
  return { year, month, day };
}

/** The era a Gregorian date falls in (undefined before Meiji). */
export function eraOf(isoDate: string): Era | undefined {
  let found: Era | undefined;
  for (const e of ERAS) if (isoDate >= e.start) found = e;
  return found;
}

/** `1977-11-07` → `319771107`. A date before Meiji gets era code 0 (unknown). */
export function encodeDateOfBirth(isoDate: string): string {
  const d = parseIsoDate(isoDate);
  if (!d) throw new RangeError(`not a real date: ${isoDate}`);
  const era = eraOf(isoDate);
  return `${era?.code ?? '0'}${isoDate.replace(/-/g, '')}`;
}

export interface DecodedDateOfBirth {
  eraCode: string;
  era: Era | undefined;
  isoDate: string;
}

/** `319771107` → era 昭和, 1977-11-07; undefined when malformed (wrong length, E > 5, impossible date). */
export function decodeDateOfBirth(value: string): DecodedDateOfBirth | undefined {
  const m = /^([0-5])(\d{4})(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const iso = `${m[2]}-${m[3]}-${m[4]}`;
  if (!parseIsoDate(iso)) return undefined;
  const era = ERAS.find((e) => e.code === m[1]);
  return { eraCode: m[1]!, era, isoDate: iso };
}

/**
 * The era form of a date of birth for display, taking the era from the certificate's era digit (not from
 * the calendar), as the profile says: `319771107` → 昭和52年11月7日. The first year is written 元年.
 * Era code 0 (unknown) shows the Gregorian date.
 */
export function formatDateOfBirth(value: string): string | undefined {
  const d = decodeDateOfBirth(value);
  if (!d) return undefined;
  const [y, mo, da] = d.isoDate.split('-').map(Number) as [number, number, number];
  if (!d.era) return `${y}年${mo}月${da}日`;
  const eraYear = y - d.era.offset;
  return `${d.era.name}${eraYear === 1 ? '元' : eraYear}年${mo}月${da}日`;
}

/** An instant shown as a Japanese era date in JST (issue and expiry dates): 2007-03-31T14:59:59Z → 平成19年3月31日. */
export function formatJapaneseDate(at: Date): string {
  const parts = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', {
    era: 'long',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    timeZone: 'Asia/Tokyo',
  }).formatToParts(at);
  const get = (t: string) => parts.find((p) => p.type === t)?.value ?? '';
  const year = get('year') === '1' ? '元' : get('year');
  return `${get('era')}${year}年${get('month')}月${get('day')}日`;
}
