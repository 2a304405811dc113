import { beforeAll, describe, expect, it } from 'vitest';
import { ATR, OPENSC_TABLE_ATR } from './index.js';
import { advertisesExtendedLength, historicalBytes } from '../reader/jpki-client.js';
import { AUTH_PIN, SELECT_AP, SIGN_PIN, blankCard, openImage, personalisedImage, selectEf, send, verifyApdu, type Personalised } from '../../test/card/support/cards.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

async function fresh() {
  const { card } = await openImage(p.image);
  card.powerOn();
  return card;
}

describe('ATR and EF.ATR/INFO', () => {
  it('is OpenSC\u2019s jpki ATR with historical bytes that advertise extended length, and a right TCK', async () => {
    expect(ATR.toString('hex').toUpperCase()).toBe('3BE500FF8131FE45807394016017');
    // T0 = E5: TB1 TC1 TD1 and five historical bytes; the interface bytes are those of OpenSC's table.
    expect(ATR.subarray(2, 8).equals(OPENSC_TABLE_ATR.subarray(2, 8))).toBe(true);
    // Compact-TLV 73 (card capabilities): third byte b7 = extended Lc/Le, b6 = details in EF.ATR/INFO.
    expect(ATR[9]).toBe(0x73);
    expect(ATR[12]! & 0x60).toBe(0x60);
    expect(ATR.subarray(1).reduce((x, b) => x ^ b, 0)).toBe(0); // TCK: XOR of T0…TCK is 0
    expect((await fresh()).atr.equals(ATR)).toBe(true);
    // what clients read from it
    expect(Buffer.from(historicalBytes(ATR)!).toString('hex')).toBe('8073940160');
    expect(advertisesExtendedLength(ATR)).toBe(true);
    expect(advertisesExtendedLength(OPENSC_TABLE_ATR)).toBe(false);
    expect(advertisesExtendedLength(Buffer.from('3BDA13FF8131FB468012392F31C173C601C03B', 'hex'))).toBe(true); // the My Number card's: 73 C6 01 C0
  });

  it('EF.ATR/INFO (2F01) tells the largest command and response APDUs, before the AP is selected', async () => {
    const card = await fresh();
    expect((await send(card, '00 A4 02 0C 02 2F 01')).sw).toBe('9000');
    const info = await send(card, '00 B0 00 00 00');
    expect(info.sw).toBe('9000');
    expect(info.data.toString('hex').toUpperCase()).toBe('4703940160' + '7F660A' + '0203010008' + '0203010002');
    // the same by short EF identifier 01 after a reset
    card.reset();
    expect((await send(card, '00 B0 81 00 00')).data.equals(info.data)).toBe(true);
    expect((await send(card, '00 A4 02 0C 02 00 01')).sw).toBe('6A82');
  });
});

describe('extended-length READ BINARY', () => {
  it('returns a whole certificate in one answer to a 3-byte Le, and 6B 00 past the end', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    for (const [fid, der] of [['000A', p.certificates.auth], ['000B', p.certificates['auth-ca']], ['0002', p.certificates['sign-ca']]] as const) {
      await send(card, selectEf(fid));
      const r = await send(card, '00 B0 00 00 00 00 00');
      expect(r.sw).toBe('9000');
      expect(r.data.equals(der)).toBe(true);
      expect(der.length).toBeGreaterThan(256);
      // an extended Le smaller than the rest: exactly that many
      expect((await send(card, '00 B0 00 10 00 01 2C')).data.equals(der.subarray(16, 16 + 300))).toBe(true);
      const end = der.length.toString(16).padStart(4, '0');
      expect((await send(card, `00 B0 ${end.slice(0, 2)} ${end.slice(2)} 00 00 00`)).sw).toBe('6B00');
    }
    // the short last chunk of a short read: the remaining bytes with 90 00
    const last = p.certificates.auth.length - 10;
    const at = last.toString(16).padStart(4, '0');
    await send(card, selectEf('000A'));
    expect(await send(card, `00 B0 ${at.slice(0, 2)} ${at.slice(2)} 00`)).toEqual({ data: p.certificates.auth.subarray(last), sw: '9000' });
  });
});

