import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';

/**
 * Tests that need a system part (PostgreSQL, SoftHSM2, pcscd + vpcd + OpenSC, Chromium) call `needs()`.
 * Outside CI a missing part skips the test with the reason; under CI=true a missing part is a failure,
 * so a green CI run means everything really ran.
 */
export const inCi = process.env.CI === 'true' || process.env.CI === '1';

export function needs(part: string, available: boolean): boolean {
  if (available) return true;
  if (inCi) throw new Error(`${part} is required under CI=true but is not available on this machine`);
  console.warn(`skipping: ${part} is not available (install it, or see .ci/run)`);
  return false;
}

export function commandExists(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function fileExists(path: string): boolean {
  return existsSync(path);
}

export const SOFTHSM_MODULE = '/usr/lib/softhsm/libsofthsm2.so';
export const OPENSC_PKCS11_MODULE = '/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so';
export const CHROMIUM = '/usr/bin/chromium';
export const POSTGRES_URL = process.env.JPKI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** A TCP port free right now on 127.0.0.1 (for a server whose address must be known before it starts). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
