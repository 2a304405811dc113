import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AUTH_PIN, SELECT_AP, openImage, personalisedImage, selectEf, verifyApdu, type Personalised } from '../../test/card/support/cards.js';
import { VpcdBridge } from './vpcd-bridge.js';
import { encodeVpcdFrame, parseVpcdAddress, VpcdFrameDecoder } from './vpcd-protocol.js';

/**
 * The bridge against a stand-in for pcscd's vpcd driver: a TCP server speaking the framing of card-protocol
 * §8. (The real pcscd + vpcd run in test/card/pcsc-stack.test.ts.)
 */
class FakeVpcd {
  private server: Server | null = null;
  socket: Socket | null = null;
  private decoder = new VpcdFrameDecoder();
  private waiting: ((frame: Buffer) => void)[] = [];
  private frames: Buffer[] = [];
  connections = 0;

  async listen(port = 0): Promise<number> {
    this.server = createServer((socket) => {
      this.connections++;
      this.socket = socket;
      this.decoder = new VpcdFrameDecoder();
      socket.on('data', (chunk) => {
        for (const frame of this.decoder.push(chunk)) {
          const w = this.waiting.shift();
          if (w) w(frame);
          else this.frames.push(frame);
        }
      });
      for (const w of this.connectedWaiters.splice(0)) w();
    });
    await new Promise<void>((resolve) => this.server!.listen(port, '127.0.0.1', () => resolve()));
    return (this.server!.address() as AddressInfo).port;
  }

  private connectedWaiters: (() => void)[] = [];
  connected(): Promise<void> {
    return new Promise((resolve) => this.connectedWaiters.push(resolve));
  }

