import { createPrivateKey, createPublicKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeCardImage } from './card-image.js';
import { deriveCardIssuerKey, issuerCryptogram, type TearingPoint } from './index.js';
import type { SoftCard } from './soft-card.js';
import {
  AUTH_PIN,
  CARD_ID,
  FABRICATION_SECRET,
  ISSUER_MASTER_KEY,
  SELECT_AP,
  SIGN_PIN,
  blankCard,
  openImage,
  personalisedImage,
  selectEf,
  send,
  verifyApdu,
  type Personalised,
} from '../../test/card/support/cards.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

const CARD_KEY = deriveCardIssuerKey(ISSUER_MASTER_KEY, CARD_ID);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const lc = (b: Uint8Array) => b.length.toString(16).padStart(2, '0');

async function authenticate(card: SoftCard, key: Uint8Array = CARD_KEY): Promise<string> {
  const challenge = await send(card, '00 84 00 00 10');
  return (await send(card, `00 82 00 01 10 ${hex(issuerCryptogram(key, CARD_ID, challenge.data))}`)).sw;
}

async function freshBlank() {
  const opened = await blankCard();
  await send(opened.card, SELECT_AP);
  return opened;
}

async function freshPersonalised() {
  const opened = await openImage(p.image);
  opened.card.powerOn();
  await send(opened.card, SELECT_AP);
  return opened;
}

const storedIssuerTries = (image: Buffer | null) => decodeCardImage(image!, FABRICATION_SECRET).state.issuer.triesLeft;

describe('GET CHALLENGE', () => {
  it('returns 8 or 16 fresh random bytes', async () => {
    const { card } = await freshBlank();
    const a = await send(card, '00 84 00 00 08');
    const b = await send(card, '00 84 00 00 10');
    const c = await send(card, '00 84 00 00 10');
    expect([a.sw, a.data.length, b.sw, b.data.length]).toEqual(['9000', 8, '9000', 16]);
    expect(b.data.equals(c.data)).toBe(false);
  });

  it.each([
    ['Le = 04', '00 84 00 00 04', '6700'],
    ['Le = 00 (256)', '00 84 00 00 00', '6700'],
    ['no Le', '00 84 00 00', '6700'],
    ['P1 = 01', '00 84 01 00 08', '6A86'],
    ['data', '00 84 00 00 01 AA 08', '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    expect((await send((await freshBlank()).card, apdu)).sw).toBe(sw);
  });
});

describe('EXTERNAL AUTHENTICATE', () => {
  it('accepts the cryptogram made with the card\u2019s diversified key', async () => {
    const { card } = await freshBlank();
    expect(await authenticate(card)).toBe('9000');
  });

  it('refuses a key diversified from another master key or for another card (63 C9), and counts it on disk', async () => {
    const { card, storage } = await freshBlank();
    expect(await authenticate(card, deriveCardIssuerKey(Buffer.alloc(32, 1), CARD_ID))).toBe('63C9');
    expect(await authenticate(card, deriveCardIssuerKey(ISSUER_MASTER_KEY, 'FEDCBA9876543210'))).toBe('63C8');
    expect(storedIssuerTries(storage.image)).toBe(8);
    expect(await authenticate(card)).toBe('9000');
    expect(storedIssuerTries(storage.image)).toBe(10);
  });

  it('locks the issuer interface for good after 10 failures: 63 C0, then 69 83 even for the right key', async () => {
    const { card, storage } = await freshBlank();
    const wrong = Buffer.alloc(32, 9);
    const answers = [];
    for (let i = 0; i < 10; i++) answers.push(await authenticate(card, wrong));
    expect(answers).toEqual(['63C9', '63C8', '63C7', '63C6', '63C5', '63C4', '63C3', '63C2', '63C1', '63C0']);
    expect(await authenticate(card)).toBe('6983');
    const reopened = await openImage(storage.image!);
    reopened.card.powerOn();
    await send(reopened.card, SELECT_AP);
    expect(await authenticate(reopened.card)).toBe('6983');
    await send(reopened.card, selectEf('0017'));
    expect((await send(reopened.card, '80 47 00 80 00')).sw).toBe('6982');
  });

  it('spends the try on disk before comparing (anti-tearing)', async () => {
    const seen: number[] = [];
    const opened = await blankCard({ hooks: { tearingPoint: (point: TearingPoint) => point === 'issuer-try-spent' && seen.push(storedIssuerTries(opened.storage.image)) } });
    await send(opened.card, SELECT_AP);
    expect(await authenticate(opened.card)).toBe('9000');
    expect(seen).toEqual([9]);
  });

  it('uses a challenge once: a replayed cryptogram gets 69 85', async () => {
    const { card } = await freshBlank();
    const challenge = await send(card, '00 84 00 00 10');
    const apdu = `00 82 00 01 10 ${hex(issuerCryptogram(CARD_KEY, CARD_ID, challenge.data))}`;
    expect((await send(card, apdu)).sw).toBe('9000');
    expect((await send(card, apdu)).sw).toBe('6985');
  });

  it('needs a challenge (69 85) and the JPKI AP selected (69 85)', async () => {
    const { card } = await freshBlank();
    expect((await send(card, `00 82 00 01 10 ${'00'.repeat(16)}`)).sw).toBe('6985');
    card.reset();
    await send(card, '00 84 00 00 10');
    expect((await send(card, `00 82 00 01 10 ${'00'.repeat(16)}`)).sw).toBe('6985');
  });

  it.each([
    ['key reference 02', `00 82 00 02 10 ${'00'.repeat(16)}`, '6A88'],
    ['P1 = 01', `00 82 01 01 10 ${'00'.repeat(16)}`, '6A86'],
    ['an 8-byte cryptogram', `00 82 00 01 08 ${'00'.repeat(8)}`, '6700'],
    ['no cryptogram', '00 82 00 01', '6700'],
    ['an Le', `00 82 00 01 10 ${'00'.repeat(16)} 00`, '6700'],
  ])('refuses %s without counting a failure', async (_name, apdu, sw) => {
    const { card, storage } = await freshBlank();
    await send(card, '00 84 00 00 10');
    expect((await send(card, apdu)).sw).toBe(sw);
    expect(storedIssuerTries(storage.image)).toBe(10);
  });

  it('ends with SELECT of the AP and with any power event', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    expect((await send(card, `80 2C 02 80 04 ${hex(Buffer.from('1234'))}`)).sw).toBe('6982');
    await authenticate(card);
    card.reset();
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    expect((await send(card, `80 2C 02 80 04 ${hex(Buffer.from('1234'))}`)).sw).toBe('6982');
  });
});

