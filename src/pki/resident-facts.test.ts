import { describe, it, expect } from 'vitest';
import { AsnConvert } from '@peculiar/asn1-schema';
import { SubjectAlternativeName, GeneralName, OtherName } from '@peculiar/asn1-x509';
import { decodeResidentFactsSan, encodeResidentFactsSan, validateResidentFacts, type ResidentFacts } from './resident-facts.js';
import { readSingle, childList, readOid } from './der.js';

const ICHIRO: ResidentFacts = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };

describe('the four facts in subjectAltName', () => {
  it('encodes six UTF8String otherNames in the order real cards have them, and decodes them back', () => {
    const san = encodeResidentFactsSan(ICHIRO);
    const seq = readSingle(san);
    const oids = childList(san, seq).map((gn) => readOid(san, childList(san, gn)[0]!));
    expect(oids).toEqual(['.1', '.4', '.3', '.5', '.2', '.6'].map((s) => `1.2.392.200149.8.5.5${s}`));
    expect(decodeResidentFactsSan(san)).toEqual({
      ...ICHIRO,
      dateOfBirthCode: '319771107',
      nameSubstitute: '00000',
      addressSubstitute: '00000000000',
    });
  });

  it('is read identically by the asn1-x509 schema', () => {
    const parsed = AsnConvert.parse(encodeResidentFactsSan(ICHIRO), SubjectAlternativeName);
    expect(parsed).toHaveLength(6);
    expect(parsed[0]!.otherName!.typeId).toBe('1.2.392.200149.8.5.5.1');
    expect(Buffer.from(parsed[0]!.otherName!.value).toString('hex')).toBe(Buffer.concat([Buffer.from([0x0c, Buffer.byteLength('公的　一郎')]), Buffer.from('公的　一郎')]).toString('hex'));
  });

  it('keeps given substitute flags', () => {
    const facts = { ...ICHIRO, nameSubstitute: '00100' };
    expect(decodeResidentFactsSan(encodeResidentFactsSan(facts)).nameSubstitute).toBe('00100');
  });

  it.each<[Partial<ResidentFacts>, RegExp]>([
    [{ name: '' }, /name is empty/],
    [{ name: '　 ' }, /name is empty/],
    [{ name: '公'.repeat(101) }, /101 characters; at most 100/],
    [{ address: '' }, /address is empty/],
    [{ address: 'あ'.repeat(201) }, /201 characters; at most 200/],
    [{ sex: '9' }, /sex must be 1/],
    [{ dateOfBirth: '1977-02-29' }, /not a real date/],
    [{ dateOfBirth: '19771107' }, /not a real date/],
    [{ nameSubstitute: '0000' }, /4 digits but the text has 5/],
    [{ nameSubstitute: '0000x' }, /only the digits 0 and 1/],
    [{ address: '東京都\u0007' }, /control characters/],
  ])('refuses %o', (change, message) => {
    expect(() => validateResidentFacts({ ...ICHIRO, ...change })).toThrow(message);
  });

  it('allows exactly 200 characters of address', () => {
    expect(() => validateResidentFacts({ ...ICHIRO, address: '東'.repeat(200) })).not.toThrow();
  });

  function sanWith(entries: [string, Uint8Array][]): Uint8Array {
    const names = new SubjectAlternativeName(entries.map(([typeId, value]) => new GeneralName({ otherName: new OtherName({ typeId, value: value.buffer.slice(value.byteOffset, value.byteOffset + value.byteLength) as ArrayBuffer }) })));
    return new Uint8Array(AsnConvert.serialize(names));
  }
  const utf8 = (s: string) => new Uint8Array(Buffer.concat([Buffer.from([0x0c, Buffer.byteLength(s)]), Buffer.from(s)]));

  it('decoding is strict: duplicates, missing entries, other string types and bad dates are refused', () => {
    const good: [string, Uint8Array][] = [
      ['1.2.392.200149.8.5.5.1', utf8('公的　一郎')],
      ['1.2.392.200149.8.5.5.2', utf8('00000')],
      ['1.2.392.200149.8.5.5.3', utf8('1')],
      ['1.2.392.200149.8.5.5.4', utf8('319771107')],
      ['1.2.392.200149.8.5.5.5', utf8('東京都')],
      ['1.2.392.200149.8.5.5.6', utf8('000')],
    ];
    expect(decodeResidentFactsSan(sanWith(good)).address).toBe('東京都');
    expect(() => decodeResidentFactsSan(sanWith([...good, good[3]!]))).toThrow(/twice/);
    expect(() => decodeResidentFactsSan(sanWith(good.slice(1)))).toThrow(/lacks name/);
    const printable = new Uint8Array([0x13, 1, 0x31]);
    expect(() => decodeResidentFactsSan(sanWith(good.map((g, i) => (i === 2 ? [g[0], printable] : g))))).toThrow(/not a UTF8String/);
    expect(() => decodeResidentFactsSan(sanWith(good.map((g, i) => (i === 3 ? [g[0], utf8('719771107')] : g))))).toThrow(/EYYYYMMDD/);
    expect(() => decodeResidentFactsSan(sanWith(good.map((g, i) => (i === 5 ? [g[0], utf8('00')] : g))))).toThrow(/substitute flags/);
  });
});
