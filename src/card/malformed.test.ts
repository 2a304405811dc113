import { beforeAll, describe, expect, it } from 'vitest';
import { parseCommandApdu } from './apdu.js';
import { SELECT_AP, openImage, personalisedImage, selectEf, send, type Personalised } from '../../test/card/support/cards.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

async function fresh() {
  const { card } = await openImage(p.image);
  card.powerOn();
  await send(card, SELECT_AP);
  await send(card, selectEf('000A'));
  return card;
}

/** Malformed or unsupported C-APDUs and the status word each must get (never an exception). */
const MALFORMED: [string, string, string][] = [
  // too short / too long / lengths that do not add up
  ['an empty APDU', '', '6700'],
  ['1 byte', '00', '6700'],
  ['3 bytes', '00 B0 00', '6700'],
  ['Lc larger than the data', '00 A4 04 0C 0A D3 92 F0', '6700'],
  ['Lc smaller than the data by 2', '00 A4 02 0C 02 00 0A 00 00', '6700'],
  ['data far longer than Lc', '00 20 00 80 01 31 32 33 34', '6700'],
  ['extended Le cut to one byte', '00 B0 00 00 00 01', '6700'],
  ['extended Lc larger than the data', '00 A4 02 0C 00 00 03 00 0A', '6700'],
  ['extended data with a one-byte Le', '80 2A 00 80 00 00 01 30 00', '6700'],
  ['extended Lc of zero', '00 A4 02 0C 00 00 00 00 0A', '6700'],
  // classes
  ['CLA A0 (GSM)', 'A0 A4 00 00 02 3F 00', '6E00'],
  ['CLA FF (PPS)', 'FF B0 00 00 04', '6E00'],
  ['CLA 84 (proprietary with SM)', '84 2A 00 80 01 00 00', '6E00'],
  ['CLA 90 (proprietary, chained)', '90 2A 00 80 01 00 00', '6E00'],
  ['CLA 20 (reserved)', '20 B0 00 00 04', '6E00'],
  ['CLA 01 (logical channel 1)', '01 B0 00 00 04', '6881'],
  ['CLA 40 (further interindustry channel)', '40 B0 00 00 04', '6881'],
  ['CLA 10 (command chaining)', '10 B0 00 00 04', '6884'],
  ['CLA 0C SELECT (secure messaging)', '0C A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01', '6882'],
  ['CLA 0C READ BINARY (secure messaging)', '0C B0 00 00 04', '69FC'],
  ['CLA 08 VERIFY (secure messaging)', '08 20 00 80', '69FC'],
  // instructions
  ['INS 00', '00 00 00 00', '6D00'],
  ['INS FF', '00 FF 00 00', '6D00'],
  ['INTERNAL AUTHENTICATE (not the JPKI signing path)', '00 88 00 00 04 01 02 03 04 00', '6D00'],
  ['ISO PSO COMPUTE DIGITAL SIGNATURE', '00 2A 9E 9A 01 00 00', '6D00'],
  ['MANAGE SECURITY ENVIRONMENT', '00 22 41 B6 03 84 01 01', '6D00'],
  ['READ RECORD', '00 B2 01 04 00', '6D00'],
  ['WRITE BINARY (ISO)', '00 D0 00 00 01 00', '6D00'],
  ['UPDATE BINARY in class 00', '00 D6 00 00 01 00', '6D00'],
  ['RESET RETRY COUNTER in class 00', '00 2C 03 80', '6D00'],
  ['SELECT in class 80', '80 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01', '6D00'],
  ['READ BINARY in class 80', '80 B0 00 00 04', '6D00'],
  ['odd INS B1 (READ BINARY with BER-TLV data)', '00 B1 00 00 04 54 02 00 00 00', '6D00'],
  ['SET PUBLIC IC KEY (80 A2, unused)', '80 A2 00 00 01 00', '6D00'],
  // parameters
  ['SELECT with P1 = 03', '00 A4 03 00 02 3F 00', '6A86'],
  ['READ BINARY with SFI and P1 bit 6', '00 B0 A1 00 04', '6A86'],
  ['VERIFY with P1 = FF', '00 20 FF 80', '6A86'],
  ['COMPUTE DIGITAL SIGNATURE with P1 = 05 (PSS: not offered)', '80 2A 05 80 01 00 00', '6A86'],
  ['GET CHALLENGE with P2 = 01', '00 84 00 01 08', '6A86'],
  ['GET RESPONSE with P2 = 01', '00 C0 00 01 00', '6A86'],
  // data where none is taken, Le where none is given, missing or wrong Le
  ['READ BINARY with data', '00 B0 00 00 01 00 04', '6700'],
  ['READ BINARY without Le', '00 B0 00 00', '6700'],
  ['GET CHALLENGE with data', '00 84 00 00 01 AA 08', '6700'],
  ['GET CHALLENGE with Le 07', '00 84 00 00 07', '6700'],
  ['GET DATA with data', '80 CA 01 01 01 00 00', '6700'],
  ['VERIFY with an Le', '00 20 00 80 00', '6700'],
  ['CHANGE REFERENCE DATA with no data', '00 24 01 80', '6700'],
  ['COMPUTE DIGITAL SIGNATURE without Le', '80 2A 00 80 01 00', '6700'],
  ['COMPUTE DIGITAL SIGNATURE with Le 10', '80 2A 00 80 01 00 10', '6C00'],
  ['ERASE BINARY with an Le', '80 0E 00 00 00', '6700'],
];

