/**
 * One measured CRL job in its own process, so its peak memory (getrusage maxRSS) is its own:
 *
 *   node bin/run-ts.js bench/crl-child.ts encode N CA_CERT_PEM CA_KEY_PEM OUT_DER
 *   node bin/run-ts.js bench/crl-child.ts scan CRL_DER
 *   node bin/run-ts.js bench/crl-child.ts pipeline DATA_DIR DATABASE_URL CA_ID
 *
 * `pipeline` is the service's own path: CrlPublisher.generate streams the CA's revoked entries out of the
 * store, encodes them and signs with the CA key from the key store, then stores the CRL.
 *
 * Prints one JSON line. `encode` builds the same N entries bench/crl.ts writes into OpenSSL's index.txt
 * (benchEntry), so both CRLs hold the same serials, dates and reasons.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createPrivateKey, createPublicKey, sign } from 'node:crypto';
import { resolve } from 'node:path';
import { encodeCrl, type CrlEntryInput } from '../src/pki/crl-encoder.js';
import { scanCrl, findRevoked, verifyCrlSignature } from '../src/pki/crl-scanner.js';
import { authorityKeyIdentifier, crlNumber, keyIdentifierOf } from '../src/pki/extensions.js';
import { readSingle, childList, bytesOf } from '../src/pki/der.js';
import type { Signer } from '../src/pki/signer.js';

/** thisUpdate / nextUpdate of the benchmark CRLs (OpenSSL gets the same through -crl_lastupdate/-crl_nextupdate). */
export const THIS_UPDATE = new Date('2026-06-01T00:00:00Z');
export const NEXT_UPDATE = new Date('2026-06-02T00:00:00Z');
const FIRST_REVOCATION = Date.UTC(2025, 0, 1);
/** reasonCode cycle; undefined = no reason (OpenSSL writes an explicit "unspecified" for reason 0, we do not). */
const REASONS = [undefined, 1, 3, 4, 5, 6] as const;
export const REASON_NAMES: Record<number, string> = { 1: 'keyCompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation', 6: 'certificateHold' };

/** Entry i: ascending 64-bit serials (OpenSSL sorts by serial, so both CRLs list them in the same order). */
export function benchEntry(i: number): { serialHex: string; revocationDate: Date; reason: number | undefined } {
  return {
    serialHex: (0x1000_0000_0000_0000n + BigInt(i) * 7919n).toString(16).toUpperCase(),
    revocationDate: new Date(FIRST_REVOCATION + i * 1000),
    reason: REASONS[i % REASONS.length],
  };
}

const fromPem = (pem: string) => Buffer.from(pem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');

function* entries(n: number): Generator<CrlEntryInput> {
  for (let i = 0; i < n; i++) {
    const e = benchEntry(i);
    yield e.reason === undefined ? { serial: e.serialHex, revocationDate: e.revocationDate } : { serial: e.serialHex, revocationDate: e.revocationDate, reason: e.reason };
  }
}

async function encode(n: number, certPath: string, keyPath: string, out: string): Promise<object> {
  const cert = fromPem(readFileSync(certPath, 'utf8'));
  const tbs = childList(cert, readSingle(cert))[0]!;
  const fields = childList(cert, tbs);
  const subject = bytesOf(cert, fields[(fields[0]!.tag === 0xa0 ? 1 : 0) + 4]!);
  const privateKey = createPrivateKey(readFileSync(keyPath, 'utf8'));
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const signer: Signer = { algorithm: 'RSA-SHA256', publicKey: spki, sign: async (d) => sign('sha256', d, privateKey) };
  const t0 = performance.now();
  const der = await encodeCrl({
    issuer: subject,
    signer,
    thisUpdate: THIS_UPDATE,
    nextUpdate: NEXT_UPDATE,
    extensions: [authorityKeyIdentifier(keyIdentifierOf(spki)), crlNumber(1n)],
    entries: entries(n),
  });
  const ms = performance.now() - t0;
  writeFileSync(out, der);
  return { ms, bytes: der.length };
}

function scan(path: string): object {
  const der = readFileSync(path);
  const t0 = performance.now();
  const info = scanCrl(der);
  const scanMs = performance.now() - t0;
  let count = 0;
  for (const e of info.entries()) if (e.revocationDate) count++;
  const entriesMs = performance.now() - t0 - scanMs;
  const t1 = performance.now();
  const last = benchEntry(info.entryCount - 1).serialHex;
  const found = findRevoked(info, last) !== undefined;
  const findMs = performance.now() - t1;
  return { scanMs, entriesMs, findMs, count, found, entryCount: info.entryCount };
}

/** Resets the kernel's peak-RSS mark (VmHWM) to the current RSS; false where that is not possible. */
function resetPeakRss(): boolean {
  try {
    writeFileSync('/proc/self/clear_refs', '5');
    return true;
  } catch {
    return false;
  }
}

function peakRssKiB(): number {
  return Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? NaN);
}

async function pipeline(dataDir: string, databaseUrl: string, caId: string): Promise<object> {
  // loaded here, so the other modes' memory baseline stays what it was
  const { openServices } = await import('../src/compose/services.js');
  const s = await openServices({ dataDir, databaseUrl, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
  try {
    await s.ca.signerFor(await s.ca.get(caId)); // the key store's scrypt, paid before the clock starts
    // scrypt (N=2^17) briefly takes 128 MiB: reset the peak (Linux clear_refs) so that it is the CRL's
    // alone; the process's maxRSS is reported as well
    const resetPeak = resetPeakRss();
    const t0 = performance.now();
    const crl = await s.crls.generate(caId, { type: 'full' }, 'bench');
    const ms = performance.now() - t0;
    return { ms, entries: crl.entries, bytes: crl.der.length, ...(resetPeak ? { generationPeakRssKiB: peakRssKiB() } : {}) };
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  const [mode, ...args] = process.argv.slice(2);
  let result: object;
  if (mode === 'encode') result = await encode(Number(args[0]), args[1]!, args[2]!, args[3]!);
  else if (mode === 'scan') result = scan(args[0]!);
  else if (mode === 'verify') {
    const der = readFileSync(args[0]!);
    const key = createPublicKey(readFileSync(args[1]!, 'utf8'));
    const t0 = performance.now();
    result = { ok: verifyCrlSignature(der, key), ms: performance.now() - t0 };
  } else if (mode === 'pipeline') result = await pipeline(args[0]!, args[1]!, args[2]!);
  else if (mode === 'idle') result = {};
  else throw new Error(`unknown mode ${mode}`);
  process.stdout.write(JSON.stringify({ ...result, maxRssKiB: process.resourceUsage().maxRSS }) + '\n');
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await main();