describe('issuer commands need issuer authentication', () => {
  it.each([
    ['GENERATE KEY PAIR', '0017', '80 47 00 80 00'],
    ['read public key', '0017', '80 47 01 80 00'],
    ['ERASE BINARY', '000A', '80 0E 00 00'],
    ['UPDATE BINARY', '000A', '80 D6 00 00 02 30 82'],
    ['RESET RETRY COUNTER (new PIN)', '0018', `80 2C 02 80 04 ${hex(Buffer.from('1234'))}`],
    ['RESET RETRY COUNTER (unblock)', '0018', '80 2C 03 80'],
  ])('%s answers 69 82 without it', async (_name, fid, apdu) => {
    const { card } = await freshPersonalised();
    await send(card, selectEf(fid));
    expect((await send(card, apdu)).sw).toBe('6982');
  });
});

describe('GENERATE KEY PAIR', () => {
  it('makes an RSA-2048 pair and answers the SubjectPublicKeyInfo in two parts: 256 bytes + 61 26, then GET RESPONSE', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('001A'));
    const first = await send(card, '80 47 00 80 00');
    expect(first.sw).toBe('6126');
    expect(first.data.length).toBe(256);
    const rest = await send(card, '00 C0 00 00 26');
    expect(rest.sw).toBe('9000');
    const spki = Buffer.concat([first.data, rest.data]);
    const key = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(key.asymmetricKeyDetails).toMatchObject({ modulusLength: 2048, publicExponent: 65537n });
    await send(card, selectEf('001A'));
    const again = await send(card, '80 47 01 80 00');
    expect(Buffer.concat([again.data, (await send(card, '00 C0 00 00 00')).data]).equals(spki)).toBe(true);
  });

  it('replaces an earlier pair', async () => {
    const { card } = await freshPersonalised();
    await authenticate(card);
    await send(card, selectEf('0017'));
    const first = await send(card, '80 47 00 80 00');
    expect(first.data.equals(p.publicKeys.auth.subarray(0, 256))).toBe(false);
  });

  it('answers 6A 88 to reading the public key of an empty key EF', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('0017'));
    expect((await send(card, '80 47 01 80 00')).sw).toBe('6A88');
  });

  it.each([
    ['P1 = 02', '80 47 02 80 00', '6A86'],
    ['P2 = 00', '80 47 00 00 00', '6A86'],
    ['data', '80 47 00 80 01 00 00', '6700'],
    ['no Le', '80 47 00 80', '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('0017'));
    expect((await send(card, apdu)).sw).toBe(sw);
  });

  it('answers 69 86 when the current EF is not a key EF', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('0018'));
    expect((await send(card, '80 47 00 80 00')).sw).toBe('6986');
  });
});

