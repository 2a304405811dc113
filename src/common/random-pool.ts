import { randomFillSync } from 'node:crypto';

/** Bytes drawn from the CSPRNG at once: a few hundred issuances' worth. */
const POOL_BYTES = 4096;

const pool = Buffer.alloc(POOL_BYTES);
let used = POOL_BYTES;

/**
 * `n` bytes from the CSPRNG (node:crypto), drawn into a pool a few KiB at a time, as Node does for
 * randomUUID: a call into OpenSSL for 16 bytes costs ~9 µs, about as much as building a TBSCertificate,
 * and every issuance draws twice (its serial, its subject's opaque CN). Each byte is handed out once and
 * wiped from the pool; the caller gets a copy of its own.
 */
export function pooledRandomBytes(n: number): Buffer {
  if (n > POOL_BYTES / 4) return randomFillSync(Buffer.alloc(n));
  if (used + n > POOL_BYTES) {
    randomFillSync(pool);
    used = 0;
  }
  const out = Buffer.from(pool.subarray(used, used + n));
  pool.fill(0, used, used + n);
  used += n;
  return out;
}
