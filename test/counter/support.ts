import { expect } from 'vitest';
import { randomUUID, verify, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { JpkiError } from '../../src/common/errors.js';
import { FileCardStorage, SoftCard } from '../../src/card/index.js';
import { cardFabricationSecret, digestInfoOf, JpkiClient, openInProcessReader } from '../../src/reader/index.js';
import type { Operator } from '../../src/counter/index.js';
import type { Resident } from '../../src/register/index.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import type { StoreKind } from '../support/stores.js';

export const PASSWORD = 'correct-horse-42';
export const SIGN_PIN = 'KOTEKI2004';
export const AUTH_PIN = '4821';

export const ICHIRO = { name: '公的 一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目', municipality: '13103' };

export interface CounterInstallation extends TestInstallation {
  /** A blank card image (as `jpki card new` makes it) in the installation's directory. */
  blankCard(name?: string): Promise<string>;
  /** Adds an operator and returns them authenticated. */
  operator(name: string, municipality: string, role?: 'clerk' | 'supervisor'): Promise<Operator>;
  addResident(input?: Partial<typeof ICHIRO>): Promise<Resident>;
}

/**
 * An installation with the CAs of Tokyo, Osaka and Okinawa (P-256 CA keys for speed; the card's keys are
 * RSA-2048 regardless), the card secrets in its data directory, and helpers for blank cards and operators.
 */
export async function createCounterInstallation(
  storeKind: StoreKind,
  options: { clock?: TestInstallation['clock']; publicUrl?: string; prefectures?: string[] } = {},
): Promise<CounterInstallation> {
  const t = await createTestInstallation({ storeKind, prefectures: options.prefectures ?? ['13', '27', '47'], ...(options.clock ? { clock: options.clock } : {}), ...(options.publicUrl ? { publicUrl: options.publicUrl } : {}) });
  const secret = cardFabricationSecret(t.dir, { create: true });
  return Object.assign(t, {
    async blankCard(name = `card-${randomUUID().slice(0, 8)}.img`) {
      const path = join(t.dir, name);
      const storage = await FileCardStorage.open(path, { lock: true });
      try {
        const card = await SoftCard.fabricate(storage, { fabricationSecret: secret, issuerKey: (id) => t.services.cardIssuer.cardKey(id) });
        await card.close();
      } finally {
        await storage.close();
      }
      return path;
    },
    async operator(name: string, municipality: string, role: 'clerk' | 'supervisor' = 'clerk') {
      await t.services.counter.operators.add({ name, municipality, role, password: PASSWORD }, 'test');
      return t.services.counter.operators.authenticate(name, PASSWORD);
    },
    async addResident(input: Partial<typeof ICHIRO> = {}) {
      return t.services.register.add({ ...ICHIRO, ...input }, 'test');
    },
  });
}

export const key = () => `test-${randomUUID()}`;

export const form = (r: Resident) => ({ name: r.name, dateOfBirth: r.dateOfBirth, address: r.address });
export const PASSPORT = { type: 'passport' as const, number: 'TK1234567' };

/** Runs the whole issuance wizard for a resident onto a card image. */
export async function issueOnto(t: CounterInstallation, op: Operator, r: Resident, card: string, pins = { signPin: SIGN_PIN, authPin: AUTH_PIN }) {
  const { issuance } = t.services.counter;
  const app = (await issuance.open(op, { residentId: r.id, form: form(r) }, key())).result;
  await issuance.identity(op, app.number, PASSPORT, key());
  await issuance.fee(op, app.number, { amount: 500 }, key());
  return (await issuance.device(op, app.number, { device: { uri: `file:${card}` }, ...pins }, key())).result;
}

/** Signs with the card's signing key (after the signing password) and checks the signature with its certificate. */
export async function cardSigns(t: TestInstallation, cardPath: string, signPin: string, data = Buffer.from('電子申請')): Promise<{ verified: boolean; certificate: X509Certificate }> {
  const reader = await openInProcessReader(cardPath, { dataDir: t.dir });
  try {
    const client = new JpkiClient(reader);
    await client.selectAp();
    await client.verifyPin('sign', signPin);
    const der = await client.readCertificate('sign');
    const signature = await client.sign('sign', digestInfoOf('sha256', data));
    const certificate = new X509Certificate(der!);
    return { verified: verify('sha256', data, certificate.publicKey, signature), certificate };
  } finally {
    await reader.close();
  }
}

/** A JpkiClient on a card image, closed by the returned function. */
export async function onCard<T>(t: TestInstallation, cardPath: string, fn: (client: JpkiClient) => Promise<T>): Promise<T> {
  const reader = await openInProcessReader(cardPath, { dataDir: t.dir });
  try {
    const client = new JpkiClient(reader);
    await client.selectAp();
    return await fn(client);
  } finally {
    await reader.close();
  }
}

/** The JpkiError a refused call rejects with (fails the test when the call succeeds). */
export async function refusal(p: Promise<unknown>): Promise<JpkiError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(JpkiError);
  return e as JpkiError;
}
