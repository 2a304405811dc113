import { randomBytes } from 'node:crypto';
import { JpkiApplet, type AppletOptions } from './applet.js';
import { CardMemory, type CardDescription } from './card-memory.js';
import { assertCardId } from './issuer-key.js';
import { ATR } from './jpki-constants.js';
import type { CardStorage } from './storage.js';

export interface FabricateParams {
  fabricationSecret: Uint8Array;
  /** 16 hex digits; `newCardId()` when omitted. */
  cardId?: string;
  /**
   * This card's diversified issuer key, deriveCardIssuerKey(masterKey, cardId). A function so the caller can
   * derive it from the ID chosen here; the card never sees the master key.
   */
  issuerKey: (cardId: string) => Uint8Array | Promise<Uint8Array>;
  /** EF 0006 token name; JPKIAPICCTOKEN2 (My Number card) by default. */
  token?: string;
}

/**
 * The card as a reader sees it: an ATR, power and reset, and one APDU at a time. Commands are queued, because
 * a card is a single-threaded device and the applet's state changes span awaits (persisting a counter).
 */
export class SoftCard {
  readonly atr: Buffer = Buffer.from(ATR);
  private queue: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly memory: CardMemory,
    private readonly applet: JpkiApplet,
  ) {}

  /** Makes a blank card in `storage` (which must be empty): no keys, no certificates, PINs unset. */
  static async fabricate(storage: CardStorage, params: FabricateParams, options: AppletOptions = {}): Promise<SoftCard> {
    const cardId = params.cardId ?? newCardId();
    assertCardId(cardId);
    const memory = await CardMemory.fabricate(storage, {
      fabricationSecret: params.fabricationSecret,
      cardId,
      issuerKey: await params.issuerKey(cardId),
      token: params.token,
    });
    return new SoftCard(memory, new JpkiApplet(memory, options));
  }

  static async open(storage: CardStorage, fabricationSecret: Uint8Array, options: AppletOptions = {}): Promise<SoftCard> {
    const memory = await CardMemory.open(storage, fabricationSecret);
    return new SoftCard(memory, new JpkiApplet(memory, options));
  }

  get cardId(): string {
    return this.memory.cardId;
  }

  /** Tokens, files present and tries left, from the card's memory (for `jpki card status`). */
  describe(): CardDescription {
    return this.memory.describe();
  }

  powerOn(): void {
    this.applet.resetVolatileState();
  }

  powerOff(): void {
    this.applet.resetVolatileState();
  }

  reset(): void {
    this.applet.resetVolatileState();
  }

  transmit(apdu: Uint8Array): Promise<Buffer> {
    const run = this.queue.then(() => this.applet.process(apdu));
    this.queue = run.catch(() => undefined);
    return run;
  }

  async close(): Promise<void> {
    await this.queue;
    await this.memory.close();
  }
}

/** 8 random bytes as 16 upper-case hex digits. */
export function newCardId(): string {
  return randomBytes(8).toString('hex').toUpperCase();
}
