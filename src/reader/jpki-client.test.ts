import { X509Certificate, constants, verify } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { SW } from '../card/index.js';
import {
  AUTH_PIN,
  CARD_ID,
  ISSUER_MASTER_KEY,
  SIGN_PIN,
  blankCard,
  issueCertificates,
  openImage,
  personalisedImage,
  type Personalised,
} from '../../test/card/support/cards.js';
import {
  CardFileNotFoundError,
  InProcessReader,
  IssuerAuthenticationFailedError,
  IssuerLockedError,
  JpkiClient,
  KeyNotFoundError,
  PinBlockedError,
  PinFormatError,
  PinIncorrectError,
  PinNotSetError,
  SecurityStatusNotSatisfiedError,
  derObjectLength,
  digestInfoOf,
  statusError,
} from './index.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

async function client() {
  const opened = await openImage(p.image);
  await opened.client.selectAp();
  return opened.client;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (e) {
    return e;
  }
  throw new Error('expected a rejection');
}

describe('JpkiClient: the public JPKI interface', () => {
  it('reads the token name', async () => {
    expect(await (await client()).readTokenInfo()).toBe('JPKIAPICCTOKEN2');
  });

  it('reads the free certificates whole, and the signing one only after the signing PIN', async () => {
    const c = await client();
    expect((await c.readCertificate('auth'))!.equals(p.certificates.auth)).toBe(true);
    expect((await c.readCertificate('auth-ca'))!.equals(p.certificates['auth-ca'])).toBe(true);
    expect((await c.readCertificate('sign-ca'))!.equals(p.certificates['sign-ca'])).toBe(true);
    expect(await rejection(c.readCertificate('sign'))).toBeInstanceOf(SecurityStatusNotSatisfiedError);
    await c.verifyPin('sign', SIGN_PIN.toLowerCase()); // clients upper-case the signing password
    expect((await c.readCertificate('sign'))!.equals(p.certificates.sign)).toBe(true);
  });

  it('returns null for a certificate the card does not hold', async () => {
    const { card } = await blankCard();
    const c = new JpkiClient(new InProcessReader(card));
    await c.selectAp();
    expect(await c.readCertificate('auth')).toBeNull();
  });

  it('reports PIN status without spending tries', async () => {
    const c = await client();
    expect(await c.pinStatus('auth')).toEqual({ triesLeft: 3, maxTries: 3, blocked: false });
    expect(await c.pinStatus('sign')).toEqual({ triesLeft: 5, maxTries: 5, blocked: false });
  });

  it('maps wrong PINs to PinIncorrectError {triesLeft}, the last one and later ones to PinBlockedError', async () => {
    const c = await client();
    const first = await rejection(c.verifyPin('auth', '0000'));
    expect(first).toBeInstanceOf(PinIncorrectError);
    expect(first).toMatchObject({ triesLeft: 2, pin: 'auth', kind: 'unauthenticated' });
    await rejection(c.verifyPin('auth', '0000'));
    const last = await rejection(c.verifyPin('auth', '0000'));
    expect(last).toBeInstanceOf(PinBlockedError);
    expect(last).toMatchObject({ justBlocked: true, kind: 'locked' });
    const after = await rejection(c.verifyPin('auth', AUTH_PIN));
    expect(after).toBeInstanceOf(PinBlockedError);
    expect(after).toMatchObject({ justBlocked: false, sw: SW.AUTHENTICATION_METHOD_BLOCKED });
    expect(await c.pinStatus('auth')).toEqual({ triesLeft: 0, maxTries: 3, blocked: true });
  });

  it('refuses a badly formed PIN before it reaches the card', async () => {
    const c = await client();
    expect(await rejection(c.verifyPin('sign', 'ABCDEF'))).toBeInstanceOf(PinFormatError);
    expect(await rejection(c.verifyPin('auth', '12345'))).toBeInstanceOf(PinFormatError);
    expect(await c.pinStatus('sign')).toMatchObject({ triesLeft: 5 });
  });

  it('changes a PIN', async () => {
    const c = await client();
    await c.changePin('auth', AUTH_PIN, '9876');
    expect(await rejection(c.verifyPin('auth', AUTH_PIN))).toBeInstanceOf(PinIncorrectError);
    await c.verifyPin('auth', '9876');
  });

  it('signs with each key after its PIN; the signature verifies with the certificate', async () => {
    const c = await client();
    const data = Buffer.from('application form');
    expect(await rejection(c.sign('auth', digestInfoOf('sha256', data)))).toBeInstanceOf(SecurityStatusNotSatisfiedError);
    await c.verifyPin('auth', AUTH_PIN);
    await c.verifyPin('sign', SIGN_PIN);
    for (const key of ['auth', 'sign'] as const) {
      const signature = await c.sign(key, digestInfoOf('sha256', data));
      expect(verify('sha256', data, { key: new X509Certificate(p.certificates[key]).publicKey, padding: constants.RSA_PKCS1_PADDING }, signature)).toBe(true);
    }
  });
});

