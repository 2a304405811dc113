/**
 * The vpcd wire format (card-protocol §8.2–§8.3): every message, both ways, is a 2-byte big-endian length and
 * that many bytes, over TCP. A 1-byte message from vpcd is a control code; anything longer is a C-APDU.
 */
export const VPCD_CONTROL = {
  POWER_OFF: 0x00,
  POWER_ON: 0x01,
  RESET: 0x02,
  GET_ATR: 0x04,
} as const;

export const VPCD_DEFAULT_HOST = '127.0.0.1';
/** Slot 0, reader "Virtual PCD 00 00"; slot n listens on 35963 + n. */
export const VPCD_DEFAULT_PORT = 35963;

export function encodeVpcdFrame(payload: Uint8Array): Buffer {
  if (payload.length > 0xffff) throw new RangeError(`vpcd frame of ${payload.length} bytes exceeds 65535`);
  const out = Buffer.alloc(2 + payload.length);
  out.writeUInt16BE(payload.length, 0);
  out.set(payload, 2);
  return out;
}

/**
 * Reassembles frames from a TCP stream: lengths and bodies may arrive split (Debian's vpcd 0.8 sends them with
 * two send() calls) or several frames in one chunk.
 */
export class VpcdFrameDecoder {
  private buffer = Buffer.alloc(0);

  push(chunk: Uint8Array): Buffer[] {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : Buffer.from(chunk);
    const frames: Buffer[] = [];
    while (this.buffer.length >= 2) {
      const length = this.buffer.readUInt16BE(0);
      if (this.buffer.length < 2 + length) break;
      frames.push(Buffer.from(this.buffer.subarray(2, 2 + length)));
      this.buffer = this.buffer.subarray(2 + length);
    }
    return frames;
  }

  /** Bytes of an unfinished frame (dropped on reconnect). */
  get pending(): number {
    return this.buffer.length;
  }
}

/** "host:port" (or ":port", or "host") → parts, for `--vpcd`. Returns null when it does not parse. */
export function parseVpcdAddress(text: string): { host: string; port: number } | null {
  const m = /^(?:\[([^\]]+)\]|([^:]*))(?::(\d{1,5}))?$/.exec(text.trim());
  if (!m) return null;
  const host = m[1] ?? (m[2] || VPCD_DEFAULT_HOST);
  const port = m[3] === undefined ? VPCD_DEFAULT_PORT : Number(m[3]);
  if (!host || port < 1 || port > 65535) return null;
  return { host, port };
}
