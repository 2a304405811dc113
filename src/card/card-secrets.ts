import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes, timingSafeEqual } from 'node:crypto';
import { JpkiError } from '../common/errors.js';
import type { PinName } from './jpki-constants.js';

/**
 * The keys a software card keeps its secrets under. A real card relies on tamper-resistant silicon; ours on a
 * per-installation "card fabrication secret" (32 random bytes, `<data>/card-fabrication.key`) from which each
 * card's keys are derived:
 *
 *   storageKey   = HKDF-SHA256(secret, salt = "", info = "jpki card storage" || cardId, 32)
 *   sealing key  = storageKey                                   AES-256-GCM for private keys and the issuer key
 *   imageMacKey  = HKDF-SHA256(storageKey, "", "jpki card image mac", 32)      HMAC over the whole image
 *   pinKey       = HKDF-SHA256(storageKey, "", "jpki card pin verifier", 32)   PIN verifiers
 *
 * PIN verifier = HMAC-SHA256(pinKey, pinName || 0x00 || PIN). A keyed MAC rather than scrypt: a 4-digit PIN
 * falls to any offline search once the key is known, whatever the hash, and without the key no search is
 * possible; meanwhile OpenSC verifies the signing PIN twice per signature, which a memory-hard hash would
 * make slow. The lock after 3 / 5 tries is what protects the PIN, as on a real card.
 */
export const FABRICATION_SECRET_LENGTH = 32;

export interface SealedBox {
  iv: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
}

export class CardSecrets {
  private readonly storageKey: Buffer;
  readonly imageMacKey: Buffer;
  private readonly pinKey: Buffer;

  constructor(
    fabricationSecret: Uint8Array,
    readonly cardId: string,
  ) {
    if (fabricationSecret.length !== FABRICATION_SECRET_LENGTH) {
      throw new JpkiError('card.fabrication-secret', 'malformed', `the card fabrication secret must be ${FABRICATION_SECRET_LENGTH} bytes, got ${fabricationSecret.length}`);
    }
    this.storageKey = hkdf(fabricationSecret, Buffer.concat([Buffer.from('jpki card storage'), Buffer.from(cardId)]));
    this.imageMacKey = hkdf(this.storageKey, Buffer.from('jpki card image mac'));
    this.pinKey = hkdf(this.storageKey, Buffer.from('jpki card pin verifier'));
  }

  /** AES-256-GCM; `label` (e.g. "key:sign") is bound as associated data so sealed boxes cannot be swapped. */
  seal(label: string, plaintext: Uint8Array): SealedBox {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.storageKey, iv);
    cipher.setAAD(this.aad(label));
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return { iv, ciphertext, tag: cipher.getAuthTag() };
  }

  unseal(label: string, box: SealedBox): Buffer {
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.storageKey, box.iv);
      decipher.setAAD(this.aad(label));
      decipher.setAuthTag(box.tag);
      return Buffer.concat([decipher.update(box.ciphertext), decipher.final()]);
    } catch (e) {
      throw new JpkiError('card.image-tampered', 'conflict', `card ${this.cardId}: sealed ${label} does not open (wrong fabrication secret or a tampered image)`, {}, { cause: e });
    }
  }

  pinVerifier(pin: PinName, value: string): Buffer {
    return createHmac('sha256', this.pinKey).update(pin).update(Buffer.of(0)).update(value, 'latin1').digest();
  }

  pinMatches(pin: PinName, value: string, verifier: Buffer): boolean {
    const candidate = this.pinVerifier(pin, value);
    return candidate.length === verifier.length && timingSafeEqual(candidate, verifier);
  }

  private aad(label: string): Buffer {
    return Buffer.from(`jpki card ${this.cardId} ${label}`);
  }
}

function hkdf(ikm: Uint8Array, info: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', ikm, Buffer.alloc(0), info, 32));
}
