import { describe, it, expect } from 'vitest';
import { decodeDateOfBirth, encodeDateOfBirth, formatDateOfBirth, formatJapaneseDate, parseIsoDate } from './era.js';

describe('era-coded dates (jpki-profile.md §1.1, §4, §6)', () => {
  it.each([
    ['1977-11-07', '319771107', '昭和52年11月7日'],
    ['1989-01-08', '419890108', '平成元年1月8日'],
    ['1989-01-07', '319890107', '昭和64年1月7日'],
    ['2019-05-01', '520190501', '令和元年5月1日'],
    ['2019-04-30', '420190430', '平成31年4月30日'],
    ['1899-12-01', '118991201', '明治32年12月1日'],
    ['1912-07-30', '219120730', '大正元年7月30日'],
    ['1926-12-25', '319261225', '昭和元年12月25日'],
  ])('%s → %s → %s', (iso, code, shown) => {
    expect(encodeDateOfBirth(iso)).toBe(code);
    expect(decodeDateOfBirth(code)?.isoDate).toBe(iso);
    expect(formatDateOfBirth(code)).toBe(shown);
  });

  it('takes the era from the era digit, not the calendar; 0 shows the Gregorian date', () => {
    expect(formatDateOfBirth('019771107')).toBe('1977年11月7日');
    expect(encodeDateOfBirth('1850-01-01')).toBe('018500101');
  });

  it.each(['000000000', '31977110', '3197711070', '619771107', 'x19771107', '319770230'])('rejects %s', (v) => {
    expect(decodeDateOfBirth(v)).toBeUndefined();
    expect(formatDateOfBirth(v)).toBeUndefined();
  });

  it('rejects dates that do not exist', () => {
    expect(parseIsoDate('1977-02-29')).toBeUndefined();
    expect(parseIsoDate('2024-02-29')).toEqual({ year: 2024, month: 2, day: 29 });
    expect(parseIsoDate('1977-13-01')).toBeUndefined();
    expect(parseIsoDate('77-11-07')).toBeUndefined();
    expect(() => encodeDateOfBirth('1977-02-30')).toThrow(RangeError);
  });

  it('shows certificate dates in JST in the era calendar', () => {
    expect(formatJapaneseDate(new Date('2007-03-31T14:59:59Z'))).toBe('平成19年3月31日');
    expect(formatJapaneseDate(new Date('2004-03-31T15:00:00Z'))).toBe('平成16年4月1日');
    expect(formatJapaneseDate(new Date('2019-04-30T15:00:00Z'))).toBe('令和元年5月1日');
  });
});
