import { JpkiError } from '../common/errors.js';
import {
  CERTIFICATES,
  CERTIFICATE_CAPACITY,
  DATA_TAG,
  EF,
  ISSUER_KEY_REFERENCE,
  JPKI_AID,
  KEYS,
  PINS,
  SIGN_INPUT_MAX,
  TOKEN_NAME_SIZE,
  SW,
  cardIssuerFromMasterKey,
  encodeCommandApdu,
  isWellFormedPin,
  issuerCryptogram,
  parseResponseApdu,
  pinFormatRule,
  type CardIssuer,
  type CertificateFile,
  type CommandFields,
  type KeyName,
  type PinName,
  type ResponseApdu,
} from '../card/index.js';
import { CardStatusError, PinFormatError, statusError, type CommandTopic } from './card-status.js';
import type { Reader } from './reader.js';

export interface PinStatus {
  triesLeft: number;
  maxTries: number;
  blocked: boolean;
}

export interface CardState {
  keys: Record<KeyName, boolean>;
  pinsSet: Record<PinName, boolean>;
  triesLeft: Record<PinName, number>;
  issuerTriesLeft: number;
  issuerLocked: boolean;
}

const CHUNK = 256;
const WRITE_CHUNK = 255;

/**
 * The host side of the JPKI application over any Reader: what the counter's key-pair generation device and
 * the user client software call. Each method is one step of card-protocol §6 (or of the issuer interface,
 * docs/card.md) and throws the domain errors of card-status.ts on any status word but 90 00.
 *
 * Methods do not select the AP themselves (except `authenticateIssuer`, which starts a fresh session), since
 * selecting it logs out: call `selectAp()` once at the start of a session.
 */
export class JpkiClient {
  constructor(readonly reader: Reader) {}

  // ---- the public JPKI interface ----------------------------------------------------------------------

  /** SELECT the JPKI AP. Also drops every verified PIN and the issuer session (logout). */
  async selectAp(): Promise<void> {
    await this.call({ cla: 0x00, ins: 0xa4, p1: 0x04, p2: 0x0c, data: JPKI_AID }, { kind: 'file', what: 'JPKI application' });
  }

  /** EF 0006's token name, e.g. JPKIAPICCTOKEN2 (My Number card). */
  async readTokenInfo(): Promise<string> {
    await this.selectEf(EF.TOKEN_INFO, 'token information');
    const data = await this.readBinary(0, TOKEN_NAME_SIZE, 'token information');
    return data.toString('latin1').replace(/[ \0]+$/, '');
  }

  /**
   * A certificate's DER, or null if the card has none in that EF. The signing certificate needs the signing
   * PIN verified first (SecurityStatusNotSatisfiedError otherwise). Reads a 7-byte header, then the rest in
   * 256-byte chunks, never past the DER object (the EF may hold filler after it).
   */
  async readCertificate(file: CertificateFile): Promise<Buffer | null> {
    const what = CERTIFICATES[file].label;
    try {
      await this.selectEf(CERTIFICATES[file].fid, what);
    } catch (e) {
      if (e instanceof JpkiError && e.kind === 'not-found') return null;
      throw e;
    }
    const first = await this.exchange({ cla: 0x00, ins: 0xb0, p1: 0, p2: 0, le: 7 });
    if (first.sw === SW.OFFSET_OUT_OF_RANGE) return null; // an EF the issuer has not written (issuer session)
    throwOnError(first.sw, { kind: 'file', what });
    const total = derObjectLength(first.data, what);
    const parts = [first.data.subarray(0, Math.min(first.data.length, total))];
    let offset = parts[0]!.length;
    while (offset < total) {
      const chunk = await this.readBinary(offset, Math.min(CHUNK, total - offset), what);
      if (!chunk.length) break;
      parts.push(chunk);
      offset += chunk.length;
    }
    if (offset < total) throw new JpkiError('card.certificate-truncated', 'internal', `${what}: the EF ends after ${offset} of ${total} bytes`);
    return Buffer.concat(parts);
  }

