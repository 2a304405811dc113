import type { Language } from './i18n.js';

/**
 * Dates as residents read them: the Japanese era calendar (令和8年11月27日), in Japan time, whatever the
 * page's language (guide §3: the certificate viewer shows era dates). English and Korean pages add the
 * Gregorian date beside it. Dates of birth come from the API already formatted (`dateOfBirthJa`), from
 * the certificate's own era digit.
 */
const ERA = new Intl.DateTimeFormat('ja-JP-u-ca-japanese', { era: 'long', year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Tokyo' });

export function eraDate(iso: string): string {
  return ERA.format(new Date(iso));
}

const LOCALES: Record<Language, string> = { ja: 'ja-JP', en: 'en-GB', ko: 'ko-KR' };

export function gregorianDate(iso: string, lang: Language): string {
  return new Intl.DateTimeFormat(LOCALES[lang], { year: 'numeric', month: 'long', day: 'numeric', timeZone: 'Asia/Tokyo' }).format(new Date(iso));
}

/** Era date, with the Gregorian one in brackets for English and Korean readers. */
export function residentDate(iso: string, lang: Language, eraText = eraDate(iso)): string {
  return lang === 'ja' ? eraText : `${eraText} (${gregorianDate(iso, lang)})`;
}

/** Time of day in Japan (ledger lines). */
export function timeOfDay(iso: string): string {
  return new Intl.DateTimeFormat('ja-JP', { hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false, timeZone: 'Asia/Tokyo' }).format(new Date(iso));
}

/** Today in Japan, YYYY-MM-DD (the ledger's day). */
export function todayInJapan(now = new Date()): string {
  return new Date(now.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}
