import { describe, expect, it } from 'vitest';
import { newSerial, normalizeSerial, SERIAL_BYTES, serialHex } from '../../src/ca/serial.js';

describe('serial numbers', () => {
  it('are 16 bytes, positive, of canonical length, with the time in ms after the first byte', () => {
    const at = Date.UTC(2026, 11, 3, 22, 40, 0, 123);
    const s = newSerial(at);
    expect(s.length).toBe(SERIAL_BYTES);
    expect(s[0]).toBe(0x40); // top bit 0 (positive), second bit 1 (no leading zero byte: canonical DER)
    expect(s.readUIntBE(1, 6)).toBe(at);
    expect(serialHex(s)).toHaveLength(32);
    expect(normalizeSerial(serialHex(s).toUpperCase().match(/../g)!.join(':'))).toBe(serialHex(s));
  });

  it('carry 72 random bits: two of the same millisecond differ, and their random parts are spread', () => {
    const at = Date.now();
    const tails = new Set<string>();
    const ones = new Array<number>(72).fill(0);
    for (let i = 0; i < 2000; i++) {
      const tail = newSerial(at).subarray(7);
      tails.add(tail.toString('hex'));
      for (let bit = 0; bit < 72; bit++) ones[bit]! += (tail[bit >> 3]! >> (7 - (bit & 7))) & 1;
    }
    expect(tails.size).toBe(2000);
    // every bit of the random part is set about half the time (2000 draws: 1000 ± ~150 at six sigma)
    for (const n of ones) expect(Math.abs(n - 1000)).toBeLessThan(150);
  });

  it('sort by time of issue, so that an index on them grows at its right edge', () => {
    const a = serialHex(newSerial(1_800_000_000_000));
    const b = serialHex(newSerial(1_800_000_000_001));
    const c = serialHex(newSerial(1_900_000_000_000));
    expect([c, a, b].sort()).toEqual([a, b, c]);
  });
});