  next(): Promise<Buffer> {
    const f = this.frames.shift();
    if (f) return Promise.resolve(f);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Sends one message, or raw bytes (to split frames as Debian's vpcd 0.8 does). */
  write(bytes: Buffer): void {
    this.socket!.write(bytes);
  }

  async exchange(hex: string): Promise<string> {
    this.write(encodeVpcdFrame(Buffer.from(hex.replace(/\s+/g, ''), 'hex')));
    return (await this.next()).toString('hex').toUpperCase();
  }

  async close(): Promise<void> {
    this.socket?.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = null;
  }
}

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const vpcd = new FakeVpcd();
  const port = await vpcd.listen();
  const { card } = await openImage(p.image);
  const bridge = new VpcdBridge(card, { host: '127.0.0.1', port, retryDelayMs: 50 });
  const connected = Promise.all([vpcd.connected(), new Promise((r) => bridge.once('connected', r))]);
  bridge.start();
  await connected;
  cleanups.push(() => vpcd.close(), () => bridge.stop());
  return { vpcd, bridge, port };
}

describe('vpcd framing', () => {
  it('encodes a 2-byte big-endian length and the body', () => {
    expect(encodeVpcdFrame(Buffer.from([0x04])).toString('hex')).toBe('000104');
    expect(encodeVpcdFrame(Buffer.alloc(300)).subarray(0, 2).toString('hex')).toBe('012c');
  });

  it('reassembles frames split anywhere and several per chunk', () => {
    const stream = Buffer.concat([encodeVpcdFrame(Buffer.from([1])), encodeVpcdFrame(Buffer.from('00A4040C', 'hex')), encodeVpcdFrame(Buffer.from([4]))]);
    for (let cut = 0; cut <= stream.length; cut++) {
      const d = new VpcdFrameDecoder();
      const frames = [...d.push(stream.subarray(0, cut)), ...d.push(stream.subarray(cut))];
      expect(frames.map((f) => f.toString('hex'))).toEqual(['01', '00a4040c', '04']);
      expect(d.pending).toBe(0);
    }
  });

  it.each([
    ['127.0.0.1:35963', { host: '127.0.0.1', port: 35963 }],
    ['localhost:35964', { host: 'localhost', port: 35964 }],
    [':36000', { host: '127.0.0.1', port: 36000 }],
    ['pcsc-host', { host: 'pcsc-host', port: 35963 }],
    ['[::1]:35963', { host: '::1', port: 35963 }],
    ['host:0', null],
    ['host:99999', null],
    ['a:b:c', null],
    ['host:port', null],
  ])('parses --vpcd %s', (text, want) => {
    expect(parseVpcdAddress(text)).toEqual(want);
  });
});

describe('VpcdBridge', () => {
  it('answers every get-ATR poll with the ATR, also while powered off', async () => {
    const { vpcd } = await setup();
    expect(await vpcd.exchange('04')).toBe('3BE500FF8131FE45807394016017');
    vpcd.write(encodeVpcdFrame(Buffer.from([0x00])));
    expect(await vpcd.exchange('04')).toBe('3BE500FF8131FE45807394016017');
  });

  it('answers C-APDUs with R-APDUs, in order, whether frames arrive split or bunched', async () => {
    const { vpcd } = await setup();
    vpcd.write(encodeVpcdFrame(Buffer.from([0x01])));
    const select = encodeVpcdFrame(Buffer.from(SELECT_AP.replace(/\s+/g, ''), 'hex'));
    vpcd.write(select.subarray(0, 2)); // length and body in two send() calls, as vpcd 0.8 does
    await new Promise((r) => setTimeout(r, 20));
    vpcd.write(select.subarray(2));
    expect((await vpcd.next()).toString('hex')).toBe('9000');
    vpcd.write(Buffer.concat([encodeVpcdFrame(Buffer.from(selectEf('0018').replace(/\s+/g, ''), 'hex')), encodeVpcdFrame(Buffer.from('00200080', 'hex')), encodeVpcdFrame(Buffer.from([0x04]))]));
    expect([(await vpcd.next()).toString('hex'), (await vpcd.next()).toString('hex'), (await vpcd.next()).toString('hex')]).toEqual(['9000', '63c3', '3be500ff8131fe45807394016017']);
  });

  it.each([['power off', '00'], ['power on', '01'], ['reset', '02']])('clears the session on %s (no reply is sent)', async (_name, code) => {
    const { vpcd } = await setup();
    await vpcd.exchange(SELECT_AP);
    await vpcd.exchange(selectEf('0018'));
    expect(await vpcd.exchange(verifyApdu(AUTH_PIN))).toBe('9000');
    await vpcd.exchange(selectEf('0017'));
    vpcd.write(encodeVpcdFrame(Buffer.from(code, 'hex')));
    expect(await vpcd.exchange('80 2A 00 80 03 01 02 03 00')).toBe('6986'); // no AP selected any more
    await vpcd.exchange(SELECT_AP);
    await vpcd.exchange(selectEf('0017'));
    expect(await vpcd.exchange('80 2A 00 80 03 01 02 03 00')).toBe('6982');
  });

  it('reconnects when pcscd restarts, with the session gone', async () => {
    const { vpcd, port, bridge } = await setup();
    const events: string[] = [];
    for (const e of ['connected', 'disconnected', 'connection-error'] as const) bridge.on(e, () => events.push(e));
    await vpcd.exchange(SELECT_AP);
    await vpcd.exchange(selectEf('0018'));
    expect(await vpcd.exchange(verifyApdu(AUTH_PIN))).toBe('9000');
    await vpcd.close(); // pcscd stops: the port is gone for a while
    await new Promise((r) => setTimeout(r, 200));
    const again = new FakeVpcd();
    const connected = again.connected();
    await again.listen(port);
    cleanups.push(() => again.close());
    await connected;
    expect(await again.exchange('04')).toBe('3BE500FF8131FE45807394016017');
    await again.exchange(SELECT_AP);
    await again.exchange(selectEf('0017'));
    expect(await again.exchange('80 2A 00 80 03 01 02 03 00')).toBe('6982');
    // One disconnection, refused attempts while the port was gone, one reconnection.
    expect(events[0]).toBe('disconnected');
    expect(events.filter((e) => e === 'disconnected')).toHaveLength(1);
    expect(events).toContain('connection-error');
    expect(events.at(-1)).toBe('connected');
  });

  it('stops for good: the socket closes and no reconnection follows', async () => {
    const { vpcd, bridge } = await setup();
    const closed = new Promise((r) => vpcd.socket!.once('close', r));
    await bridge.stop();
    await closed;
    await new Promise((r) => setTimeout(r, 200));
    expect(vpcd.connections).toBe(1);
    expect(bridge.connected).toBe(false);
  });
});