  /** Tries left on a PIN (empty VERIFY; spends none). */
  async pinStatus(pin: PinName): Promise<PinStatus> {
    await this.selectEf(PINS[pin].fid, PINS[pin].label);
    const r = await this.exchange({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80 });
    if ((r.sw & 0xfff0) !== SW.TRIES_LEFT) {
      // 90 00 is the ISO answer of a card whose PIN is verified; a JPKI card always reports the count.
      throw statusError(r.sw, { kind: 'pin', pin }) ?? new CardStatusError(r.sw, 'status', 'internal', `${PINS[pin].label}: the card did not report the tries left`);
    }
    const triesLeft = r.sw & 0x0f;
    return { triesLeft, maxTries: PINS[pin].maxTries, blocked: triesLeft === 0 };
  }

  /**
   * VERIFY. The signing password is upper-cased first (clients do, card-protocol §1.3); a value of the wrong
   * format is refused here without reaching the card. Throws PinIncorrectError {triesLeft}, PinBlockedError,
   * PinNotSetError.
   */
  async verifyPin(pin: PinName, value: string): Promise<void> {
    const normalised = this.checkedPin(pin, value);
    await this.selectEf(PINS[pin].fid, PINS[pin].label);
    await this.call({ cla: 0x00, ins: 0x20, p1: 0x00, p2: 0x80, data: Buffer.from(normalised, 'latin1') }, { kind: 'pin', pin });
  }

  /** VERIFY the current value, then CHANGE REFERENCE DATA to the new one (as the user client software does). */
  async changePin(pin: PinName, currentValue: string, newValue: string): Promise<void> {
    const next = this.checkedPin(pin, newValue);
    await this.verifyPin(pin, currentValue);
    await this.call({ cla: 0x00, ins: 0x24, p1: 0x01, p2: 0x80, data: Buffer.from(next, 'latin1') }, { kind: 'pin', pin });
  }

  /**
   * COMPUTE DIGITAL SIGNATURE: PKCS#1 v1.5 over `digestInfo` (see digest-info.ts) with the card's key. Its PIN
   * must be verified in this session. Returns the 256-byte signature.
   */
  async sign(key: KeyName, digestInfo: Uint8Array): Promise<Buffer> {
    if (digestInfo.length === 0 || digestInfo.length > SIGN_INPUT_MAX) {
      throw new JpkiError('card.sign-input', 'malformed', `the data to sign must be 1–${SIGN_INPUT_MAX} bytes (a DigestInfo), got ${digestInfo.length}`);
    }
    await this.selectEf(KEYS[key].fid, KEYS[key].label);
    return this.call({ cla: 0x80, ins: 0x2a, p1: 0x00, p2: 0x80, data: digestInfo, le: 256 }, { kind: 'key', key });
  }

  // ---- identity, readable by anyone -------------------------------------------------------------------

  /** The card ID (16 hex digits) from which the issuer's per-card key is derived. */
  async readCardId(): Promise<string> {
    const data = await this.call({ cla: 0x80, ins: 0xca, p1: DATA_TAG.CARD_ID >> 8, p2: DATA_TAG.CARD_ID & 0xff, le: 256 }, { kind: 'other', what: 'card ID' });
    return data.toString('hex').toUpperCase();
  }

  async readCardState(): Promise<CardState> {
    const d = await this.call({ cla: 0x80, ins: 0xca, p1: DATA_TAG.CARD_STATE >> 8, p2: DATA_TAG.CARD_STATE & 0xff, le: 256 }, { kind: 'other', what: 'card state' });
    if (d.length < 4) throw new JpkiError('card.state-malformed', 'internal', `card state of ${d.length} bytes`);
    const flags = d[0]!;
    return {
      keys: { auth: (flags & 0x01) !== 0, sign: (flags & 0x02) !== 0 },
      pinsSet: { auth: (flags & 0x04) !== 0, sign: (flags & 0x08) !== 0 },
      triesLeft: { auth: d[1]!, sign: d[2]! },
      issuerTriesLeft: d[3]!,
      issuerLocked: (flags & 0x10) !== 0,
    };
  }

  // ---- the issuer interface (counter only) ------------------------------------------------------------

