/**
 * The JPKI application's fixed numbers (card-protocol §1–§3; OpenSC's jpki.h plays the same role).
 */

/** 3B E0 00 FF 81 31 FE 45 14: T=1, IFSC 254, no historical bytes; the one ATR in OpenSC's jpki table (§2.1). */
export const OPENSC_TABLE_ATR = Buffer.from('3BE000FF8131FE4514', 'hex');

/**
 * The card's historical bytes (ISO 7816-4 §8.1.1): category 80 (compact-TLV), then card capabilities
 * (tag 7, three bytes): selection by full DF name, by file identifier and by short EF identifier (94); data
 * coding 01; extended Lc and Le fields, and extended-length information in EF.ATR/INFO (60) — no command
 * chaining, no logical channels.
 */
export const HISTORICAL_BYTES = Buffer.from('807394 0160'.replace(/\s/g, ''), 'hex');

/** TS T0 TB1 TC1 TD1 TD2 TA3 TB3 as in OpenSC's table, K = 5 historical bytes, and the TCK (XOR from T0). */
export const ATR = withTck(Buffer.concat([Buffer.from([0x3b, 0xe0 | HISTORICAL_BYTES.length, 0x00, 0xff, 0x81, 0x31, 0xfe, 0x45]), HISTORICAL_BYTES]));

function withTck(atr: Buffer): Buffer {
  let tck = 0;
  for (const b of atr.subarray(1)) tck ^= b;
  return Buffer.concat([atr, Buffer.of(tck)]);
}

/** EF.ATR/INFO under the MF (ISO 7816-4 §8.2.1.1): where extended-length support is described in full. */
export const EF_ATR_INFO = 0x2f01;
/** Largest command and response APDUs the card takes (extended length: 7 + 65535 + 2, and 65536 + SW). */
export const MAX_COMMAND_APDU = 65544;
export const MAX_RESPONSE_APDU = 65538;

/** 公的個人認証AP. */
export const JPKI_AID = Buffer.from('D392F000260100000001', 'hex');

/** The card's other applications (text, card face, 住基): out of scope, answered 6A 82 on purpose (§1.1). */
export const FOREIGN_AIDS = ['D3921000310001010408', 'D3921000310001010402', 'D3921000310001010100'].map((h) => Buffer.from(h, 'hex'));

/** Elementary files of the JPKI AP (§1.2). */
export const EF = {
  SIGN_CERT: 0x0001,
  SIGN_CA_CERT: 0x0002,
  TOKEN_INFO: 0x0006,
  CERT_PRESENCE: 0x0008,
  AUTH_CERT: 0x000a,
  AUTH_CA_CERT: 0x000b,
  AUTH_KEY: 0x0017,
  AUTH_PIN: 0x0018,
  SIGN_KEY: 0x001a,
  SIGN_PIN: 0x001b,
} as const;

/** The two key pairs and their PINs: 'auth' = 利用者証明用 (user authentication), 'sign' = 署名用 (signature). */
export type KeyName = 'auth' | 'sign';
export type PinName = KeyName;

export interface PinSpec {
  fid: number;
  maxTries: number;
  label: string;
}

export const PINS: Record<PinName, PinSpec> = {
  auth: { fid: EF.AUTH_PIN, maxTries: 3, label: 'User Authentication PIN (利用者証明用暗証番号)' },
  sign: { fid: EF.SIGN_PIN, maxTries: 5, label: 'Digital Signature PIN (署名用パスワード)' },
};

export interface KeySpec {
  fid: number;
  /** The PIN that must be verified in this session before the key signs. */
  pin: PinName;
  label: string;
}

export const KEYS: Record<KeyName, KeySpec> = {
  auth: { fid: EF.AUTH_KEY, pin: 'auth', label: 'User Authentication Key' },
  sign: { fid: EF.SIGN_KEY, pin: 'sign', label: 'Digital Signature Key' },
};

/** The four certificate EFs: 'sign' and 'auth' are the resident's, '-ca' the CA certificates that issued them. */
export type CertificateFile = 'sign' | 'sign-ca' | 'auth' | 'auth-ca';

export interface CertificateSpec {
  fid: number;
  /** READ BINARY needs this PIN verified in the session (only the signing certificate, §5.6). */
  readPin: PinName | null;
  label: string;
}

export const CERTIFICATES: Record<CertificateFile, CertificateSpec> = {
  sign: { fid: EF.SIGN_CERT, readPin: 'sign', label: 'Digital Signature Certificate (署名用電子証明書)' },
  'sign-ca': { fid: EF.SIGN_CA_CERT, readPin: null, label: 'Digital Signature Certificate CA' },
  auth: { fid: EF.AUTH_CERT, readPin: null, label: 'User Authentication Certificate (利用者証明用電子証明書)' },
  'auth-ca': { fid: EF.AUTH_CA_CERT, readPin: null, label: 'User Authentication Certificate CA' },
};

export const CERTIFICATE_FILES = Object.keys(CERTIFICATES) as CertificateFile[];

/** Room in each certificate EF. An RSA-2048 JPKI certificate is 1–2 KB; 4 KB leaves space for long names. */
export const CERTIFICATE_CAPACITY = 4096;

/** EF 0006: 160 bytes, the first 32 a space-padded ASCII token name. */
export const TOKEN_INFO_SIZE = 160;
export const TOKEN_NAME_SIZE = 32;
/** My Number card; 住基カード = 'JPKIAPICCTOKEN'. */
export const DEFAULT_TOKEN = 'JPKIAPICCTOKEN2';

/** COMPUTE DIGITAL SIGNATURE input: at most k − 11 bytes for PKCS#1 v1.5 with a 2048-bit modulus. */
export const SIGN_INPUT_MAX = 245;
export const RSA_MODULUS_BITS = 2048;

/** Issuer (counter) interface: see docs/card.md. */
export const ISSUER_KEY_REFERENCE = 0x01;
export const ISSUER_MAX_TRIES = 10;
export const ISSUER_CRYPTOGRAM_LENGTH = 16;
export const CHALLENGE_LENGTHS = [8, 16] as const;

/** GET DATA (CLA 80, INS CA) tags in P1-P2. */
export const DATA_TAG = {
  CARD_ID: 0x0101,
  CARD_STATE: 0x0102,
} as const;

/** The card ID: 16 upper-case hex digits (8 random bytes), set when the card is made. */
export const CARD_ID_PATTERN = /^[0-9A-F]{16}$/;
