import { existsSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { cardIssuerOf, issuerSecretOf, type CardIssuer } from '../card/index.js';
import { JpkiError } from '../common/errors.js';
import { hasSecretKeys, isKmsError, openKeyManager, type KeyManager } from '../kms/index.js';
import { ISSUER_MASTER_KEY_FILE } from '../reader/index.js';
import { readConfig } from './data-dir.js';
import { kmsConfigFor } from './kms-config.js';

/** The label of the card issuer's secret in the key store. */
export const CARD_ISSUER_LABEL = 'card-issuer';

/**
 * The card issuer (it authenticates to every card) with its master secret in the key store, like the CA
 * keys: sealed at rest in the software store, a non-extractable secret on a PKCS#11 token. Only a card's own
 * diversified key (when a card is made) and challenge answers ever come out (src/card/issuer-key.ts).
 *
 * The secret is found, or made, on first use. An installation made before the secret moved into the key
 * store kept the master key as a hex file in the data directory: it is imported once and the file deleted,
 * so every card made before keeps working.
 */
export function kmsCardIssuer(keys: KeyManager, dataDir: string): CardIssuer {
  let uri: Promise<string> | undefined;
  const resolve = (): Promise<string> => {
    uri ??= locate(keys, dataDir);
    uri.catch(() => (uri = undefined));
    return uri;
  };
  return cardIssuerOf(async (data) => {
    if (!hasSecretKeys(keys)) throw new JpkiError('CARD_ISSUER_UNAVAILABLE', 'unavailable', 'this key store cannot hold the card issuer secret');
    return keys.hmacSha256(await resolve(), data);
  });
}

async function locate(keys: KeyManager, dataDir: string): Promise<string> {
  if (!hasSecretKeys(keys)) throw new JpkiError('CARD_ISSUER_UNAVAILABLE', 'unavailable', 'this key store cannot hold the card issuer secret');
  const found = await keys.findSecret(CARD_ISSUER_LABEL);
  if (found) return found;
  const legacy = join(dataDir, ISSUER_MASTER_KEY_FILE);
  const master = existsSync(legacy) ? readLegacy(legacy) : undefined;
  try {
    const uri = await keys.createSecret(CARD_ISSUER_LABEL, master ? issuerSecretOf(master) : undefined);
    if (master) unlinkSync(legacy);
    return uri;
  } catch (e) {
    // another process made it at the same moment: use theirs
    if (isKmsError(e, 'KMS_KEY_EXISTS')) return (await keys.findSecret(CARD_ISSUER_LABEL))!;
    throw e;
  } finally {
    master?.fill(0);
  }
}

function readLegacy(path: string): Buffer {
  const text = readFileSync(path, 'utf8').trim();
  if (!/^[0-9a-fA-F]{64}$/.test(text)) throw new JpkiError('card.secret-malformed', 'malformed', `${path} does not hold the issuer master key (32 bytes as hex)`);
  return Buffer.from(text, 'hex');
}

/**
 * Runs `fn` with the card issuer of the installation in `dataDir` (its saved key store), for commands that
 * need nothing else (`jpki card new`).
 */
export async function withCardIssuer<T>(dataDir: string, fn: (issuer: CardIssuer) => Promise<T>): Promise<T> {
  const config = readConfig(dataDir) ?? { kms: { type: 'soft' as const } };
  const keys = await openKeyManager(kmsConfigFor(dataDir, config));
  try {
    return await fn(kmsCardIssuer(keys, dataDir));
  } finally {
    await keys.close().catch(() => undefined);
  }
}
