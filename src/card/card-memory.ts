import { constants, createPrivateKey, privateEncrypt, timingSafeEqual, type KeyObject } from 'node:crypto';
import { JpkiError } from '../common/errors.js';
import { decodeCardImage, encodeCardImage } from './card-image.js';
import { CardSecrets } from './card-secrets.js';
import type { KeyRecord, PersistentState } from './card-state.js';
import { issuerCryptogram } from './issuer-key.js';
import { CERTIFICATE_FILES, DEFAULT_TOKEN, ISSUER_MAX_TRIES, PINS, type CertificateFile, type KeyName, type PinName } from './jpki-constants.js';
import { CardError, SW } from './status-words.js';
import type { CardStorage } from './storage.js';

/**
 * The card's non-volatile memory: the persistent state plus the operations the applet performs on it. Every
 * change is written through `commit` (atomic, durable) before it takes effect in memory, so what the applet
 * sees is always what is on disk. Private keys are opened only inside `sign`; nothing here returns one.
 */
export class CardMemory {
  /** Opened private keys, so a signature costs one RSA operation and not a PKCS#8 parse. */
  private readonly keyCache = new Map<KeyName, KeyObject>();

  private constructor(
    private readonly storage: CardStorage,
    private readonly secrets: CardSecrets,
    private state: PersistentState,
  ) {}

  /** Makes a blank card: no keys, no certificates, both PINs unset with full counters. */
  static async fabricate(storage: CardStorage, params: { fabricationSecret: Uint8Array; cardId: string; issuerKey: Uint8Array; token?: string }): Promise<CardMemory> {
    if ((await storage.read()) !== null) throw new JpkiError('card.exists', 'conflict', `${storage.location} already holds a card image`);
    const secrets = new CardSecrets(params.fabricationSecret, params.cardId);
    const empty = Buffer.alloc(0);
    const state: PersistentState = {
      token: params.token ?? DEFAULT_TOKEN,
      certificates: { sign: empty, 'sign-ca': empty, auth: empty, 'auth-ca': empty },
      pins: { auth: { verifier: null, triesLeft: PINS.auth.maxTries }, sign: { verifier: null, triesLeft: PINS.sign.maxTries } },
      keys: { auth: null, sign: null },
      issuer: { sealedKey: secrets.seal('issuer-key', params.issuerKey), triesLeft: ISSUER_MAX_TRIES },
    };
    await storage.write(encodeCardImage(secrets, state));
    return new CardMemory(storage, secrets, state);
  }

  static async open(storage: CardStorage, fabricationSecret: Uint8Array): Promise<CardMemory> {
    const bytes = await storage.read();
    if (bytes === null) throw new JpkiError('card.image-missing', 'not-found', `no card image at ${storage.location}`);
    const { secrets, state } = decodeCardImage(bytes, fabricationSecret);
    return new CardMemory(storage, secrets, state);
  }

  get cardId(): string {
    return this.secrets.cardId;
  }

  get token(): string {
    return this.state.token;
  }

  async close(): Promise<void> {
    this.keyCache.clear();
    await this.storage.close();
  }

  // ---- PINs -------------------------------------------------------------------------------------------

  pinIsSet(pin: PinName): boolean {
    return this.state.pins[pin].verifier !== null;
  }

  pinTriesLeft(pin: PinName): number {
    return this.state.pins[pin].triesLeft;
  }

  /** Anti-tearing step 1: one try is spent and on disk before the candidate is looked at. */
  async spendPinTry(pin: PinName): Promise<void> {
    const record = this.state.pins[pin];
    await this.commit({ ...this.state, pins: { ...this.state.pins, [pin]: { ...record, triesLeft: record.triesLeft - 1 } } });
  }

  pinMatches(pin: PinName, value: string): boolean {
    const verifier = this.state.pins[pin].verifier;
    return verifier !== null && this.secrets.pinMatches(pin, value, verifier);
  }

  async restorePinTries(pin: PinName): Promise<void> {
    const record = this.state.pins[pin];
    if (record.triesLeft === PINS[pin].maxTries) return;
    await this.commit({ ...this.state, pins: { ...this.state.pins, [pin]: { ...record, triesLeft: PINS[pin].maxTries } } });
  }

  /** A new PIN value with a full counter (issuer set / reset, or the holder's CHANGE REFERENCE DATA). */
  async setPin(pin: PinName, value: string): Promise<void> {
    const record = { verifier: this.secrets.pinVerifier(pin, value), triesLeft: PINS[pin].maxTries };
    await this.commit({ ...this.state, pins: { ...this.state.pins, [pin]: record } });
  }

  // ---- certificates -----------------------------------------------------------------------------------

  certificate(file: CertificateFile): Buffer {
    return this.state.certificates[file];
  }

  async eraseCertificate(file: CertificateFile): Promise<void> {
    await this.commit({ ...this.state, certificates: { ...this.state.certificates, [file]: Buffer.alloc(0) } });
  }

