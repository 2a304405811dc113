import { pooledRandomBytes } from '../common/random-pool.js';
import { CaError } from './errors.js';

/** Bytes in a serial number: 16 bytes with the top bit clear carry 126 random bits (RFC 5280 and CA/B ≥ 64). */
export const SERIAL_BYTES = 16;

/**
 * A fresh serial number from the CSPRNG: positive (top bit 0) and always 16 bytes long (second bit 1), so
 * its hex form is canonical. Uniqueness per CA is enforced by the CA's ledger (a reservation of a taken serial fails).
 */
export function randomSerial(): Buffer {
  const b = pooledRandomBytes(SERIAL_BYTES);
  b[0] = (b[0]! & 0x7f) | 0x40;
  return b;
}

/** The canonical text form we store and print: lower-case hex of the magnitude, no leading zero bytes. */
export function serialHex(serial: Uint8Array): string {
  let i = 0;
  while (i < serial.length - 1 && serial[i] === 0) i++;
  return Buffer.from(serial.subarray(i)).toString('hex');
}

/**
 * A serial as a user writes it (hex with or without colons/spaces, any case, optional 0x) → canonical hex.
 */
export function normalizeSerial(text: string): string {
  const hex = text.trim().replace(/^0x/i, '').replace(/[:\s]/g, '').toLowerCase();
  if (!/^[0-9a-f]+$/.test(hex) || hex.length > 40)
    throw new CaError('SERIAL_INVALID', `serial number ${JSON.stringify(text)} is not hexadecimal (at most 20 bytes)`);
  const even = hex.length % 2 ? `0${hex}` : hex;
  return serialHex(Buffer.from(even, 'hex'));
}