describe('malformed APDUs', () => {
  it.each(MALFORMED)('%s → %s', async (_name, hex, sw) => {
    const card = await fresh();
    const r = await card.transmit(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
    expect(r.length).toBe(2);
    expect(r.toString('hex').toUpperCase()).toBe(sw);
  });

  it('leaves the session untouched (the current EF still reads)', async () => {
    const card = await fresh();
    for (const [, hex] of MALFORMED) await card.transmit(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
    await send(card, selectEf('000A'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('9000');
  });

  it('survives 20 000 random APDUs: always a status word, never an exception, never "no precise diagnosis"', async () => {
    const card = await fresh();
    let seed = 0x2545f491;
    const rand = (n: number) => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) % n;
    };
    const odd: string[] = [];
    for (let i = 0; i < 20_000; i++) {
      const length = rand(3) === 0 ? rand(8) : 4 + rand(40);
      const apdu = Buffer.alloc(length);
      for (let j = 0; j < length; j++) apdu[j] = rand(256);
      // Bias towards our classes and instructions so the handlers, not only the dispatcher, see garbage.
      if (length >= 2 && rand(2) === 0) {
        apdu[0] = [0x00, 0x80][rand(2)]!;
        apdu[1] = [0xa4, 0xb0, 0x20, 0x24, 0x84, 0x82, 0xc0, 0x2a, 0xca, 0x47, 0x0e, 0xd6, 0x2c][rand(13)]!;
      }
      if (length >= 5 && rand(2) === 0) apdu[4] = Math.max(0, length - 5 - rand(2));
      const r = await card.transmit(apdu);
      if (r.length < 2 || r.subarray(r.length - 2).toString('hex') === '6f00') odd.push(apdu.toString('hex'));
    }
    expect(odd).toEqual([]);
  });
});

describe('parseCommandApdu', () => {
  it.each([
    ['case 1', '00A4000C', { data: '', le: null }],
    ['case 2, Le 00 = 256', '00B0000000', { data: '', le: 256 }],
    ['case 2, Le 04', '00B0000004', { data: '', le: 4 }],
    ['case 3', '00A4020C02000A', { data: '000a', le: null }],
    ['case 4', '802A008002010200', { data: '0102', le: 256 }],
    ['case 2E, Le 00 00 00 = 65536', '00B00000000000', { data: '', le: 65536, extended: true }],
    ['case 2E, Le 00 06 1C', '00B0000000061C', { data: '', le: 1564, extended: true }],
    ['case 3E', '00D600000000020102', { data: '0102', le: null, extended: true }],
    ['case 4E', '802A0080000002010201 00'.replace(' ', ''), { data: '0102', le: 256, extended: true }],
  ])('parses %s', (_name, hex, want) => {
    const r = parseCommandApdu(Buffer.from(hex, 'hex'));
    expect(r.ok).toBe(true);
    if (r.ok) expect({ data: r.command.data.toString('hex'), le: r.command.le, ...('extended' in want ? { extended: r.command.extended } : {}) }).toEqual(want);
  });

  it.each([
    ['extended Lc 0', '00D6000000000001'],
    ['extended Lc longer than the data', '00D60000000005010203'],
    ['extended header cut short', '00B000000000'],
    ['one byte of extended Le after data', '802A00800000020102FF'],
  ])('refuses %s with 67 00', (_name, hex) => {
    expect(parseCommandApdu(Buffer.from(hex, 'hex'))).toEqual({ ok: false, sw: 0x6700 });
  });
});
