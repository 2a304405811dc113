import { describe, expect, it } from 'vitest';
import { pooledRandomBytes } from './random-pool.js';

describe('pooledRandomBytes', () => {
  it('hands out each byte once, as copies of their own, across refills of the pool', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const b = pooledRandomBytes(16); // 16,000 bytes: the 4 KiB pool refills several times
      expect(b).toHaveLength(16);
      seen.add(b.toString('hex'));
    }
    expect(seen.size).toBe(1000);
    const a = pooledRandomBytes(9);
    const copy = Buffer.from(a);
    pooledRandomBytes(9);
    expect(a).toEqual(copy); // later draws never write into what was handed out
  });

  it('draws a large request directly', () => {
    expect(pooledRandomBytes(5000)).toHaveLength(5000);
  });
});
