import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { JpkiError } from '../common/errors.js';
import type { KmsConfig } from '../kms/index.js';
import type { InstallationConfig } from './data-dir.js';

/** The PKCS#11 user PIN: env JPKI_PKCS11_PIN, else the PIN file written at init (mode 0600). */
export function pkcs11Pin(dataDir: string): string {
  if (process.env.JPKI_PKCS11_PIN) return process.env.JPKI_PKCS11_PIN;
  const file = join(dataDir, 'keys', 'pkcs11.pin');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new JpkiError('PKCS11_PIN_MISSING', 'unauthenticated', 'the PKCS#11 token PIN is needed: set JPKI_PKCS11_PIN');
}

/** The key store of an installation, from its saved configuration. */
export function kmsConfigFor(dataDir: string, config: InstallationConfig): KmsConfig {
  if (config.kms.type === 'soft') return { type: 'soft', dir: join(dataDir, 'keys') };
  return { type: 'pkcs11', module: config.kms.module, token: config.kms.token, pin: pkcs11Pin(dataDir) };
}