describe('SELECT FILE', () => {
  it('selects the JPKI AP with P2 = 0C and with P2 = 00, returning no FCI', async () => {
    const card = await fresh();
    expect(await send(card, SELECT_AP)).toEqual({ data: Buffer.alloc(0), sw: '9000' });
    expect(await send(card, '00 A4 04 00 0A D3 92 F0 00 26 01 00 00 00 01')).toEqual({ data: Buffer.alloc(0), sw: '9000' });
  });

  it.each([
    ['MuscleApplet', '00 A4 04 00 07 62 76 01 FF 00 00 00'],
    ['A0 00 00 00 01 01', '00 A4 04 00 06 A0 00 00 00 01 01'],
    ['E8 2B …', '00 A4 04 00 0B E8 2B 06 01 04 01 81 C3 1F 02 01 00'],
    ['EstEID', '00 A4 04 0C 0F D2 33 00 00 00 45 73 74 45 49 44 20 76 33 35'],
    ['PIV', '00 A4 04 00 09 A0 00 00 03 08 00 00 10 00 00'],
    ['CAC', '00 A4 04 0C 07 A0 00 00 01 16 DB 00 00'],
    ['CAC 79', '00 A4 04 0C 07 A0 00 00 00 79 01 0F 00'],
    ['F2 76 …', '00 A4 04 00 0C F2 76 A2 88 BC FB A6 9D 34 F3 10 01'],
    ['GIDS', '00 A4 04 00 09 A0 00 00 03 97 42 54 46 59 00'],
    ['OpenPGP', '00 A4 04 00 06 D2 76 00 01 24 01 00'],
    ['券面事項入力補助AP', '00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 08'],
    ['券面事項確認AP', '00 A4 04 0C 0A D3 92 10 00 31 00 01 01 04 02'],
    ['住基AP', '00 A4 04 0C 0A D3 92 10 00 31 00 01 01 01 00'],
    ['a prefix of the JPKI AID', '00 A4 04 0C 09 D3 92 F0 00 26 01 00 00 00'],
  ])('answers 6A 82 to a foreign AID (%s), so no other OpenSC driver claims the card', async (_name, apdu) => {
    expect((await send(await fresh(), apdu)).sw).toBe('6A82');
  });

  it('keeps the current selection when a SELECT fails', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf('000A'));
    expect((await send(card, '00 A4 04 00 06 D2 76 00 01 24 01 00')).sw).toBe('6A82');
    expect((await send(card, selectEf('0099'))).sw).toBe('6A82');
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('9000');
  });

  it('selects every EF of §1.2 under the AP and answers 6A 82 to unknown FIDs', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    for (const fid of ['0001', '0002', '000A', '000B', '0006', '0008', '0017', '0018', '001A', '001B']) expect((await send(card, selectEf(fid))).sw, fid).toBe('9000');
    for (const fid of ['0005', '0009', '0016', '3F00', 'FFFF']) expect((await send(card, selectEf(fid))).sw, fid).toBe('6A82');
  });

  it('answers 6A 82 to an EF before the AP is selected', async () => {
    expect((await send(await fresh(), selectEf('000A'))).sw).toBe('6A82');
  });

  it('treats SELECT MF as the real card does: 6A 86 after reset, 90 00 without effect once the AP is current, 6A 82 for 3F00', async () => {
    const card = await fresh();
    expect((await send(card, '00 A4 00 00')).sw).toBe('6A86');
    await send(card, SELECT_AP);
    await send(card, selectEf('000A'));
    expect((await send(card, '00 A4 00 00')).sw).toBe('9000');
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('9000');
    expect((await send(card, '00 A4 00 00 02 3F 00')).sw).toBe('6A82');
  });

  it.each([
    ['P1 = 01', '00 A4 01 0C 02 00 0A', '6A86'],
    ['P1 = 08 (path)', '00 A4 08 0C 02 00 0A', '6A86'],
    ['P2 = 04 (FCP)', '00 A4 02 04 02 00 0A', '6A86'],
    ['EF with a 1-byte FID', '00 A4 02 0C 01 0A', '6700'],
    ['EF with a 3-byte FID', '00 A4 02 0C 03 00 00 0A', '6700'],
    ['DF name without data', '00 A4 04 0C', '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    const card = await fresh();
    await send(card, SELECT_AP);
    expect((await send(card, apdu)).sw).toBe(sw);
  });

  it('logs out on SELECT of the AP: the signing certificate is unreadable again', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf('001B'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('9000');
    await send(card, SELECT_AP);
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
  });
});

