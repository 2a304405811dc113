/**
 * One issuing process of the issuance benchmark (bench/issuance.ts): opens the installation given on the
 * command line, prepares CSRs, prints `ready`, waits for a line on stdin, issues with N in flight for the
 * given seconds, and prints `{"issued":…,"seconds":…}`.
 *
 *   node bin/run-ts.js bench/issuance-child.ts DATA_DIR DATABASE_URL SECONDS IN_FLIGHT
 */
import 'reflect-metadata';
import { createInterface } from 'node:readline';
import { openServices } from '../src/compose/services.js';
import { FACTS, makeCsrs } from './issuance-support.js';

const [dataDir, databaseUrl, secondsText, inFlightText] = process.argv.slice(2) as [string, string, string, string];
const s = await openServices({ dataDir, databaseUrl, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
const csrs = await makeCsrs(64);
let i = 0;
const issueOne = () => s.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: csrs[i++ % csrs.length]! }, facts: FACTS, municipality: '13103', actor: 'bench' });
// warm up as the in-process figures are (bench/issuance.ts): with the same issuances in flight, so that the
// JIT has optimised the hot path and the pool has opened its connections (a new PostgreSQL backend compiles
// the ledger function and fills its caches on first use) before the measurement, not during it
const inFlight = Number(inFlightText);
const warmEnd = performance.now() + Math.max(2, Number(secondsText) / 2) * 1000;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (performance.now() < warmEnd) await issueOne();
  }),
);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => {
  const lines = createInterface({ input: process.stdin });
  lines.once('line', () => (lines.close(), resolve()));
});
let issued = 0;
const t0 = performance.now();
const end = t0 + Number(secondsText) * 1000;
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (performance.now() < end) {
      await issueOne();
      issued++;
    }
  }),
);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ issued, seconds })}\n`);
await s.close();
