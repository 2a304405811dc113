import { FileCardStorage, SoftCard, type AppletOptions, type CardIssuer } from '../card/index.js';
import { cardFabricationSecret } from './key-files.js';
import { ReaderError, type Reader } from './reader.js';

/**
 * The card in a reader inside this process: APDUs go straight to the applet. For the CLI, the counter's
 * key-pair generation device and tests. The reader powers the card on when it is made and off when closed.
 */
export class InProcessReader implements Reader {
  private closed = false;

  constructor(
    readonly card: SoftCard,
    readonly name = `in-process:${card.cardId}`,
    /** Close the card (and release its image) with the reader. */
    private readonly ownsCard = false,
  ) {
    card.powerOn();
  }

  get atr(): Uint8Array {
    return this.card.atr;
  }

  async transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.closed) throw new ReaderError('closed', `${this.name}: the reader is closed`);
    return this.card.transmit(apdu);
  }

  async reset(): Promise<void> {
    this.card.reset();
  }

  async isCardPresent(): Promise<boolean> {
    return !this.closed;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.card.powerOff();
    if (this.ownsCard) await this.card.close();
  }
}

export interface OpenCardFileOptions {
  /** The data directory holding card-fabrication.key. */
  dataDir: string;
  /** Lock the image against a second user (default true; `jpki card status` reads without). */
  lock?: boolean;
  applet?: AppletOptions;
}

/** Opens a card image file as a SoftCard (the image stays locked until `card.close()`). */
export async function openCardFile(path: string, options: OpenCardFileOptions): Promise<SoftCard> {
  const secret = cardFabricationSecret(options.dataDir, { create: false });
  const storage = await FileCardStorage.open(path, { lock: options.lock ?? true });
  try {
    return await SoftCard.open(storage, secret, options.applet);
  } catch (e) {
    await storage.close();
    throw e;
  }
}

/** A card image file in an in-process reader; closing the reader closes the card and unlocks the image. */
export async function openInProcessReader(path: string, options: OpenCardFileOptions): Promise<InProcessReader> {
  const card = await openCardFile(path, options);
  return new InProcessReader(card, `in-process:${path}`, true);
}

export interface CreateCardFileOptions {
  /** The data directory: its fabrication secret seals the card. */
  dataDir: string;
  /** The card issuer (its secret in the key store) gives the card its own diversified issuer key. */
  issuer: CardIssuer;
  /** EF 0006 token name (default JPKIAPICCTOKEN2). */
  token?: string;
  /** A given card ID (16 hex digits) instead of a random one. */
  cardId?: string;
}

/**
 * Makes a blank card image file (`jpki card new`): no keys, no certificates, PINs unset. Creates the data
 * directory's card fabrication secret on first use. Refuses to overwrite a file.
 */
export async function createCardFile(path: string, options: CreateCardFileOptions): Promise<{ cardId: string }> {
  const fabricationSecret = cardFabricationSecret(options.dataDir, { create: true });
  const storage = await FileCardStorage.open(path, { lock: true });
  try {
    const card = await SoftCard.fabricate(storage, { fabricationSecret, cardId: options.cardId, token: options.token, issuerKey: (id) => options.issuer.cardKey(id) });
    return { cardId: card.cardId };
  } finally {
    await storage.close();
  }
}