describe('JpkiClient: the issuer interface', () => {
  it('reads the card ID and state without authentication', async () => {
    const c = await client();
    expect(await c.readCardId()).toBe(CARD_ID);
    expect(await c.readCardState()).toEqual({ keys: { auth: true, sign: true }, pinsSet: { auth: true, sign: true }, triesLeft: { auth: 3, sign: 5 }, issuerTriesLeft: 10, issuerLocked: false });
  });

  it('personalises a blank card: keys generated on the card, certificates written, PINs set', async () => {
    const { card } = await blankCard();
    const c = new JpkiClient(new InProcessReader(card));
    await c.selectAp();
    expect(await rejection(c.verifyPin('auth', AUTH_PIN))).toBeInstanceOf(PinNotSetError);
    await c.authenticateIssuer(ISSUER_MASTER_KEY);
    expect(await rejection(c.readPublicKey('auth'))).toBeInstanceOf(KeyNotFoundError);
    const publicKeys = { auth: await c.generateKeyPair('auth'), sign: await c.generateKeyPair('sign') };
    expect((await c.readPublicKey('sign')).equals(publicKeys.sign)).toBe(true);
    const certificates = await issueCertificates(publicKeys);
    for (const file of ['sign', 'sign-ca', 'auth', 'auth-ca'] as const) await c.writeCertificate(file, certificates[file]);
    await c.setInitialPins({ auth: AUTH_PIN, sign: SIGN_PIN });
    await c.selectAp();
    expect((await c.readCertificate('auth'))!.equals(certificates.auth)).toBe(true);
    await c.verifyPin('sign', SIGN_PIN);
    expect((await c.readCertificate('sign'))!.equals(certificates.sign)).toBe(true);
    expect(await c.readCardState()).toMatchObject({ keys: { auth: true, sign: true }, pinsSet: { auth: true, sign: true } });
  });

  it('refuses a certificate that is not 30 82 LL LL and complete', async () => {
    const { card } = await blankCard();
    const c = new JpkiClient(new InProcessReader(card));
    await c.authenticateIssuer(ISSUER_MASTER_KEY);
    await expect(c.writeCertificate('auth', Buffer.from('3081800000', 'hex'))).rejects.toMatchObject({ code: 'card.certificate-form' });
    await expect(c.writeCertificate('auth', p.certificates.auth.subarray(0, 100))).rejects.toMatchObject({ code: 'card.certificate-form' });
  });

  it('unlocks a locked PIN (keeping it, or with a new one) and resets a forgotten one', async () => {
    const c = await client();
    for (let i = 0; i < 5; i++) await rejection(c.verifyPin('sign', 'WRONG1'));
    expect(await rejection(c.verifyPin('sign', SIGN_PIN))).toBeInstanceOf(PinBlockedError);
    await c.authenticateIssuer(ISSUER_MASTER_KEY);
    await c.unlockPin('sign');
    await c.verifyPin('sign', SIGN_PIN);
    for (let i = 0; i < 3; i++) await rejection(c.verifyPin('auth', '0000'));
    await c.unlockPin('auth', '5555');
    await c.verifyPin('auth', '5555');
    await c.resetPin('sign', 'FORGOT1');
    await c.verifyPin('sign', 'FORGOT1');
  });

  it('needs issuer authentication for personalisation (SecurityStatusNotSatisfiedError)', async () => {
    const c = await client();
    expect(await rejection(c.unlockPin('sign'))).toBeInstanceOf(SecurityStatusNotSatisfiedError);
    expect(await rejection(c.generateKeyPair('sign'))).toBeInstanceOf(SecurityStatusNotSatisfiedError);
  });

  it('maps a wrong master key to IssuerAuthenticationFailedError {triesLeft}, and the tenth to IssuerLockedError', async () => {
    const c = await client();
    const first = await rejection(c.authenticateIssuer(Buffer.alloc(32, 1)));
    expect(first).toBeInstanceOf(IssuerAuthenticationFailedError);
    expect(first).toMatchObject({ triesLeft: 9 });
    for (let i = 0; i < 8; i++) await rejection(c.authenticateIssuer(Buffer.alloc(32, 1)));
    expect(await rejection(c.authenticateIssuer(Buffer.alloc(32, 1)))).toBeInstanceOf(IssuerLockedError);
    expect(await rejection(c.authenticateIssuer(ISSUER_MASTER_KEY))).toBeInstanceOf(IssuerLockedError);
    expect(await c.readCardState()).toMatchObject({ issuerLocked: true, issuerTriesLeft: 0 });
  });
});

