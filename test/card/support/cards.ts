import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { webcrypto } from 'node:crypto';
import { MemoryCardStorage, SoftCard, deriveCardIssuerKey, type AppletOptions, type CardIssuer } from '../../../src/card/index.js';
import { InProcessReader, JpkiClient } from '../../../src/reader/index.js';

/**
 * Cards for tests: fixed secrets, a blank card in memory, and a personalised image made once per test file
 * through the issuer APDUs (keys generated on the card, certificates built here for the card's public keys).
 * Each test then opens its own copy of the image, so lockouts in one test do not leak into another.
 */
export const FABRICATION_SECRET = Buffer.alloc(32, 0x5a);
export const ISSUER_MASTER_KEY = Buffer.alloc(32, 0x3c);
export const CARD_ID = '0123456789ABCDEF';
export const AUTH_PIN = '1234';
export const SIGN_PIN = 'ABC123';

export async function blankCard(options: AppletOptions = {}): Promise<{ card: SoftCard; storage: MemoryCardStorage }> {
  const storage = new MemoryCardStorage();
  const card = await SoftCard.fabricate(storage, { fabricationSecret: FABRICATION_SECRET, cardId: CARD_ID, issuerKey: (id) => deriveCardIssuerKey(ISSUER_MASTER_KEY, id) }, options);
  card.powerOn();
  return { card, storage };
}

export async function openImage(image: Buffer, options: AppletOptions = {}): Promise<{ card: SoftCard; storage: MemoryCardStorage; client: JpkiClient }> {
  const storage = new MemoryCardStorage();
  storage.image = Buffer.from(image);
  const card = await SoftCard.open(storage, FABRICATION_SECRET, options);
  const client = new JpkiClient(new InProcessReader(card));
  return { card, storage, client };
}

export interface IssuedCertificates {
  sign: Buffer;
  'sign-ca': Buffer;
  auth: Buffer;
  'auth-ca': Buffer;
}

export interface Personalised {
  image: Buffer;
  certificates: IssuedCertificates;
  publicKeys: { auth: Buffer; sign: Buffer };
}

/** Personalises a card through `client` as the counter will: keys on the card, certificates for them, PINs. */
export async function personalise(client: JpkiClient, masterKey: CardIssuer | Uint8Array = ISSUER_MASTER_KEY): Promise<Omit<Personalised, 'image'>> {
  await client.authenticateIssuer(masterKey);
  const auth = await client.generateKeyPair('auth');
  const sign = await client.generateKeyPair('sign');
  const certificates = await issueCertificates({ auth, sign });
  for (const file of ['sign', 'sign-ca', 'auth', 'auth-ca'] as const) await client.writeCertificate(file, certificates[file]);
  await client.setInitialPins({ auth: AUTH_PIN, sign: SIGN_PIN });
  await client.selectAp();
  return { certificates, publicKeys: { auth, sign } };
}

let cached: Promise<Personalised> | null = null;

/** A personalised card image (made once per test file). */
export function personalisedImage(): Promise<Personalised> {
  cached ??= (async () => {
    const { card, storage } = await blankCard();
    const client = new JpkiClient(new InProcessReader(card));
    const result = await personalise(client);
    return { image: Buffer.from(storage.image!), ...result };
  })();
  return cached;
}

const RSA: RsaHashedKeyGenParams = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };

/** Two test CAs (signature, user authentication) and the resident's two certificates for the card's keys. */
export async function issueCertificates(publicKeys: { auth: Uint8Array; sign: Uint8Array }): Promise<IssuedCertificates> {
  const crypto = webcrypto as unknown as Crypto;
  x509.cryptoProvider.set(crypto);
  const notBefore = new Date('2026-01-01T00:00:00Z');
  const notAfter = new Date('2031-01-01T00:00:00Z');
  const out: Partial<IssuedCertificates> = {};
  for (const [purpose, caName, serial, usages] of [
    ['sign', 'Test JPKI Signature CA', '1001', x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.nonRepudiation],
    ['auth', 'Test JPKI User Authentication CA', '2001', x509.KeyUsageFlags.digitalSignature],
  ] as const) {
    const caKeys = (await crypto.subtle.generateKey(RSA, true, ['sign', 'verify'])) as CryptoKeyPair;
    const ca = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: `${serial}00`,
      name: `CN=${caName}, O=JPKI, C=JP`,
      notBefore,
      notAfter,
      signingAlgorithm: RSA,
      keys: caKeys,
      extensions: [new x509.BasicConstraintsExtension(true, undefined, true), new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true)],
    });
    const publicKey = await crypto.subtle.importKey('spki', new Uint8Array(publicKeys[purpose]), { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const leaf = await x509.X509CertificateGenerator.create({
      serialNumber: serial,
      subject: `CN=Yamada Taro ${purpose}, O=JPKI, C=JP`,
      issuer: ca.subject,
      notBefore,
      notAfter,
      signingAlgorithm: RSA,
      publicKey,
      signingKey: caKeys.privateKey,
      extensions: [new x509.KeyUsagesExtension(usages, true)],
    });
    out[purpose] = Buffer.from(leaf.rawData);
    out[`${purpose}-ca`] = Buffer.from(ca.rawData);
  }
  return out as IssuedCertificates;
}

/** Sends one APDU given in hex (spaces allowed) and splits the answer. */
export async function send(card: SoftCard, hex: string): Promise<{ data: Buffer; sw: string }> {
  const r = await card.transmit(Buffer.from(hex.replace(/\s+/g, ''), 'hex'));
  return { data: r.subarray(0, r.length - 2), sw: r.subarray(r.length - 2).toString('hex').toUpperCase() };
}

export const SELECT_AP = '00 A4 04 0C 0A D3 92 F0 00 26 01 00 00 00 01';
export const selectEf = (fid: string) => `00 A4 02 0C 02 ${fid}`;
export const verifyApdu = (pin: string) => `00 20 00 80 ${Buffer.from(pin).length.toString(16).padStart(2, '0')} ${Buffer.from(pin).toString('hex')}`;
