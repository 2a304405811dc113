import { EventEmitter } from 'node:events';
import { connect, type Socket } from 'node:net';
import { encodeVpcdFrame, VpcdFrameDecoder, VPCD_CONTROL, VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT } from './vpcd-protocol.js';

/** What the bridge needs from a card (SoftCard has exactly this). */
export interface VirtualCard {
  readonly atr: Uint8Array;
  powerOn(): void;
  powerOff(): void;
  reset(): void;
  transmit(apdu: Uint8Array): Promise<Uint8Array>;
}

export interface VpcdBridgeOptions {
  host?: string;
  port?: number;
  /** Pause between connection attempts while pcscd is away (default 1 s, as card-protocol §8.4 found enough). */
  retryDelayMs?: number;
  /** Each C-APDU and R-APDU, for `--trace`. */
  onApdu?: (direction: 'command' | 'response', bytes: Uint8Array) => void;
}

export type VpcdBridgeEvent = 'connected' | 'disconnected' | 'power-on' | 'power-off' | 'reset' | 'connection-error';

/**
 * Puts a card into pcscd's vpcd reader (card-protocol §8). vpcd listens; we connect as a TCP client, answer
 * every get-ATR poll at once (also while "powered off", or pcscd thinks the card was removed), clear the
 * card's session on power-off, power-on and reset, and answer each C-APDU with the card's R-APDU. When pcscd
 * goes away the card is powered off and we reconnect until it is back.
 *
 * Events: 'connected', 'disconnected', 'power-on', 'power-off', 'reset', 'connection-error' (Error; retried,
 * so not an 'error' event: nobody has to listen).
 */
export class VpcdBridge extends EventEmitter {
  readonly host: string;
  readonly port: number;
  private readonly retryDelayMs: number;
  private socket: Socket | null = null;
  private retryTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  /** Messages are answered strictly in order, one at a time, like a card on a wire. */
  private work: Promise<void> = Promise.resolve();

  constructor(
    private readonly card: VirtualCard,
    private readonly options: VpcdBridgeOptions = {},
  ) {
    super();
    this.host = options.host ?? VPCD_DEFAULT_HOST;
    this.port = options.port ?? VPCD_DEFAULT_PORT;
    this.retryDelayMs = options.retryDelayMs ?? 1000;
  }

  get connected(): boolean {
    return this.socket !== null && !this.socket.connecting && !this.socket.destroyed;
  }

  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    this.connect();
  }

  /** Disconnects (pcscd then sees the card removed) and stops retrying. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = null;
    const socket = this.socket;
    if (socket && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.once('close', () => resolve());
        socket.destroy();
      });
    }
    await this.work;
  }

  private connect(): void {
    const decoder = new VpcdFrameDecoder();
    const socket = connect({ host: this.host, port: this.port });
    this.socket = socket;
    socket.setNoDelay(true); // one small frame per APDU: Nagle would add tens of ms to each
    let wasConnected = false;
    socket.on('connect', () => {
      wasConnected = true;
      socket.setKeepAlive(true, 5000);
      this.emit('connected');
    });
    socket.on('data', (chunk) => {
      for (const frame of decoder.push(chunk)) this.work = this.work.then(() => this.handle(socket, frame));
    });
    socket.on('error', (e) => this.emit('connection-error', e));
    socket.on('close', () => {
      this.socket = null;
      this.card.powerOff(); // a card taken out of the reader loses its session
      if (wasConnected) this.emit('disconnected');
      if (!this.stopped) this.retryTimer = setTimeout(() => this.connect(), this.retryDelayMs);
    });
  }

  private async handle(socket: Socket, frame: Buffer): Promise<void> {
    if (frame.length === 1) {
      switch (frame[0]) {
        case VPCD_CONTROL.POWER_OFF:
          this.card.powerOff();
          this.emit('power-off');
          return;
        case VPCD_CONTROL.POWER_ON:
          this.card.powerOn();
          this.emit('power-on');
          return;
        case VPCD_CONTROL.RESET:
          this.card.reset();
          this.emit('reset');
          return;
        case VPCD_CONTROL.GET_ATR:
          send(socket, this.card.atr);
          return;
        default:
          return; // 03 is unused; unknown codes get no answer, as in vpicc
      }
    }
    if (frame.length === 0) return;
    this.options.onApdu?.('command', frame);
    let response: Uint8Array;
    try {
      response = await this.card.transmit(frame);
    } catch {
      response = Buffer.from([0x6f, 0x00]); // never leave vpcd waiting: it has no timeout
    }
    if (response.length < 2) response = Buffer.from([0x6f, 0x00]); // an empty answer would eject the card
    this.options.onApdu?.('response', response);
    send(socket, response);
  }
}

function send(socket: Socket, payload: Uint8Array): void {
  if (!socket.destroyed) socket.write(encodeVpcdFrame(payload));
}
