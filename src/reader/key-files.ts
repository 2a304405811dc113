import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { dirname, join } from 'node:path';
import { JpkiError } from '../common/errors.js';
import { FABRICATION_SECRET_LENGTH, ISSUER_MASTER_KEY_LENGTH } from '../card/index.js';

/**
 * The per-installation secret of the card world kept in the data directory, 32 random bytes as hex in a
 * mode-0600 file, made on first need:
 * - `card-fabrication.key`: stands in for a card's tamper-resistant silicon. Every card image made by this
 *   installation has its storage keys derived from it; without it an image cannot be opened.
 *
 * The issuer's master key is no longer one of them: it lives in the key store (compose/card-issuer.ts).
 * `card-issuer-master.key` is the file where installations made before kept it; it is imported into the key
 * store on first use and deleted. `issuerMasterKey` remains for the card's own tests and tools.
 */
export const ISSUER_MASTER_KEY_FILE = 'card-issuer-master.key';
export const CARD_FABRICATION_SECRET_FILE = 'card-fabrication.key';

export interface KeyFileOptions {
  /** Make the file (and the data directory) if it does not exist yet. */
  create: boolean;
}

export function issuerMasterKey(dataDir: string, options: KeyFileOptions): Buffer {
  return secretFile(join(dataDir, ISSUER_MASTER_KEY_FILE), ISSUER_MASTER_KEY_LENGTH, 'issuer master key', options);
}

export function cardFabricationSecret(dataDir: string, options: KeyFileOptions): Buffer {
  return secretFile(join(dataDir, CARD_FABRICATION_SECRET_FILE), FABRICATION_SECRET_LENGTH, 'card fabrication secret', options);
}

function secretFile(path: string, length: number, what: string, options: KeyFileOptions): Buffer {
  const existing = readSecret(path, length, what);
  if (existing) return existing;
  if (!options.create) {
    throw new JpkiError('card.secret-missing', 'not-found', `no ${what} at ${path} (cards are tied to the data directory they were made in; check --data)`);
  }
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  try {
    writeFileSync(path, `${randomBytes(length).toString('hex')}\n`, { flag: 'wx', mode: 0o600 });
    chmodSync(path, 0o600); // the umask may have narrowed the mode, never widened it; make it exact
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') {
      throw new JpkiError('card.secret-write', 'unavailable', `cannot create the ${what} at ${path}: ${(e as Error).message}`, {}, { cause: e });
    }
    // another process made it first: use theirs
  }
  const made = readSecret(path, length, what);
  if (!made) throw new JpkiError('card.secret-write', 'unavailable', `the ${what} at ${path} vanished after creation`);
  return made;
}

function readSecret(path: string, length: number, what: string): Buffer | null {
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw new JpkiError('card.secret-read', 'unavailable', `cannot read the ${what} at ${path}: ${(e as Error).message}`, {}, { cause: e });
  }
  if (!new RegExp(`^[0-9a-fA-F]{${length * 2}}$`).test(text)) {
    throw new JpkiError('card.secret-malformed', 'malformed', `${path} does not hold the ${what} (${length} bytes as hex)`);
  }
  return Buffer.from(text, 'hex');
}