describe('statusError: one mapping from status words to domain errors', () => {
  it.each([
    [0x9000, { kind: 'pin', pin: 'auth' }, null],
    [0x63c2, { kind: 'pin', pin: 'auth' }, 'card.pin-incorrect'],
    [0x63c0, { kind: 'pin', pin: 'sign' }, 'card.pin-blocked'],
    [0x6984, { kind: 'pin', pin: 'sign' }, 'card.pin-blocked'],
    [0x6983, { kind: 'pin', pin: 'sign' }, 'card.pin-blocked'],
    [0x6a88, { kind: 'pin', pin: 'sign' }, 'card.pin-not-set'],
    [0x6a80, { kind: 'pin', pin: 'sign' }, 'card.pin-format'],
    [0x63c3, { kind: 'issuer-authentication' }, 'card.issuer-authentication-failed'],
    [0x63c0, { kind: 'issuer-authentication' }, 'card.issuer-locked'],
    [0x6983, { kind: 'issuer-authentication' }, 'card.issuer-locked'],
    [0x6a88, { kind: 'key', key: 'sign' }, 'card.no-key'],
    [0x6982, { kind: 'key', key: 'sign' }, 'card.security-status'],
    [0x6a82, { kind: 'file', what: 'x' }, 'card.file-not-found'],
    [0x6581, { kind: 'file', what: 'x' }, 'card.memory-failure'],
    [0x6d00, { kind: 'other', what: 'x' }, 'card.status'],
  ] as const)('%s for %o → %s', (sw, topic, code) => {
    expect(statusError(sw, topic)?.code ?? null).toBe(code);
  });

  it('wraps every other SW with its description', () => {
    expect(statusError(0x6b00, { kind: 'file', what: 'token information' })?.message).toBe('token information: the card answered 6B00: offset at or beyond the end of the file');
  });

  it('finds 6A 82 as CardFileNotFoundError', () => {
    expect(statusError(0x6a82, { kind: 'file', what: 'x' })).toBeInstanceOf(CardFileNotFoundError);
  });
});

describe('derObjectLength', () => {
  it.each([
    ['30 82 02 F5', 4 + 0x2f5],
    ['30 81 80', 3 + 0x80],
    ['30 05', 7],
  ])('%s → %d', (hex, n) => {
    expect(derObjectLength(Buffer.from(hex.replace(/ /g, ''), 'hex'))).toBe(n);
  });

  it('refuses what is not a DER SEQUENCE header', () => {
    expect(() => derObjectLength(Buffer.from('0482', 'hex'))).toThrow();
    expect(() => derObjectLength(Buffer.from('3080', 'hex'))).toThrow();
  });
});
