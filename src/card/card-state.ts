import type { SealedBox } from './card-secrets.js';
import type { CertificateFile, KeyName, PinName } from './jpki-constants.js';

/**
 * The card's two kinds of state, kept apart as on a real card:
 * - persistent (EEPROM): survives power cycles and process restarts; lives in the card image;
 * - volatile (RAM): lost at every power-off, power-on and reset (card-protocol §5.1).
 */

export interface PinRecord {
  /** HMAC verifier (card-secrets.ts); null while the issuer has not set the PIN yet (blank card). */
  verifier: Buffer | null;
  triesLeft: number;
}

export interface KeyRecord {
  /** PKCS#8 DER of the RSA private key, AES-256-GCM sealed. Never leaves the card in any form. */
  sealedPrivateKey: SealedBox;
  /** SubjectPublicKeyInfo DER. */
  publicKey: Buffer;
}

export interface PersistentState {
  /** Token name of EF 0006. */
  token: string;
  /** Certificate EF contents; an empty buffer is an EF not written yet. */
  certificates: Record<CertificateFile, Buffer>;
  pins: Record<PinName, PinRecord>;
  keys: Record<KeyName, KeyRecord | null>;
  issuer: {
    /** This card's diversified issuer key (issuer-key.ts), sealed. */
    sealedKey: SealedBox;
    /** Wrong EXTERNAL AUTHENTICATE cryptograms left before the issuer interface locks for good. */
    triesLeft: number;
  };
}

export interface VolatileState {
  /** The JPKI AP is the current DF (otherwise the MF is). */
  applicationSelected: boolean;
  /** FID of the current EF under the JPKI AP, or null. */
  currentEf: number | null;
  /** PINs verified in this session. */
  verified: Record<PinName, boolean>;
  /** EXTERNAL AUTHENTICATE succeeded in this session. */
  issuerAuthenticated: boolean;
  /** The outstanding GET CHALLENGE value; used once. */
  challenge: Buffer | null;
  /** Bytes still waiting for GET RESPONSE after a `61 xx` answer. */
  pendingResponse: Buffer | null;
}

export function freshVolatileState(): VolatileState {
  return {
    applicationSelected: false,
    currentEf: null,
    verified: { auth: false, sign: false },
    issuerAuthenticated: false,
    challenge: null,
    pendingResponse: null,
  };
}