describe('GET RESPONSE', () => {
  it('answers 69 85 with nothing pending, and a pending rest is dropped by any other command', async () => {
    const { card } = await freshPersonalised();
    expect((await send(card, '00 C0 00 00 00')).sw).toBe('6985');
    await authenticate(card);
    await send(card, selectEf('0017'));
    expect((await send(card, '80 47 01 80 00')).sw).toBe('6126');
    await send(card, '00 20 00 80');
    expect((await send(card, '00 C0 00 00 26')).sw).toBe('6985');
  });

  it('hands out the rest in parts when Le is smaller, announcing what is left', async () => {
    const { card } = await freshPersonalised();
    await authenticate(card);
    await send(card, selectEf('0017'));
    await send(card, '80 47 01 80 00');
    const a = await send(card, '00 C0 00 00 10');
    expect([a.data.length, a.sw]).toEqual([16, '6116']);
    const b = await send(card, '00 C0 00 00 16');
    expect([b.data.length, b.sw]).toEqual([22, '9000']);
  });

  it.each([
    ['P1 = 01', '00 C0 01 00 00', '6A86'],
    ['no Le', '00 C0 00 00', '6700'],
  ])('refuses %s', async (_name, apdu, sw) => {
    expect((await send((await freshPersonalised()).card, apdu)).sw).toBe(sw);
  });
});

describe('ERASE BINARY and UPDATE BINARY (certificate EFs)', () => {
  it('writes a certificate in ordered chunks; it then reads back and shows in EF 0008', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('000A'));
    const der = p.certificates.auth;
    for (let offset = 0; offset < der.length; offset += 255) {
      const chunk = der.subarray(offset, offset + 255);
      expect((await send(card, `80 D6 ${(offset >> 8).toString(16).padStart(2, '0')} ${(offset & 0xff).toString(16).padStart(2, '0')} ${lc(chunk)} ${hex(chunk)}`)).sw).toBe('9000');
    }
    await send(card, SELECT_AP);
    await send(card, selectEf('000A'));
    const read = Buffer.concat([(await send(card, '00 B0 00 00 00')).data, (await send(card, '00 B0 01 00 00')).data, (await send(card, '00 B0 02 00 00')).data, (await send(card, '00 B0 03 00 00')).data]);
    expect(read.subarray(0, der.length).equals(der)).toBe(true);
    await send(card, selectEf('0008'));
    expect((await send(card, '00 B0 00 00 03')).data.toString('hex')).toBe('008f00');
  });

  it('erases a certificate, after which the public no longer finds the EF', async () => {
    const { card } = await freshPersonalised();
    await authenticate(card);
    await send(card, selectEf('000B'));
    expect((await send(card, '80 0E 00 00')).sw).toBe('9000');
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6B00');
    await send(card, SELECT_AP);
    expect((await send(card, selectEf('000B'))).sw).toBe('6A82');
  });

  it('refuses a write that would leave a gap (6B 00) or overflow the 4096-byte EF (6A 84)', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('0002'));
    expect((await send(card, '80 D6 00 01 01 30')).sw).toBe('6B00');
    expect((await send(card, '80 D6 00 00 01 30')).sw).toBe('9000');
    expect((await send(card, '80 D6 00 01 01 82')).sw).toBe('9000');
    const big = Buffer.alloc(255, 1);
    for (let offset = 2; offset + 255 <= 4096; offset += 255) await send(card, `80 D6 ${(offset >> 8).toString(16).padStart(2, '0')} ${(offset & 0xff).toString(16).padStart(2, '0')} FF ${hex(big)}`);
    expect((await send(card, `80 D6 0F F2 FF ${hex(big)}`)).sw).toBe('6A84');
  });

  it.each([
    ['UPDATE with P1 bit 8 (short EF id)', '000A', '80 D6 8A 00 01 30', '6A86'],
    ['UPDATE without data', '000A', '80 D6 00 00', '6700'],
    ['UPDATE with an Le', '000A', '80 D6 00 00 01 30 00', '6700'],
    ['UPDATE on a PIN EF', '0018', '80 D6 00 00 01 30', '6981'],
    ['UPDATE on a key EF', '0017', '80 D6 00 00 01 30', '6981'],
    ['UPDATE on the token EF', '0006', '80 D6 00 00 01 30', '6981'],
    ['ERASE with P1-P2', '000A', '80 0E 00 01', '6A86'],
    ['ERASE with data', '000A', '80 0E 00 00 01 00', '6700'],
    ['ERASE on a key EF', '001A', '80 0E 00 00', '6981'],
  ])('refuses %s', async (_name, fid, apdu, sw) => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf(fid));
    expect((await send(card, apdu)).sw).toBe(sw);
  });

  it('answers 69 86 with no current EF', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    expect((await send(card, '80 D6 00 00 01 30')).sw).toBe('6986');
    expect((await send(card, '80 0E 00 00')).sw).toBe('6986');
  });
});

