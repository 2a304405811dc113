import type { EventEmitter } from 'node:events';
import { ReaderError, type Reader } from './reader.js';

/** pcscd's vpcd slot 0, where `jpki card serve` puts the card by default (card-protocol §8.1). */
export const VPCD_READER_NAME = 'Virtual PCD 00 00';

// The parts of the pcsclite binding we use (its own typings do not export the reader type).
interface PcscContext extends EventEmitter {
  /** Every reader the binding has opened (each runs a status thread until closed). */
  readers: Record<string, PcscCardReader>;
  close(): void;
}
interface PcscCardReader extends EventEmitter {
  name: string;
  connected: boolean;
  SCARD_SHARE_SHARED: number;
  SCARD_SHARE_EXCLUSIVE: number;
  SCARD_PROTOCOL_T0: number;
  SCARD_PROTOCOL_T1: number;
  SCARD_STATE_PRESENT: number;
  SCARD_LEAVE_CARD: number;
  SCARD_RESET_CARD: number;
  connect(options: { share_mode?: number; protocol?: number }, cb: (err: unknown, protocol: number) => void): void;
  disconnect(disposition: number, cb: (err: unknown) => void): void;
  transmit(data: Buffer, resLen: number, protocol: number, cb: (err: unknown, response: Buffer) => void): void;
  close(): void;
}

export interface PcscReaderOptions {
  /** PC/SC reader name; "Virtual PCD 00 00" by default. */
  readerName?: string;
  /** How long to wait for the reader and a card in it (default 10 s). */
  timeoutMs?: number;
  /**
   * Exclusive (default): no other application can send APDUs between ours and disturb the selection or the
   * PIN state, which a multi-command session like personalisation needs. Shared lets OpenSC in alongside.
   */
  shared?: boolean;
}

/** Largest R-APDU we accept: an extended answer, 65536 bytes and the status word. */
const RESPONSE_BUFFER = 65538;

/**
 * A card reached through pcscd with the `pcsclite` binding: any reader pcscd knows, in particular the vpcd
 * reader that `jpki card serve` feeds.
 */
export class PcscReader implements Reader {
  private cardPresent = true;
  private closed = false;

  private constructor(
    private readonly context: PcscContext,
    private readonly reader: PcscCardReader,
    private protocol: number,
    readonly atr: Uint8Array,
    private readonly shareMode: number,
  ) {
    reader.on('status', (status: { state: number }) => {
      this.cardPresent = (status.state & reader.SCARD_STATE_PRESENT) !== 0;
    });
    reader.on('error', () => {
      this.cardPresent = false;
    });
  }

  get name(): string {
    return this.reader.name;
  }

  static async connect(options: PcscReaderOptions = {}): Promise<PcscReader> {
    const readerName = options.readerName ?? VPCD_READER_NAME;
    const timeoutMs = options.timeoutMs ?? 10_000;
    const { default: pcsclite } = await import('pcsclite');
    let context: PcscContext;
    try {
      context = pcsclite() as unknown as PcscContext;
    } catch (e) {
      throw new ReaderError('no-pcscd', `cannot reach pcscd (is it running?): ${(e as Error).message}`, { cause: e });
    }
    context.on('error', () => undefined); // reported through the timeouts below; an unhandled 'error' would crash
    try {
      const reader = await waitForReader(context, readerName, timeoutMs);
      const atr = await waitForCard(reader, readerName, timeoutMs);
      const shareMode = options.shared ? reader.SCARD_SHARE_SHARED : reader.SCARD_SHARE_EXCLUSIVE;
      const protocol = await connectCard(reader, shareMode);
      return new PcscReader(context, reader, protocol, atr, shareMode);
    } catch (e) {
      closeAll(context);
      throw e;
    }
  }

  transmit(apdu: Uint8Array): Promise<Uint8Array> {
    if (this.closed) return Promise.reject(new ReaderError('closed', `${this.name}: the reader is closed`));
    return new Promise((resolve, reject) => {
      this.reader.transmit(Buffer.from(apdu), RESPONSE_BUFFER, this.protocol, (err, response) => {
        if (err) reject(new ReaderError('transmit', `${this.name}: ${errorText(err)}`, { cause: err }));
        else resolve(response);
      });
    });
  }

  async reset(): Promise<void> {
    await disconnect(this.reader, this.reader.SCARD_RESET_CARD);
    this.protocol = await connectCard(this.reader, this.shareMode);
  }

  async isCardPresent(): Promise<boolean> {
    return !this.closed && this.cardPresent;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      // Reset, so that whoever connects next finds no verified PIN and no issuer session of ours.
      await disconnect(this.reader, this.reader.SCARD_RESET_CARD);
    } catch {
      // the card is gone already
    }
    closeAll(this.context);
  }
}

/** Stops every status thread the binding started; one left running keeps the process alive. */
function closeAll(context: PcscContext): void {
  context.removeAllListeners('reader');
  for (const reader of Object.values(context.readers ?? {})) reader.close();
  context.close();
}

function waitForReader(context: PcscContext, name: string, timeoutMs: number): Promise<PcscCardReader> {
  return new Promise((resolve, reject) => {
    const seen: string[] = [];
    const timer = setTimeout(() => {
      context.off('reader', onReader);
      reject(new ReaderError('no-reader', `no PC/SC reader named "${name}" within ${timeoutMs} ms (readers: ${seen.join(', ') || 'none'}); is pcscd running with vpcd?`));
    }, timeoutMs);
    const onReader = (reader: PcscCardReader) => {
      seen.push(reader.name);
      if (reader.name !== name) return;
      clearTimeout(timer);
      context.off('reader', onReader);
      resolve(reader);
    };
    context.on('reader', onReader);
  });
}

function waitForCard(reader: PcscCardReader, name: string, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      reader.off('status', onStatus);
      reject(new ReaderError('no-card', `no card in "${name}" within ${timeoutMs} ms (is \`jpki card serve\` running?)`));
    }, timeoutMs);
    const onStatus = (status: { state: number; atr?: Buffer }) => {
      if ((status.state & reader.SCARD_STATE_PRESENT) === 0) return;
      clearTimeout(timer);
      reader.off('status', onStatus);
      resolve(Buffer.from(status.atr ?? []));
    };
    reader.on('status', onStatus);
  });
}

function connectCard(reader: PcscCardReader, shareMode: number): Promise<number> {
  return new Promise((resolve, reject) => {
    reader.connect({ share_mode: shareMode, protocol: reader.SCARD_PROTOCOL_T0 | reader.SCARD_PROTOCOL_T1 }, (err, protocol) => {
      if (err) reject(new ReaderError('connect', `${reader.name}: ${errorText(err)}`, { cause: err }));
      else resolve(protocol);
    });
  });
}

function disconnect(reader: PcscCardReader, disposition: number): Promise<void> {
  return new Promise((resolve, reject) => {
    reader.disconnect(disposition, (err) => (err ? reject(new ReaderError('disconnect', `${reader.name}: ${errorText(err)}`, { cause: err })) : resolve()));
  });
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
