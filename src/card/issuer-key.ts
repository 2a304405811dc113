import { createHmac, hkdfSync } from 'node:crypto';
import { JpkiError } from '../common/errors.js';
import { CARD_ID_PATTERN, ISSUER_CRYPTOGRAM_LENGTH } from './jpki-constants.js';

/**
 * Key diversification for the issuer interface, as GlobalPlatform cards do it: the issuer (the counter's
 * key-pair generation device) holds one master key; each card holds only its own key, derived from the master
 * key and the card ID. A card that leaks its key compromises that card only.
 *
 *   cardIssuerKey = HKDF-SHA256(ikm = masterKey, salt = "", info = "jpki card issuer key" || cardId, 32 bytes)
 *   cryptogram    = HMAC-SHA256(cardIssuerKey, "jpki issuer authentication" || cardId || challenge)[0..16)
 *
 * cardId is the 16-hex-digit ASCII string. Both sides call these functions: the card (to check) and the
 * host (reader/jpki-client.ts, to answer).
 */
const ISSUER_KEY_INFO = 'jpki card issuer key';
const CRYPTOGRAM_LABEL = 'jpki issuer authentication';

export const ISSUER_MASTER_KEY_LENGTH = 32;

export function deriveCardIssuerKey(masterKey: Uint8Array, cardId: string): Buffer {
  if (masterKey.length !== ISSUER_MASTER_KEY_LENGTH) {
    throw new JpkiError('card.issuer-master-key', 'malformed', `the issuer master key must be ${ISSUER_MASTER_KEY_LENGTH} bytes, got ${masterKey.length}`);
  }
  assertCardId(cardId);
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), Buffer.concat([Buffer.from(ISSUER_KEY_INFO), Buffer.from(cardId)]), 32));
}

export function issuerCryptogram(cardIssuerKey: Uint8Array, cardId: string, challenge: Uint8Array): Buffer {
  return createHmac('sha256', cardIssuerKey)
    .update(CRYPTOGRAM_LABEL)
    .update(cardId)
    .update(challenge)
    .digest()
    .subarray(0, ISSUER_CRYPTOGRAM_LENGTH);
}

export function assertCardId(cardId: string): void {
  if (!CARD_ID_PATTERN.test(cardId)) throw new JpkiError('card.card-id', 'malformed', `a card ID is 16 upper-case hex digits, got ${JSON.stringify(cardId)}`);
}

/**
 * The card issuer as the counter and the card factory use it: the master key stays in the key store
 * (src/kms/, behind the composition root's `openCardIssuer`); only a card's own diversified key (for
 * fabrication) and the answer to a challenge come out.
 */
export interface CardIssuer {
  /** The diversified issuer key of one card, to write into a new card (fabrication only). */
  cardKey(cardId: string): Promise<Buffer>;
  /** The cryptogram answering a card's issuer-authentication challenge. */
  cryptogram(cardId: string, challenge: Uint8Array): Promise<Buffer>;
}

/**
 * HKDF with an empty salt is HMAC twice: PRK = HMAC(0³², masterKey), cardIssuerKey = HMAC(PRK, info ‖ cardId
 * ‖ 0x01) (RFC 5869, one output block). A key store that can only compute HMAC holds the PRK (the "issuer
 * secret") and derives exactly the keys `deriveCardIssuerKey` derives from the master key.
 */
export function issuerSecretOf(masterKey: Uint8Array): Buffer {
  if (masterKey.length !== ISSUER_MASTER_KEY_LENGTH) {
    throw new JpkiError('card.issuer-master-key', 'malformed', `the issuer master key must be ${ISSUER_MASTER_KEY_LENGTH} bytes, got ${masterKey.length}`);
  }
  return createHmac('sha256', Buffer.alloc(32)).update(masterKey).digest();
}

/** The HMAC input under the issuer secret that yields a card's issuer key. */
export function cardKeyInput(cardId: string): Buffer {
  assertCardId(cardId);
  return Buffer.concat([Buffer.from(ISSUER_KEY_INFO), Buffer.from(cardId), Buffer.of(1)]);
}

/** A CardIssuer over an HMAC under the issuer secret (the key store's, or a test's). */
export function cardIssuerOf(hmacUnderSecret: (data: Buffer) => Promise<Buffer>): CardIssuer {
  const cardKey = (cardId: string) => hmacUnderSecret(cardKeyInput(cardId));
  return {
    cardKey,
    async cryptogram(cardId, challenge) {
      const key = await cardKey(cardId);
      try {
        return issuerCryptogram(key, cardId, challenge);
      } finally {
        key.fill(0);
      }
    },
  };
}

/** A CardIssuer from raw master-key bytes: for the card's own tests and tools, never for the service. */
export function cardIssuerFromMasterKey(masterKey: Uint8Array): CardIssuer {
  const secret = issuerSecretOf(masterKey);
  return cardIssuerOf(async (data) => createHmac('sha256', secret).update(data).digest());
}