describe('READ BINARY', () => {
  it('reads the token info: JPKIAPICCTOKEN2 space-padded to 32 bytes, 160 bytes in all', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf('0006'));
    const name = await send(card, '00 B0 00 00 20');
    expect(name).toEqual({ data: Buffer.from('JPKIAPICCTOKEN2'.padEnd(32, ' ')), sw: '9000' });
    expect((await send(card, '00 B0 00 00 00')).data.length).toBe(160);
    expect((await send(card, '00 B0 00 A0 01')).sw).toBe('6B00');
  });

  it('reads EF 0008 as 8F 8F 00 on a card with both certificates, 00 00 00 on a blank one', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf('0008'));
    expect((await send(card, '00 B0 00 00 00')).data.toString('hex')).toBe('8f8f00');
    const { card: blank } = await blankCard();
    await send(blank, SELECT_AP);
    await send(blank, selectEf('0008'));
    expect((await send(blank, '00 B0 00 00 03')).data.toString('hex')).toBe('000000');
  });

  it('reads a free certificate the way OpenSC does: 4-byte header, then 256-byte chunks from offset 0', async () => {
    const card = await fresh();
    const der = p.certificates.auth;
    await send(card, SELECT_AP);
    await send(card, selectEf('000A'));
    const header = await send(card, '00 B0 00 00 04');
    expect(header.data.subarray(0, 2).toString('hex')).toBe('3082');
    const total = header.data.readUInt16BE(2) + 4;
    expect(total).toBe(der.length);
    const parts: Buffer[] = [];
    for (let offset = 0; offset < total; offset += 256) {
      const n = Math.min(256, total - offset);
      const r = await send(card, `00 B0 ${(offset >> 8).toString(16).padStart(2, '0')} ${(offset & 0xff).toString(16).padStart(2, '0')} ${(n & 0xff).toString(16).padStart(2, '0')}`);
      expect(r.sw).toBe('9000');
      parts.push(r.data);
    }
    expect(Buffer.concat(parts).equals(der)).toBe(true);
  });

  it('returns fewer bytes than Le at the end of the file, and 6B 00 at or past the end', async () => {
    const card = await fresh();
    const size = p.certificates['auth-ca'].length;
    await send(card, SELECT_AP);
    await send(card, selectEf('000B'));
    const last = size - 10;
    const r = await send(card, `00 B0 ${(last >> 8).toString(16).padStart(2, '0')} ${(last & 0xff).toString(16).padStart(2, '0')} 00`);
    expect(r).toEqual({ data: p.certificates['auth-ca'].subarray(last), sw: '9000' });
    expect((await send(card, `00 B0 ${(size >> 8).toString(16).padStart(2, '0')} ${(size & 0xff).toString(16).padStart(2, '0')} 01`)).sw).toBe('6B00');
    expect((await send(card, '00 B0 7F FF 01')).sw).toBe('6B00');
  });

  it('refuses the signing certificate (0001) until the signing PIN is verified; the auth PIN is not enough', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
    await send(card, selectEf('001B'));
    await send(card, verifyApdu(SIGN_PIN));
    await send(card, selectEf('0001'));
    const r = await send(card, '00 B0 00 00 00');
    expect(r.sw).toBe('9000');
    expect(r.data.equals(p.certificates.sign.subarray(0, 256))).toBe(true);
  });

  it('reads 0002, 000A and 000B without any PIN', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    for (const [fid, der] of [['0002', p.certificates['sign-ca']], ['000A', p.certificates.auth], ['000B', p.certificates['auth-ca']]] as const) {
      await send(card, selectEf(fid));
      expect((await send(card, '00 B0 00 00 20')).data.equals(der.subarray(0, 32)), fid).toBe(true);
    }
  });

  it.each([['0017'], ['0018'], ['001A'], ['001B']])('answers 69 81 for PIN and key EF %s (not readable)', async (fid) => {
    const card = await fresh();
    await send(card, SELECT_AP);
    await send(card, selectEf(fid));
    expect((await send(card, '00 B0 00 00 00')).sw).toBe('6981');
  });

  it('answers 69 86 with no current EF (after SELECT AP, and before it)', async () => {
    const card = await fresh();
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6986');
    await send(card, SELECT_AP);
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6986');
  });

  it('reads by short EF identifier (P1 = 80|SFI, P2 = offset), making that EF current', async () => {
    const card = await fresh();
    await send(card, SELECT_AP);
    const r = await send(card, '00 B0 8A 00 04');
    expect(r).toEqual({ data: p.certificates.auth.subarray(0, 4), sw: '9000' });
    expect((await send(card, '00 B0 00 04 04')).data.equals(p.certificates.auth.subarray(4, 8))).toBe(true);
    expect((await send(card, '00 B0 81 00 04')).sw).toBe('6982');
    expect((await send(card, '00 B0 99 00 04')).sw).toBe('6A82');
    expect((await send(card, '00 B0 CA 00 04')).sw).toBe('6A86');
  });

  it('hides a certificate EF the issuer has not written (6A 82), as on a blank card', async () => {
    const { card } = await blankCard();
    await send(card, SELECT_AP);
    for (const fid of ['0001', '0002', '000A', '000B']) expect((await send(card, selectEf(fid))).sw, fid).toBe('6A82');
  });
});