  /**
   * Selects the AP (a fresh session) and authenticates as issuer: the card issuer (the key store's, or raw
   * master-key bytes in the card's own tests) answers the card's challenge. Throws
   * IssuerAuthenticationFailedError {triesLeft} or IssuerLockedError.
   */
  async authenticateIssuer(issuer: CardIssuer | Uint8Array): Promise<void> {
    const cardId = await this.readCardId();
    const answer = issuer instanceof Uint8Array ? cardIssuerFromMasterKey(issuer) : issuer;
    await this.selectAp();
    const challenge = await this.call({ cla: 0x00, ins: 0x84, p1: 0, p2: 0, le: 16 }, { kind: 'issuer-authentication' });
    const cryptogram = await answer.cryptogram(cardId, challenge);
    await this.call({ cla: 0x00, ins: 0x82, p1: 0x00, p2: ISSUER_KEY_REFERENCE, data: cryptogram }, { kind: 'issuer-authentication' });
  }

  /** The same with the already diversified card key (when the master key stays in a KMS). */
  async authenticateIssuerWithCardKey(cardIssuerKey: Uint8Array, cardId?: string): Promise<void> {
    const id = cardId ?? (await this.readCardId());
    await this.selectAp();
    const challenge = await this.call({ cla: 0x00, ins: 0x84, p1: 0, p2: 0, le: 16 }, { kind: 'issuer-authentication' });
    const cryptogram = issuerCryptogram(cardIssuerKey, id, challenge);
    await this.call({ cla: 0x00, ins: 0x82, p1: 0x00, p2: ISSUER_KEY_REFERENCE, data: cryptogram }, { kind: 'issuer-authentication' });
  }

  /** A new RSA-2048 key pair on the card; returns its public key (SubjectPublicKeyInfo DER). */
  async generateKeyPair(key: KeyName): Promise<Buffer> {
    await this.selectEf(KEYS[key].fid, KEYS[key].label);
    return this.call({ cla: 0x80, ins: 0x47, p1: 0x00, p2: 0x80, le: 256 }, { kind: 'key', key });
  }

  /** The public key of the pair on the card (SubjectPublicKeyInfo DER). Issuer session. */
  async readPublicKey(key: KeyName): Promise<Buffer> {
    await this.selectEf(KEYS[key].fid, KEYS[key].label);
    return this.call({ cla: 0x80, ins: 0x47, p1: 0x01, p2: 0x80, le: 256 }, { kind: 'key', key });
  }

  /**
   * Writes a certificate EF: ERASE, then 255-byte UPDATE BINARY chunks. The DER must start 30 82 LL LL (OpenSC
   * reads exactly that header, card-protocol §3.2) and be complete.
   */
  async writeCertificate(file: CertificateFile, der: Uint8Array): Promise<void> {
    const what = CERTIFICATES[file].label;
    const bytes = Buffer.from(der);
    if (bytes.length < 4 || bytes[0] !== 0x30 || bytes[1] !== 0x82 || bytes.readUInt16BE(2) + 4 !== bytes.length) {
      throw new JpkiError('card.certificate-form', 'malformed', `${what}: a certificate must be one DER SEQUENCE with a two-byte length (30 82 LL LL), ${bytes.length} bytes in all`);
    }
    if (bytes.length > CERTIFICATE_CAPACITY) throw new JpkiError('card.certificate-size', 'malformed', `${what}: ${bytes.length} bytes exceed the EF's ${CERTIFICATE_CAPACITY}`);
    await this.selectEf(CERTIFICATES[file].fid, what);
    await this.call({ cla: 0x80, ins: 0x0e, p1: 0, p2: 0 }, { kind: 'file', what });
    for (let offset = 0; offset < bytes.length; offset += WRITE_CHUNK) {
      const data = bytes.subarray(offset, offset + WRITE_CHUNK);
      await this.call({ cla: 0x80, ins: 0xd6, p1: offset >> 8, p2: offset & 0xff, data }, { kind: 'file', what });
    }
  }

  /** Empties a certificate EF (after which the public sees no such certificate). */
  async eraseCertificate(file: CertificateFile): Promise<void> {
    const what = CERTIFICATES[file].label;
    await this.selectEf(CERTIFICATES[file].fid, what);
    await this.call({ cla: 0x80, ins: 0x0e, p1: 0, p2: 0 }, { kind: 'file', what });
  }