describe('RESET RETRY COUNTER', () => {
  it('sets the initial PINs of a blank card (P1 = 02)', async () => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf('0018'));
    expect((await send(card, `80 2C 02 80 04 ${hex(Buffer.from(AUTH_PIN))}`)).sw).toBe('9000');
    expect((await send(card, `80 2C 02 9B 06 ${hex(Buffer.from(SIGN_PIN))}`)).sw).toBe('9000');
    expect((await send(card, verifyApdu(AUTH_PIN))).sw).toBe('9000');
    await send(card, selectEf('001B'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
  });

  it('releases a lock keeping the PIN (P1 = 03), or with a new PIN (P1 = 02)', async () => {
    const { card } = await freshPersonalised();
    await send(card, selectEf('001B'));
    for (let i = 0; i < 5; i++) await send(card, verifyApdu('WRONG9'));
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('6983');
    await authenticate(card);
    await send(card, selectEf('001B'));
    expect((await send(card, '80 2C 03 80')).sw).toBe('9000');
    expect((await send(card, '00 20 00 80')).sw).toBe('63C5');
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('9000');
    for (let i = 0; i < 5; i++) await send(card, verifyApdu('WRONG9'));
    expect((await send(card, `80 2C 02 80 07 ${hex(Buffer.from('RESET77'))}`)).sw).toBe('9000');
    expect((await send(card, verifyApdu(SIGN_PIN))).sw).toBe('63C4');
    expect((await send(card, verifyApdu('RESET77'))).sw).toBe('9000');
  });

  it('drops the PIN\u2019s verified state', async () => {
    const { card } = await freshPersonalised();
    await authenticate(card);
    await send(card, selectEf('001B'));
    await send(card, verifyApdu(SIGN_PIN));
    await send(card, '80 2C 03 80');
    await send(card, selectEf('0001'));
    expect((await send(card, '00 B0 00 00 04')).sw).toBe('6982');
  });

  it.each([
    ['P1 = 03 on a PIN never set', '0018', '80 2C 03 80', '6A88'],
    ['a badly formed PIN', '0018', `80 2C 02 80 03 ${hex(Buffer.from('123'))}`, '6A80'],
    ['a signing PIN without a digit', '001B', `80 2C 02 80 06 ${hex(Buffer.from('ABCDEF'))}`, '6A80'],
    ['P1 = 01', '0018', `80 2C 01 80 04 ${hex(Buffer.from('1234'))}`, '6A86'],
    ['P2 = 00', '0018', `80 2C 02 00 04 ${hex(Buffer.from('1234'))}`, '6A86'],
    ['P1 = 02 without data', '0018', '80 2C 02 80', '6700'],
    ['P1 = 03 with data', '0018', `80 2C 03 80 04 ${hex(Buffer.from('1234'))}`, '6700'],
    ['an Le', '0018', `80 2C 02 80 04 ${hex(Buffer.from('1234'))} 00`, '6700'],
    ['a current EF that is not a PIN', '000A', `80 2C 02 80 04 ${hex(Buffer.from('1234'))}`, '6986'],
  ])('refuses %s', async (_name, fid, apdu, sw) => {
    const { card } = await freshBlank();
    await authenticate(card);
    await send(card, selectEf(fid === '000A' ? '0006' : fid));
    expect((await send(card, apdu)).sw).toBe(sw);
  });
});

