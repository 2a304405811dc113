import type { CardMemory } from './card-memory.js';
import { CERTIFICATES, CERTIFICATE_FILES, EF, HISTORICAL_BYTES, KEYS, MAX_COMMAND_APDU, MAX_RESPONSE_APDU, PINS, TOKEN_INFO_SIZE, TOKEN_NAME_SIZE, type CertificateFile, type KeyName, type PinName } from './jpki-constants.js';

/** The EFs under the JPKI AP (card-protocol §1.2), by what they hold. */
export type ElementaryFile =
  | { kind: 'certificate'; fid: number; file: CertificateFile }
  | { kind: 'token-info'; fid: number }
  | { kind: 'certificate-presence'; fid: number }
  | { kind: 'pin'; fid: number; pin: PinName }
  | { kind: 'key'; fid: number; key: KeyName };

const FILES = new Map<number, ElementaryFile>([
  ...CERTIFICATE_FILES.map((file): [number, ElementaryFile] => [CERTIFICATES[file].fid, { kind: 'certificate', fid: CERTIFICATES[file].fid, file }]),
  [EF.TOKEN_INFO, { kind: 'token-info', fid: EF.TOKEN_INFO }],
  [EF.CERT_PRESENCE, { kind: 'certificate-presence', fid: EF.CERT_PRESENCE }],
  ...(['auth', 'sign'] as const).map((pin): [number, ElementaryFile] => [PINS[pin].fid, { kind: 'pin', fid: PINS[pin].fid, pin }]),
  ...(['auth', 'sign'] as const).map((key): [number, ElementaryFile] => [KEYS[key].fid, { kind: 'key', fid: KEYS[key].fid, key }]),
]);

export function findEf(fid: number): ElementaryFile | null {
  return FILES.get(fid) ?? null;
}

/**
 * Whether SELECT finds the EF. A certificate EF the issuer has not written yet answers 6A 82 to everyone
 * but the issuer, so middleware sees a card without that certificate (OpenSC then skips it) rather than a
 * broken one.
 */
export function isVisible(memory: CardMemory, ef: ElementaryFile, issuerAuthenticated: boolean): boolean {
  return ef.kind !== 'certificate' || issuerAuthenticated || memory.certificate(ef.file).length > 0;
}

/** The bytes of a transparent EF. */
export function transparentContent(memory: CardMemory, ef: ElementaryFile): Buffer | null {
  switch (ef.kind) {
    case 'certificate':
      return memory.certificate(ef.file);
    case 'token-info': {
      const out = Buffer.alloc(TOKEN_INFO_SIZE, 0);
      out.write(memory.token.padEnd(TOKEN_NAME_SIZE, ' ').slice(0, TOKEN_NAME_SIZE), 0, 'latin1');
      return out;
    }
    case 'certificate-presence':
      // 8F per certificate present (byte 0 signing, byte 1 user authentication); byte 2's meaning is unknown.
      return Buffer.of(memory.certificate('sign').length ? 0x8f : 0, memory.certificate('auth').length ? 0x8f : 0, 0);
    default:
      return null;
  }
}

/**
 * EF.ATR/INFO (2F01 under the MF, ISO 7816-4 §8.2.1.1), readable right after reset: the card capabilities
 * of the historical bytes again (tag 47) and the extended-length information (7F66: the largest command and
 * response APDUs, two INTEGERs).
 */
export function atrInfoContent(): Buffer {
  const integer = (n: number) => {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    if (bytes[0]! & 0x80) bytes.unshift(0);
    return Buffer.from([0x02, bytes.length, ...bytes]);
  };
  const capabilities = HISTORICAL_BYTES.subarray(2, 2 + (HISTORICAL_BYTES[1]! & 0x0f));
  const lengths = Buffer.concat([integer(MAX_COMMAND_APDU), integer(MAX_RESPONSE_APDU)]);
  return Buffer.concat([Buffer.from([0x47, capabilities.length]), capabilities, Buffer.from([0x7f, 0x66, lengths.length]), lengths]);
}
