import { X509Certificate, constants, createHash, createPublicKey, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUTH_PIN, ISSUER_MASTER_KEY, SELECT_AP, SIGN_PIN, blankCard, openImage, personalisedImage, selectEf, send, verifyApdu, type Personalised } from '../../test/card/support/cards.js';
import { digestInfoOf } from '../reader/digest-info.js';
import { JpkiClient, InProcessReader } from '../reader/index.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

const DATA = Buffer.from('公的個人認証サービス test data');
const DIGEST_INFO = digestInfoOf('sha256', DATA);
const signApdu = (p2 = '80', body: Buffer = DIGEST_INFO, le = '00') => `80 2A 00 ${p2} ${body.length.toString(16).padStart(2, '0')} ${body.toString('hex')} ${le}`;

async function fresh() {
  const { card } = await openImage(p.image);
  card.powerOn();
  await send(card, SELECT_AP);
  return card;
}

function verifies(spki: Buffer, signature: Buffer): boolean {
  return verify('sha256', DATA, { key: createPublicKey({ key: spki, format: 'der', type: 'spki' }), padding: constants.RSA_PKCS1_PADDING }, signature);
}

describe('COMPUTE DIGITAL SIGNATURE', () => {
  it('signs a SHA-256 DigestInfo with the auth key after the auth PIN, in OpenSC\u2019s order (VERIFY, SELECT key, SIGN)', async () => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0017'));
    const r = await send(card, signApdu());
    expect(r.sw).toBe('9000');
    expect(r.data.length).toBe(256);
    expect(verifies(p.publicKeys.auth, r.data)).toBe(true);
    expect(verifies(p.publicKeys.sign, r.data)).toBe(false);
  });

  it('signs with the signing key after the signing PIN; the signature matches the certificate on the card', async () => {
    const card = await fresh();
    await send(card, selectEf('001B'));
    await send(card, verifyApdu(SIGN_PIN));
    await send(card, selectEf('001A'));
    const r = await send(card, signApdu());
    expect(r.sw).toBe('9000');
    expect(verify('sha256', DATA, { key: new X509Certificate(p.certificates.sign).publicKey, padding: constants.RSA_PKCS1_PADDING }, r.data)).toBe(true);
  });

  it('is PKCS#1 v1.5 over the bytes as given (any DigestInfo: SHA-1, SHA-512)', async () => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0017'));
    for (const alg of ['sha1', 'sha512'] as const) {
      const r = await send(card, signApdu('80', digestInfoOf(alg, DATA)));
      const key = createPublicKey({ key: p.publicKeys.auth, format: 'der', type: 'spki' });
      expect(verify(alg, DATA, { key, padding: constants.RSA_PKCS1_PADDING }, r.data), alg).toBe(true);
    }
  });

  it('names the key by short identifier in P2 (97, 9A) without a SELECT', async () => {
    const card = await fresh();
    await send(card, selectEf('001B'));
    await send(card, verifyApdu(SIGN_PIN));
    const r = await send(card, signApdu('9A'));
    expect(r.sw).toBe('9000');
    expect(verifies(p.publicKeys.sign, r.data)).toBe(true);
  });

  it('answers 69 82 without the key\u2019s PIN: nothing verified, or the other PIN verified', async () => {
    const card = await fresh();
    await send(card, selectEf('001A'));
    expect((await send(card, signApdu())).sw).toBe('6982');
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('001A'));
    expect((await send(card, signApdu())).sw).toBe('6982');
  });

  it('answers 69 82 after a power cycle drops the verified PIN', async () => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    card.powerOff();
    card.powerOn();
    await send(card, SELECT_AP);
    await send(card, selectEf('0017'));
    expect((await send(card, signApdu())).sw).toBe('6982');
  });

  it('answers 6A 88 when the key EF holds no key yet', async () => {
    const { card } = await blankCard();
    const client = new JpkiClient(new InProcessReader(card));
    await client.authenticateIssuer(ISSUER_MASTER_KEY);
    await client.setInitialPins({ auth: AUTH_PIN, sign: SIGN_PIN });
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0017'));
    expect((await send(card, signApdu())).sw).toBe('6A88');
  });

  it.each([
    ['P1 = 01 (hash on card: not offered)', () => signApdu().replace('80 2A 00 80', '80 2A 01 80'), '6A86'],
    ['P1 = 06', () => signApdu().replace('80 2A 00 80', '80 2A 06 80'), '6A86'],
    ['P2 = 00', () => signApdu('00'), '6A86'],
    ['P2 = 98 (a PIN EF)', () => signApdu('98'), '6A86'],
    ['no data', () => '80 2A 00 80 00', '6700'],
    ['246 bytes of data', () => signApdu('80', Buffer.alloc(246, 1)), '6700'],
    ['no Le', () => signApdu('80', DIGEST_INFO, ''), '6700'],
    ['Le = 80 (the signature is 256 bytes)', () => signApdu('80', DIGEST_INFO, '80'), '6C00'],
    ['CLA 00 (not the ISO PSO)', () => signApdu().replace(/^80/, '00'), '6D00'],
  ])('refuses %s', async (_name, apdu, sw) => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0017'));
    expect((await send(card, apdu())).sw).toBe(sw);
  });

  it('answers 69 86 when the current EF is not a key', async () => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    expect((await send(card, signApdu())).sw).toBe('6986');
  });

  it('signs 245 bytes (the PKCS#1 v1.5 maximum for RSA-2048)', async () => {
    const card = await fresh();
    await send(card, selectEf('0018'));
    await send(card, verifyApdu(AUTH_PIN));
    await send(card, selectEf('0017'));
    expect((await send(card, signApdu('80', Buffer.alloc(245, 7)))).sw).toBe('9000');
  });

  it('digestInfoOf gives exactly what a CKM_SHA256_RSA_PKCS signer hashes and wraps', () => {
    expect(DIGEST_INFO.subarray(0, 19).toString('hex')).toBe('3031300d060960864801650304020105000420');
    expect(DIGEST_INFO.subarray(19).equals(createHash('sha256').update(DATA).digest())).toBe(true);
  });
});