describe('GET DATA', () => {
  it('gives the card ID without any authentication, even before SELECT of the AP', async () => {
    const { card } = await blankCard();
    expect(await send(card, '80 CA 01 01 00')).toEqual({ data: Buffer.from(CARD_ID, 'hex'), sw: '9000' });
  });

  it('gives the card state: keys, PINs set, tries left, issuer tries', async () => {
    const { card } = await freshBlank();
    expect((await send(card, '80 CA 01 02 00')).data.toString('hex')).toBe('0003050a');
    const { card: done } = await freshPersonalised();
    await send(done, selectEf('0018'));
    await send(done, verifyApdu('0000'));
    expect((await send(done, '80 CA 01 02 00')).data.toString('hex')).toBe('0f02050a');
  });

  it.each([
    ['an unknown tag', '80 CA 01 03 00', '6A88'],
    ['data', '80 CA 01 01 01 00 00', '6700'],
    ['no Le', '80 CA 01 01', '6700'],
    ['CLA 00 (OpenSC\u2019s probe 00 CA DF 30)', '00 CA DF 30 05', '6D00'],
    ['OpenSC\u2019s probe 00 CB 3F FF', '00 CB 3F FF 03 5C 01 7E 08', '6D00'],
  ])('refuses %s', async (_name, apdu, sw) => {
    expect((await send((await freshBlank()).card, apdu)).sw).toBe(sw);
  });
});

describe('private keys never leave the card', () => {
  it('no answer to any CLA/INS/P1/P2 combination contains a piece of either private key', async () => {
    const { card, storage } = await freshPersonalised();
    const secretWindows = new Set<string>();
    const collect = (image: Buffer) => {
      const { secrets, state } = decodeCardImage(image, FABRICATION_SECRET);
      for (const key of ['auth', 'sign'] as const) {
        const pkcs8 = secrets.unseal(`key:${key}`, state.keys[key]!.sealedPrivateKey);
        const jwk = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' });
        for (const part of [jwk.d, jwk.p, jwk.q, jwk.dp, jwk.dq, jwk.qi]) {
          const bytes = Buffer.from(part!, 'base64url');
          for (let i = 0; i + 16 <= bytes.length; i++) secretWindows.add(bytes.subarray(i, i + 16).toString('hex'));
        }
        for (let i = 0; i + 16 <= pkcs8.length; i += 8) secretWindows.add(pkcs8.subarray(i, i + 16).toString('hex'));
      }
    };
    collect(storage.image!);
    const answers: Buffer[] = [];
    const bodies = ['', '00', '10 00112233445566778899AABBCCDDEEFF 00', '02 00 17 00'];
    for (const cla of ['00', '80']) {
      for (let ins = 0; ins < 256; ins++) {
        if (cla === '80' && ins === 0x47) continue; // key generation: answers exactly the SPKI (tested above); replaces the keys
        // Every right at once: issuer session, both PINs verified, a key EF current.
        await send(card, SELECT_AP);
        await authenticate(card);
        await send(card, selectEf('001B'));
        await send(card, verifyApdu(SIGN_PIN));
        await send(card, selectEf('0018'));
        await send(card, verifyApdu(AUTH_PIN));
        await send(card, selectEf('001A'));
        for (const p1p2 of ['0000', '0080', '0180', '009A', '8000', '0101']) {
          for (const body of bodies) {
            const r = await card.transmit(Buffer.from(`${cla}${ins.toString(16).padStart(2, '0')}${p1p2}${body.replace(/\s+/g, '')}`, 'hex'));
            answers.push(r);
            let more = r;
            while (more.length >= 2 && more[more.length - 2] === 0x61) {
              more = await card.transmit(Buffer.from('00C0000000', 'hex'));
              answers.push(more);
            }
          }
        }
      }
    }
    collect(storage.image!);
    const leaks = answers.filter((a) => {
      for (let i = 0; i + 16 <= a.length; i++) if (secretWindows.has(a.subarray(i, i + 16).toString('hex'))) return true;
      return false;
    });
    expect(answers.length).toBeGreaterThan(12_000);
    expect(leaks).toEqual([]);
  });

  it('keeps them sealed in the image: no piece of a private key appears in the image file', async () => {
    const image = p.image;
    const { secrets, state } = decodeCardImage(image, FABRICATION_SECRET);
    const pkcs8 = secrets.unseal('key:sign', state.keys.sign!.sealedPrivateKey);
    const d = Buffer.from(createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'jwk' }).d!, 'base64url');
    const text = image.toString('utf8');
    const decodedStrings = [...text.matchAll(/"([A-Za-z0-9+/=]{24,})"/g)].map((m) => Buffer.from(m[1]!, 'base64'));
    expect(decodedStrings.length).toBeGreaterThan(4);
    for (const blob of [image, ...decodedStrings]) expect(blob.includes(d.subarray(0, 32))).toBe(false);
  });
});