  /** Personalisation: both PINs with full counters. */
  async setInitialPins(pins: { auth: string; sign: string }): Promise<void> {
    await this.resetPin('auth', pins.auth);
    await this.resetPin('sign', pins.sign);
  }

  /** Initialisation of a forgotten PIN: a new value and a full counter (also releases a lock). */
  async resetPin(pin: PinName, newValue: string): Promise<void> {
    const value = this.checkedPin(pin, newValue);
    await this.selectEf(PINS[pin].fid, PINS[pin].label);
    await this.call({ cla: 0x80, ins: 0x2c, p1: 0x02, p2: 0x80, data: Buffer.from(value, 'latin1') }, { kind: 'pin', pin });
  }

  /** Lock release: a full counter, keeping the PIN, or with a new PIN when given. */
  async unlockPin(pin: PinName, newValue?: string): Promise<void> {
    if (newValue !== undefined) return this.resetPin(pin, newValue);
    await this.selectEf(PINS[pin].fid, PINS[pin].label);
    await this.call({ cla: 0x80, ins: 0x2c, p1: 0x03, p2: 0x80 }, { kind: 'pin', pin });
  }

  // ---- plumbing -----------------------------------------------------------------------------------------

  /** One command, with the transport rules of ISO 7816-4: `6C xx` → resend with Le = xx; `61 xx` → GET RESPONSE. */
  async exchange(command: CommandFields): Promise<ResponseApdu> {
    let r = parseResponseApdu(await this.reader.transmit(encodeCommandApdu(command)));
    if ((r.sw & 0xff00) === SW.WRONG_LE) r = parseResponseApdu(await this.reader.transmit(encodeCommandApdu({ ...command, le: r.sw & 0xff || 256 })));
    const parts = [r.data];
    while ((r.sw & 0xff00) === SW.BYTES_REMAINING) {
      r = parseResponseApdu(await this.reader.transmit(encodeCommandApdu({ cla: 0x00, ins: 0xc0, p1: 0, p2: 0, le: r.sw & 0xff || 256 })));
      parts.push(r.data);
    }
    return { data: Buffer.concat(parts), sw: r.sw };
  }

  private async call(command: CommandFields, topic: CommandTopic): Promise<Buffer> {
    const r = await this.exchange(command);
    throwOnError(r.sw, topic);
    return r.data;
  }

  private async selectEf(fid: number, what: string): Promise<void> {
    await this.call({ cla: 0x00, ins: 0xa4, p1: 0x02, p2: 0x0c, data: Buffer.of(fid >> 8, fid & 0xff) }, { kind: 'file', what });
  }

  private async readBinary(offset: number, length: number, what: string): Promise<Buffer> {
    return this.call({ cla: 0x00, ins: 0xb0, p1: offset >> 8, p2: offset & 0xff, le: length }, { kind: 'file', what });
  }

  private checkedPin(pin: PinName, value: string): string {
    const normalised = pin === 'sign' ? value.toUpperCase() : value;
    if (!isWellFormedPin(pin, normalised)) throw new PinFormatError(0, pin, pinFormatRule(pin));
    return normalised;
  }
}

function throwOnError(sw: number, topic: CommandTopic): void {
  const error = statusError(sw, topic, topic.kind === 'pin' ? pinFormatRule(topic.pin) : undefined);
  if (error) throw error;
}

/** Total size of the DER object whose header starts `header` (tag, then short or long-form length). */
export function derObjectLength(header: Uint8Array, what = 'object'): number {
  const bad = () => new JpkiError('card.certificate-malformed', 'internal', `${what}: the EF does not start with a DER object`);
  if (header.length < 2 || header[0] !== 0x30) throw bad();
  const first = header[1]!;
  if (first < 0x80) return 2 + first;
  const n = first & 0x7f;
  if (n === 0 || n > 3 || header.length < 2 + n) throw bad();
  let length = 0;
  for (let i = 0; i < n; i++) length = length * 256 + header[2 + i]!;
  return 2 + n + length;
}
