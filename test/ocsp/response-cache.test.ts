/**
 * The compact in-memory tier of pre-signed responses (src/ocsp/response-cache.ts) against a plain Map model:
 * random inserts, replacements and invalidations keep exactly the model's entries, byte for byte; the budget
 * evicts oldest slabs first; invalidation finds every response of a certificate.
 */
import { describe, it, expect } from 'vitest';
import { randomBytes } from 'node:crypto';
import { ResponseCache, httpCaching, type CachedStatus } from '../../src/ocsp/response-cache.js';

const T0 = Date.UTC(2026, 11, 3, 12, 0, 0);
const DAY = 86_400_000;

interface Model {
  certKey: string;
  certId: Buffer;
  der: Buffer;
  thisUpdate: number;
  status: CachedStatus;
}

/** A CertID-like byte string: a shared prefix (as the issuer hashes are) and a serial of its own. */
function certIdOf(serial: number, hash: number): Buffer {
  const prefix = Buffer.alloc(40, hash);
  const s = Buffer.from(serial.toString(16).padStart(8, '0'), 'hex');
  return Buffer.concat([prefix, s]);
}

function expectEntry(cache: ResponseCache, m: Model): void {
  const e = cache.get(m.certId);
  expect(e, m.certKey).toBeDefined();
  expect(Buffer.compare(e!.der, m.der)).toBe(0);
  expect(Buffer.compare(e!.certId, m.certId)).toBe(0);
  expect(e!.status).toBe(m.status);
  expect(e!.certKey).toBe(m.certKey);
  expect(e!.http).toEqual(httpCaching(m.der, m.thisUpdate, m.thisUpdate + DAY));
  expect(e!.refreshAt).toBe(m.thisUpdate + DAY / 2);
}

describe('ResponseCache (arena of pre-signed responses)', () => {
  it('keeps what a Map would keep through random inserts, replacements and invalidations', () => {
    const cache = new ResponseCache(2 ** 30);
    const model = new Map<string, Model>();
    const statuses: CachedStatus[] = ['good', 'revoked', 'unknown'];
    for (let step = 0; step < 20_000; step++) {
      const serial = Math.floor(Math.random() * 3000);
      const hash = Math.floor(Math.random() * 3);
      const certKey = `pref-13:${serial.toString(16)}`;
      if (Math.random() < 0.1) {
        const removed = cache.deleteCert(certKey);
        const expected = [...model.values()].filter((m) => m.certKey === certKey);
        expect(removed.map((r) => r.certId.toString('hex')).sort()).toEqual(expected.map((m) => m.certId.toString('hex')).sort());
        for (const m of expected) model.delete(m.certId.toString('hex'));
        continue;
      }
      const m: Model = { certKey, certId: certIdOf(serial, hash), der: randomBytes(100 + Math.floor(Math.random() * 1500)), thisUpdate: T0 + step * 1000, status: statuses[step % 3]! };
      const e = cache.set(m.certKey, m.certId, m.der, m.thisUpdate, m.thisUpdate + DAY, m.status);
      expect(Buffer.compare(e.der, m.der)).toBe(0);
      model.set(m.certId.toString('hex'), m);
    }
    expect(cache.size).toBe(model.size);
    expect(cache.responseBytes).toBe([...model.values()].reduce((a, m) => a + m.der.length, 0));
    for (const m of model.values()) expectEntry(cache, m);
    expect(cache.get(certIdOf(99_999, 1))).toBeUndefined();
    expect(cache.find(Buffer.alloc(0))).toBe(-1);
  });

  it('invalidation with a filter drops only the selected responses of the certificate', () => {
    const cache = new ResponseCache(2 ** 24);
    for (let hash = 0; hash < 4; hash++) cache.set('pref-13:ab', certIdOf(0xab, hash), randomBytes(50), T0, T0 + DAY, hash === 2 ? 'unknown' : 'good');
    cache.set('pref-13:ac', certIdOf(0xac, 0), randomBytes(50), T0, T0 + DAY, 'unknown');
    const removed = cache.deleteCert('pref-13:ab', (e) => e.status === 'unknown');
    expect(removed.map((r) => r.certId)).toEqual([certIdOf(0xab, 2)]);
    expect(cache.size).toBe(4);
    expect(cache.deleteCert('pref-13:ab')).toHaveLength(3);
    expect(cache.get(certIdOf(0xab, 0))).toBeUndefined();
    expect(cache.get(certIdOf(0xac, 0))?.status).toBe('unknown');
  });

  it('stays within its budget by evicting the oldest slab first; answers already handed out stay intact', () => {
    const budget = 256 * 1024;
    const cache = new ResponseCache(budget);
    const first = cache.set('pref-13:1', certIdOf(1, 0), Buffer.alloc(1400, 1), T0, T0 + DAY, 'good');
    const firstDer = Buffer.from(first.der);
    for (let serial = 2; serial < 2000; serial++) {
      cache.set(`pref-13:${serial}`, certIdOf(serial, 0), Buffer.alloc(1400, serial & 0xff), T0, T0 + DAY, 'good');
      expect(cache.usedBytes).toBeLessThanOrEqual(budget + 64 * 1024);
    }
    expect(cache.get(certIdOf(1, 0))).toBeUndefined();
    expect(cache.get(certIdOf(1999, 0))?.der.equals(Buffer.alloc(1400, 1999 & 0xff))).toBe(true);
    expect(first.der.equals(firstDer)).toBe(true);
    expect(cache.size).toBeGreaterThan(50);
    cache.clear();
    expect(cache.size).toBe(0);
    expect(cache.usedBytes).toBe(0);
    expect(cache.get(certIdOf(1999, 0))).toBeUndefined();
  });

  it('a budget smaller than one response still keeps the newest', () => {
    const cache = new ResponseCache(1);
    for (let serial = 1; serial < 100; serial++) cache.set(`pref-13:${serial}`, certIdOf(serial, 0), randomBytes(1400), T0, T0 + DAY, 'good');
    expect(cache.get(certIdOf(99, 0))).toBeDefined();
    expect(cache.size).toBeLessThan(20);
  });
});
