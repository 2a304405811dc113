import { JpkiError } from '../common/errors.js';
import { SW } from './status-words.js';

/**
 * ISO 7816-4 command and response APDUs, short form only (Lc ≤ 255, Le ≤ 256): Debian's vpcd does not
 * announce extended length, so no client sends it (card-protocol §3, §8.6).
 *
 * Cases: 1 = header only; 2 = header + Le; 3 = header + Lc + data; 4 = header + Lc + data + Le.
 */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data; empty in cases 1 and 2. */
  data: Buffer;
  /** Expected response length 1–256 (a coded 00 is 256), or null when Le is absent (cases 1 and 3). */
  le: number | null;
}

export type ParsedCommand = { ok: true; command: CommandApdu } | { ok: false; sw: number };

/**
 * Parses a C-APDU as the card receives it. Never throws: anything that is not a well-formed short APDU
 * answers 67 00 (wrong length), including extended-length encodings.
 */
export function parseCommandApdu(bytes: Uint8Array): ParsedCommand {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4) return { ok: false, sw: SW.WRONG_LENGTH };
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const header = { cla, ins, p1, p2 };
  if (b.length === 4) return { ok: true, command: { ...header, data: Buffer.alloc(0), le: null } };
  const p3 = b[4]!;
  if (b.length === 5) return { ok: true, command: { ...header, data: Buffer.alloc(0), le: p3 === 0 ? 256 : p3 } };
  // A 00 in P3 followed by more bytes is the extended-length marker: not supported.
  if (p3 === 0) return { ok: false, sw: SW.WRONG_LENGTH };
  const data = Buffer.from(b.subarray(5, 5 + p3));
  if (b.length === 5 + p3) return { ok: true, command: { ...header, data, le: null } };
  if (b.length === 6 + p3) {
    const le = b[5 + p3]!;
    return { ok: true, command: { ...header, data, le: le === 0 ? 256 : le } };
  }
  return { ok: false, sw: SW.WRONG_LENGTH };
}

export interface CommandFields {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** 1–256; omit for no Le. */
  le?: number;
}

/** Encodes a short C-APDU on the host side. Out-of-range fields are a programming error: thrown, not sent. */
export function encodeCommandApdu(c: CommandFields): Buffer {
  for (const [name, v] of [['CLA', c.cla], ['INS', c.ins], ['P1', c.p1], ['P2', c.p2]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new JpkiError('apdu.field', 'malformed', `${name} must be a byte, got ${v}`);
  }
  const data = c.data ?? new Uint8Array(0);
  if (data.length > 255) throw new JpkiError('apdu.lc', 'malformed', `command data of ${data.length} bytes does not fit a short APDU`);
  if (c.le !== undefined && (!Number.isInteger(c.le) || c.le < 1 || c.le > 256)) {
    throw new JpkiError('apdu.le', 'malformed', `Le must be 1–256, got ${c.le}`);
  }
  const parts: number[] = [c.cla, c.ins, c.p1, c.p2];
  if (data.length) parts.push(data.length, ...data);
  if (c.le !== undefined) parts.push(c.le & 0xff);
  return Buffer.from(parts);
}

export interface ResponseApdu {
  data: Buffer;
  sw: number;
}

export function encodeResponseApdu(data: Uint8Array, sw: number): Buffer {
  const out = Buffer.alloc(data.length + 2);
  out.set(data, 0);
  out.writeUInt16BE(sw, data.length);
  return out;
}

/** Splits an R-APDU into data and SW1-SW2. Fewer than two bytes is not a card answer. */
export function parseResponseApdu(bytes: Uint8Array): ResponseApdu {
  if (bytes.length < 2) throw new JpkiError('apdu.response', 'unavailable', `the card answered ${bytes.length} bytes, not a response APDU`);
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { data: Buffer.from(b.subarray(0, b.length - 2)), sw: b.readUInt16BE(b.length - 2) };
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('hex').toUpperCase();
}
