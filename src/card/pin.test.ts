import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCardImage } from './card-image.js';
import type { TearingPoint } from './index.js';
import { AUTH_PIN, FABRICATION_SECRET, SELECT_AP, SIGN_PIN, blankCard, openImage, personalisedImage, selectEf, send, verifyApdu, type Personalised } from '../../test/card/support/cards.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

async function atEf(fid: string, options = {}) {
  const opened = await openImage(p.image, options);
  opened.card.powerOn();
  await send(opened.card, SELECT_AP);
  await send(opened.card, selectEf(fid));
  return opened;
}

const storedTries = (image: Buffer | null) => decodeCardImage(image!, FABRICATION_SECRET).state.pins;

describe('VERIFY: tries-left query (no data)', () => {
  it('answers 63 C3 for the auth PIN and 63 C5 for the signing PIN, spending nothing', async () => {
    const { card } = await atEf('0018');
    for (let i = 0; i < 5; i++) expect((await send(card, '00 20 00 80')).sw).toBe('63C3');
    await send(card, selectEf('001B'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C5');
  });

  it('still answers 63 Cx after a good VERIFY (OpenSC binds on it), and the PIN stays verified', async () => {
    const { card } = await atEf('001B');
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
    expect((await send(card, '00 20 00 80')).sw).toBe('63C5');
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('9000');
  });

  it('answers with the full counter for an unset PIN on a blank card, and 6A 88 to a VERIFY with data', async () => {
    const { card, storage } = await blankCard();
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C3');
    expect((await send(card, verifyApdu('1234'))).sw).toBe('6A88');
    expect(storedTries(storage.image).auth.triesLeft).toBe(3);
  });
});

describe('VERIFY with a PIN', () => {
  it('accepts the right PIN (90 00) and any number of repeats', async () => {
    const { card } = await atEf('001B');
    for (let i = 0; i < 3; i++) expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
  });

  it('counts wrong signing PINs down 63 C4 … 63 C0, then answers 69 83 (blocked) even to the right one', async () => {
    const { card, storage } = await atEf('001B');
    const answers = [];
    for (let i = 0; i < 5; i++) answers.push((await send(card, verifyApdu('WRONG1'))).sw);
    expect(answers).toEqual(['63C4', '63C3', '63C2', '63C1', '63C0']);
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('6983');
    expect((await send(card, verifyApdu('WRONG1'))).sw).toBe('6983');
    expect((await send(card, '00 20 00 80')).sw).toBe('63C0');
    expect(storedTries(storage.image).sign.triesLeft).toBe(0);
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
    // The lock (and the count) survive a re-SELECT of the application, which only logs out.
    expect((await send(card, SELECT_AP)).sw).toBe('9000');
    await send(card, selectEf('001B'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C0');
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('6983');
  });

  it('keeps the tries left across a re-SELECT of the application and a reset', async () => {
    const { card } = await atEf('001B');
    expect((await send(card, verifyApdu('WRONG1'))).sw).toBe('63C4');
    expect((await send(card, SELECT_AP)).sw).toBe('9000');
    await send(card, selectEf('001B'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C4');
    card.reset();
    await send(card, SELECT_AP);
    await send(card, selectEf('001B'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C4');
  });

  it('locks the auth PIN after 3 wrong tries', async () => {
    const { card } = await atEf('0018');
    expect([(await send(card, verifyApdu('0000'))).sw, (await send(card, verifyApdu('0000'))).sw, (await send(card, verifyApdu('0000'))).sw]).toEqual(['63C2', '63C1', '63C0']);
    expect((await send(card, verifyApdu(AUTH_PIN))).sw).toBe('6983');
  });

  it('restores the full counter on success, and a wrong PIN drops an earlier verification', async () => {
    const { card, storage } = await atEf('0018');
    await send(card, verifyApdu('0000'));
    await send(card, verifyApdu('0000'));
    expect((await send(card, '00 20 00 80')).sw).toBe('63C1');
    expect((await send(card, verifyApdu(AUTH_PIN))).sw).toBe('9000');
    expect((await send(card, '00 20 00 80')).sw).toBe('63C3');
    expect(storedTries(storage.image).auth.triesLeft).toBe(3);
    await send(card, verifyApdu('0000'));
    await send(card, selectEf('0017'));
    expect((await send(card, '80 2A 00 80 05 01 02 03 04 05 00')).sw).toBe('6982');
  });

  it.each([
    ['a lower-case signing PIN', '001B', 'abc123'],
    ['a signing PIN without a digit', '001B', 'ABCDEF'],
    ['a signing PIN without a letter', '001B', '123456'],
    ['a 5-character signing PIN', '001B', 'ABC12'],
    ['a 17-character signing PIN', '001B', 'ABCDEFGH123456789'],
    ['a 3-digit auth PIN', '0018', '123'],
    ['a 5-digit auth PIN', '0018', '12345'],
    ['an auth PIN with a letter', '0018', '12A4'],
    ['non-ASCII bytes', '0018', '\u00e9\u00e9\u00e9\u00e9'],
  ] as const)('refuses %s with 6A 80 without spending a try', async (_name, fid, pin) => {
    const { card, storage } = await atEf(fid);
    const writes = storage.writes;
    expect((await send(card, `00 20 00 80 ${Buffer.from(pin, 'latin1').length.toString(16).padStart(2, '0')} ${Buffer.from(pin, 'latin1').toString('hex')}`)).sw).toBe('6A80');
    expect((await send(card, '00 20 00 80')).sw).toBe(fid === '0018' ? '63C3' : '63C5');
    expect(storage.writes).toBe(writes);
  });

  it('names the PIN EF by short identifier in P2 (98, 9B) without a SELECT', async () => {
    const { card } = await atEf('000A');
    expect((await send(card, '00 20 00 9B')).sw).toBe('63C5');
    expect((await send(card, `00 20 00 98 04 ${Buffer.from(AUTH_PIN).toString('hex')}`)).sw).toBe('9000');
  });

  it.each([
    ['P1 = 01', '00 20 01 80', '6A86'],
    ['P2 = 81', '00 20 00 81', '6A86'],
    ['P2 = 00', '00 20 00 00', '6A86'],
    ['P2 = 97 (a key EF, not a PIN)', '00 20 00 97', '6A86'],
    ['an Le', '00 20 00 80 00', '6700'],
    ['a PIN and an Le', '00 20 00 80 04 31 32 33 34 00', '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    const { card } = await atEf('0018');
    expect((await send(card, apdu)).sw).toBe(sw);
  });

  it('answers 69 86 when the current EF is not a PIN EF, or there is none', async () => {
    const { card } = await atEf('000A');
    expect((await send(card, '00 20 00 80')).sw).toBe('6986');
    await send(card, SELECT_AP);
    expect((await send(card, verifyApdu(AUTH_PIN))).sw).toBe('6986');
  });
});

describe('VERIFY anti-tearing', () => {
  it('has the spent try on disk before the PIN is compared, even for the right PIN', async () => {
    const seen: { point: TearingPoint; stored: number }[] = [];
    const { card, storage } = await openImage(p.image, {
      hooks: { tearingPoint: (point: TearingPoint) => seen.push({ point, stored: storedTries(storage.image).sign.triesLeft }) },
    });
    card.powerOn();
    await send(card, SELECT_AP);
    await send(card, selectEf('001B'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
    expect(seen).toEqual([{ point: 'pin-try-spent', stored: 4 }]);
    expect(storedTries(storage.image).sign.triesLeft).toBe(5);
  });

  it('a card pulled at the tearing point keeps the try spent: reopening the image shows it', async () => {
    const { card, storage } = await openImage(p.image, {
      hooks: {
        tearingPoint: () => {
          throw new Error('power lost');
        },
      },
    });
    card.powerOn();
    await send(card, SELECT_AP);
    await send(card, selectEf('001B'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('6F00');
    const reopened = await openImage(storage.image!);
    reopened.card.powerOn();
    await send(reopened.card, SELECT_AP);
    await send(reopened.card, selectEf('001B'));
    expect((await send(reopened.card, '00 20 00 80')).sw).toBe('63C4');
  });

  it('answers 65 81 and compares nothing when the counter cannot be written', async () => {
    const { card, storage } = await atEf('001B');
    storage.failWrites = true;
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('6581');
    expect((await send(card, '00 20 00 80')).sw).toBe('63C5');
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
  });

});

describe('CHANGE REFERENCE DATA', () => {
  it('changes a verified PIN: the new one verifies, the old one is wrong', async () => {
    const { card } = await atEf('001B');
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
    expect((await send(card, `00 24 01 80 07 ${Buffer.from('NEWPW99').toString('hex')}`)).sw).toBe('9000');
    await send(card, SELECT_AP);
    await send(card, selectEf('001B'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('63C4');
    expect((await send(card, verifyApdu('NEWPW99'))).sw).toBe('9000');
  });

  it('needs the same PIN verified in this session (69 82)', async () => {
    const { card } = await atEf('0018');
    expect((await send(card, `00 24 01 80 04 ${Buffer.from('9999').toString('hex')}`)).sw).toBe('6982');
    await send(card, selectEf('001B'));
    await send(card, verifyApdu(SIGN_PIN));
    await send(card, selectEf('0018'));
    expect((await send(card, `00 24 01 80 04 ${Buffer.from('9999').toString('hex')}`)).sw).toBe('6982');
  });

  it('answers 69 83 on a blocked PIN', async () => {
    const { card } = await atEf('0018');
    for (let i = 0; i < 3; i++) await send(card, verifyApdu('0000'));
    expect((await send(card, `00 24 01 80 04 ${Buffer.from('9999').toString('hex')}`)).sw).toBe('6983');
  });

  it.each([
    ['a badly formed new PIN', `00 24 01 80 03 ${Buffer.from('999').toString('hex')}`, '6A80'],
    ['P1 = 00 (old and new together)', `00 24 00 80 08 ${Buffer.from('12349999').toString('hex')}`, '6A86'],
    ['P2 = 01', `00 24 01 01 04 ${Buffer.from('9999').toString('hex')}`, '6A86'],
    ['no data', '00 24 01 80', '6700'],
    ['an Le', `00 24 01 80 04 ${Buffer.from('9999').toString('hex')} 00`, '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    const { card } = await atEf('0018');
    await send(card, verifyApdu(AUTH_PIN));
    expect((await send(card, apdu)).sw).toBe(sw);
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    expect((await send(card, verifyApdu(AUTH_PIN))).sw).toBe('9000');
  });
});
