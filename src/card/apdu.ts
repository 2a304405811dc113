import { JpkiError } from '../common/errors.js';
import { SW } from './status-words.js';

/**
 * ISO 7816-4 §5.1 command and response APDUs, short (Lc ≤ 255, Le ≤ 256) and extended (Lc ≤ 65535 in three
 * bytes 00 xx xx, Le ≤ 65536 in three bytes 00 xx xx without data or two bytes xx xx after extended data;
 * 00 00 means 65536). OpenSC stays with short APDUs through Debian's vpcd (card-protocol §8.6); other JPKI
 * clients read a whole certificate with one extended READ BINARY, which the card advertises in its ATR and
 * EF.ATR/INFO.
 *
 * Cases: 1 = header only; 2 = header + Le; 3 = header + Lc + data; 4 = header + Lc + data + Le (S = short,
 * E = extended).
 */
export interface CommandApdu {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  /** Command data; empty in cases 1 and 2. */
  data: Buffer;
  /** Expected response length 1–256 (short, a coded 00 is 256) or 1–65536 (extended), or null when absent. */
  le: number | null;
  /** The extended-length form was used (the answer may then be longer than 256 bytes). */
  extended: boolean;
}

export type ParsedCommand = { ok: true; command: CommandApdu } | { ok: false; sw: number };

/** The largest answer an extended Le can ask for. */
export const MAX_EXTENDED_LE = 65536;

/**
 * Parses a C-APDU as the card receives it (ISO 7816-4 §5.1). Never throws: anything that is not a
 * well-formed short or extended APDU answers 67 00 (wrong length).
 */
export function parseCommandApdu(bytes: Uint8Array): ParsedCommand {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 4) return { ok: false, sw: SW.WRONG_LENGTH };
  const [cla, ins, p1, p2] = [b[0]!, b[1]!, b[2]!, b[3]!];
  const header = { cla, ins, p1, p2 };
  const none = Buffer.alloc(0);
  if (b.length === 4) return { ok: true, command: { ...header, data: none, le: null, extended: false } };
  const p3 = b[4]!;
  if (b.length === 5) return { ok: true, command: { ...header, data: none, le: p3 === 0 ? 256 : p3, extended: false } };
  if (p3 !== 0) {
    const data = Buffer.from(b.subarray(5, 5 + p3));
    if (b.length === 5 + p3) return { ok: true, command: { ...header, data, le: null, extended: false } };
    if (b.length === 6 + p3) {
      const le = b[5 + p3]!;
      return { ok: true, command: { ...header, data, le: le === 0 ? 256 : le, extended: false } };
    }
    return { ok: false, sw: SW.WRONG_LENGTH };
  }
  // Extended: 00 then two bytes. Alone (7 bytes) they are Le (case 2E); otherwise Lc, the data, and an
  // optional two-byte Le (cases 3E, 4E).
  if (b.length < 7) return { ok: false, sw: SW.WRONG_LENGTH };
  const n = b.readUInt16BE(5);
  if (b.length === 7) return { ok: true, command: { ...header, data: none, le: n === 0 ? MAX_EXTENDED_LE : n, extended: true } };
  if (n === 0) return { ok: false, sw: SW.WRONG_LENGTH };
  const data = Buffer.from(b.subarray(7, 7 + n));
  if (b.length === 7 + n) return { ok: true, command: { ...header, data, le: null, extended: true } };
  if (b.length === 9 + n) {
    const le = b.readUInt16BE(7 + n);
    return { ok: true, command: { ...header, data, le: le === 0 ? MAX_EXTENDED_LE : le, extended: true } };
  }
  return { ok: false, sw: SW.WRONG_LENGTH };
}

export interface CommandFields {
  cla: number;
  ins: number;
  p1: number;
  p2: number;
  data?: Uint8Array;
  /** 1–256 (1–65536 extended); omit for no Le. */
  le?: number;
  /** Use the extended-length form (also chosen by itself when the data or Le do not fit a short APDU). */
  extended?: boolean;
}

/** Encodes a C-APDU on the host side. Out-of-range fields are a programming error: thrown, not sent. */
export function encodeCommandApdu(c: CommandFields): Buffer {
  for (const [name, v] of [['CLA', c.cla], ['INS', c.ins], ['P1', c.p1], ['P2', c.p2]] as const) {
    if (!Number.isInteger(v) || v < 0 || v > 0xff) throw new JpkiError('apdu.field', 'malformed', `${name} must be a byte, got ${v}`);
  }
  const data = c.data ?? new Uint8Array(0);
  const extended = c.extended === true || data.length > 255 || (c.le ?? 0) > 256;
  if (data.length > 65535) throw new JpkiError('apdu.lc', 'malformed', `command data of ${data.length} bytes does not fit an APDU`);
  if (c.le !== undefined && (!Number.isInteger(c.le) || c.le < 1 || c.le > (extended ? MAX_EXTENDED_LE : 256))) {
    throw new JpkiError('apdu.le', 'malformed', `Le must be 1–${extended ? MAX_EXTENDED_LE : 256}, got ${c.le}`);
  }
  const parts: number[] = [c.cla, c.ins, c.p1, c.p2];
  if (!extended) {
    if (data.length) parts.push(data.length, ...data);
    if (c.le !== undefined) parts.push(c.le & 0xff);
    return Buffer.from(parts);
  }
  if (data.length) parts.push(0, data.length >> 8, data.length & 0xff, ...data);
  if (c.le !== undefined) {
    const le = c.le & 0xffff; // 65536 is coded 00 00
    if (!data.length) parts.push(0);
    parts.push(le >> 8, le & 0xff);
  }
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
