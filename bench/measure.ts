import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/** The measuring helpers every benchmark shares: operations per second, and a Markdown table printer. */

/** Calls `fn` in a loop for `ms` (after 20 warm-up calls); returns calls per second. */
export function syncRate(fn: () => void, ms: number): number {
  for (let i = 0; i < 20; i++) fn();
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  while (performance.now() < end) {
    fn();
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

/** `inFlight` workers each awaiting `fn` in a loop for `ms` (after 20 warm-up calls); returns calls per second. */
export async function asyncRate(fn: () => Promise<unknown>, inFlight: number, ms: number): Promise<number> {
  for (let i = 0; i < 20; i++) await fn();
  let n = 0;
  const t0 = performance.now();
  const end = t0 + ms;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (performance.now() < end) {
        await fn();
        n++;
      }
    }),
  );
  return (n * 1000) / (performance.now() - t0);
}

/**
 * Calls per second of each of `fns`, run in turns of `turnMs` (after 20 warm-up calls each) until each has run
 * for `ms`: rates to be compared with one another (a ratio to a raw operation) then see the same load, which
 * measured one after the other they do not on a shared machine. A function returning a promise is awaited.
 */
export async function interleavedRates(fns: readonly (() => unknown)[], ms: number, turnMs = 100): Promise<number[]> {
  for (const fn of fns) for (let i = 0; i < 20; i++) await fn();
  const calls = fns.map(() => 0);
  const spent = fns.map(() => 0);
  while (spent[0]! < ms) {
    for (const [i, fn] of fns.entries()) {
      const t0 = performance.now();
      const end = t0 + turnMs;
      let n = 0;
      while (performance.now() < end) {
        const r = fn();
        if (r instanceof Promise) await r;
        n++;
      }
      calls[i]! += n;
      spent[i]! += performance.now() - t0;
    }
  }
  return calls.map((n, i) => (n * 1000) / spent[i]!);
}

/**
 * The raw RSA-2048 signature the issuance targets are measured against: `sign()` on a 1,100-byte TBS-like
 * input (a resident certificate's TBS is about that size) with node:crypto's callback form (the thread pool,
 * every core), and `bracketed`, a figure with this raw rate measured right before and after it (2 s each, 8 in
 * flight): on a shared machine whose load moves, the mean of the two saw the same load as the figure.
 */
export function rawRsaSignature(): { privateKey: KeyObject; signAsync: () => Promise<Buffer>; signSync: () => Buffer; bracketed: (measure: () => Promise<number>) => Promise<[number, number]> } {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tbsLike = Buffer.alloc(1100, 7);
  const signAsync = () => new Promise<Buffer>((res, rej) => sign('sha256', tbsLike, privateKey, (e, s) => (e ? rej(e) : res(s))));
  const beside = () => asyncRate(signAsync, 8, 2000);
  return {
    privateKey,
    signAsync,
    signSync: () => sign('sha256', tbsLike, privateKey),
    bracketed: async (measure) => {
      const before = await beside();
      const r = await measure();
      const after = await beside();
      return [r, (before + after) / 2];
    },
  };
}

/** Prints rows as a Markdown table, the first row being the header. */
export function markdownTable(rows: string[][]): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const [i, r] of rows.entries()) {
    console.log(`| ${r.map((cell, c) => cell.padEnd(widths[c]!)).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}