  /** Writes `data` at `offset`; the file grows when the write reaches past its end (offset ≤ current size). */
  async writeCertificate(file: CertificateFile, offset: number, data: Uint8Array): Promise<void> {
    const old = this.state.certificates[file];
    const next = Buffer.alloc(Math.max(old.length, offset + data.length));
    old.copy(next);
    next.set(data, offset);
    await this.commit({ ...this.state, certificates: { ...this.state.certificates, [file]: next } });
  }

  // ---- keys -------------------------------------------------------------------------------------------

  hasKey(key: KeyName): boolean {
    return this.state.keys[key] !== null;
  }

  publicKey(key: KeyName): Buffer | null {
    return this.state.keys[key]?.publicKey ?? null;
  }

  /** Stores a freshly generated pair (private key sealed). Replaces any earlier pair of that name. */
  async storeKeyPair(key: KeyName, privateKey: KeyObject, publicKeySpki: Buffer): Promise<void> {
    const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
    const record: KeyRecord = { sealedPrivateKey: this.secrets.seal(`key:${key}`, pkcs8), publicKey: publicKeySpki };
    pkcs8.fill(0);
    await this.commit({ ...this.state, keys: { ...this.state.keys, [key]: record } });
    this.keyCache.set(key, privateKey);
  }

  /** RSA private operation with PKCS#1 v1.5 type-1 padding over the given bytes (normally a DigestInfo). */
  sign(key: KeyName, input: Uint8Array): Buffer {
    return privateEncrypt({ key: this.privateKey(key), padding: constants.RSA_PKCS1_PADDING }, input);
  }

  private privateKey(key: KeyName): KeyObject {
    const cached = this.keyCache.get(key);
    if (cached) return cached;
    const record = this.state.keys[key];
    if (!record) throw new JpkiError('card.no-key', 'not-found', `no ${key} key on the card`);
    const pkcs8 = this.secrets.unseal(`key:${key}`, record.sealedPrivateKey);
    const opened = createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' });
    pkcs8.fill(0);
    this.keyCache.set(key, opened);
    return opened;
  }

  // ---- issuer -----------------------------------------------------------------------------------------

  issuerTriesLeft(): number {
    return this.state.issuer.triesLeft;
  }

  async spendIssuerTry(): Promise<void> {
    await this.commit({ ...this.state, issuer: { ...this.state.issuer, triesLeft: this.state.issuer.triesLeft - 1 } });
  }

  async restoreIssuerTries(): Promise<void> {
    if (this.state.issuer.triesLeft === ISSUER_MAX_TRIES) return;
    await this.commit({ ...this.state, issuer: { ...this.state.issuer, triesLeft: ISSUER_MAX_TRIES } });
  }

  issuerCryptogramMatches(challenge: Buffer, cryptogram: Buffer): boolean {
    const key = this.secrets.unseal('issuer-key', this.state.issuer.sealedKey);
    const expected = issuerCryptogram(key, this.cardId, challenge);
    key.fill(0);
    return expected.length === cryptogram.length && timingSafeEqual(expected, cryptogram);
  }

  // ---- overview ---------------------------------------------------------------------------------------

  /** What `jpki card status` shows: nothing secret. */
  describe(): CardDescription {
    return {
      cardId: this.cardId,
      token: this.state.token,
      certificates: Object.fromEntries(CERTIFICATE_FILES.map((f) => [f, this.state.certificates[f].length])) as Record<CertificateFile, number>,
      certificateBytes: Object.fromEntries(CERTIFICATE_FILES.map((f) => [f, Buffer.from(this.state.certificates[f])])) as Record<CertificateFile, Buffer>,
      keys: { auth: this.hasKey('auth'), sign: this.hasKey('sign') },
      pins: {
        auth: { set: this.pinIsSet('auth'), triesLeft: this.pinTriesLeft('auth'), maxTries: PINS.auth.maxTries },
        sign: { set: this.pinIsSet('sign'), triesLeft: this.pinTriesLeft('sign'), maxTries: PINS.sign.maxTries },
      },
      issuer: { triesLeft: this.state.issuer.triesLeft, maxTries: ISSUER_MAX_TRIES },
    };
  }

  /** Writes the next state; only then does it take effect. A failed write leaves the card as it was: 65 81. */
  private async commit(next: PersistentState): Promise<void> {
    try {
      await this.storage.write(encodeCardImage(this.secrets, next));
    } catch (e) {
      throw new CardError(SW.MEMORY_FAILURE, `card ${this.cardId}: the card image could not be written`, { cause: e });
    }
    this.state = next;
  }
}

export interface CardDescription {
  cardId: string;
  token: string;
  /** Size in bytes of each certificate EF (0 = not written). */
  certificates: Record<CertificateFile, number>;
  /** The certificate EFs' contents (public data; the signing certificate is the holder's own). */
  certificateBytes: Record<CertificateFile, Buffer>;
  keys: Record<KeyName, boolean>;
  pins: Record<PinName, { set: boolean; triesLeft: number; maxTries: number }>;
  issuer: { triesLeft: number; maxTries: number };
}
