import { createHash } from 'node:crypto';
import { sequence, oid, NULL, octetString, unsignedInteger, readSingle, readTlv, childList, bytesOf, contentOf, TAG, DerError, type Tlv } from '../pki/der.js';
import { OID_SHA1, OID_SHA256, OID_SHA384, OID_SHA512 } from '../pki/oids.js';

/**
 *   CertID ::= SEQUENCE { hashAlgorithm AlgorithmIdentifier, issuerNameHash OCTET STRING,
 *                         issuerKeyHash OCTET STRING, serialNumber CertificateSerialNumber }   (RFC 6960 §4.1.1)
 *
 * The hashes name the issuer: of its subject Name DER, and of its subjectPublicKey BIT STRING value
 * (without tag, length and unused-bits octet). RFC 5019 clients send SHA-1; we also accept SHA-2.
 */
export type CertIdHash = 'sha1' | 'sha256' | 'sha384' | 'sha512';

export const CERT_ID_HASHES: readonly CertIdHash[] = ['sha1', 'sha256', 'sha384', 'sha512'];

const HASH_OID: Record<CertIdHash, string> = { sha1: OID_SHA1, sha256: OID_SHA256, sha384: OID_SHA384, sha512: OID_SHA512 };
const HASH_LENGTH: Record<CertIdHash, number> = { sha1: 20, sha256: 32, sha384: 48, sha512: 64 };

/** A CertID as read from a request: views into the request buffer, nothing copied. */
export interface CertId {
  /** The hash algorithm, or undefined when it is not one we compute (or the hashes have the wrong length). */
  readonly hash: CertIdHash | undefined;
  readonly issuerNameHash: Uint8Array;
  readonly issuerKeyHash: Uint8Array;
  /** Canonical serial text (lower-case hex of the magnitude, as the store keeps it); undefined for a serial ≤ 0. */
  readonly serial: string | undefined;
  /** The whole CertID TLV: echoed verbatim in the response, and the key of cached responses. */
  readonly der: Uint8Array;
}

/** The hash OIDs' complete DER, compared as bytes: no arc arithmetic on the hot path. */
const HASH_OID_DER: [CertIdHash, Buffer][] = Object.entries(HASH_OID).map(([k, v]) => [k as CertIdHash, oid(v)]);

function hashAt(buf: Uint8Array, t: Tlv): CertIdHash | undefined {
  const len = t.end - t.start;
  for (const [h, enc] of HASH_OID_DER) {
    if (enc.length !== len) continue;
    let i = 0;
    while (i < len && buf[t.start + i] === enc[i]) i++;
    if (i === len) return h;
  }
  return undefined;
}

/**
 * A parsed CertID. Only the hash algorithm and the DER view are made at once — what the cached path needs;
 * the issuer hashes and the serial text are derived when first asked for.
 */
class ParsedCertId implements CertId {
  private cachedSerial: string | undefined | null = null;

  constructor(
    private readonly buf: Uint8Array,
    readonly hash: CertIdHash | undefined,
    private readonly nameHash: Tlv,
    private readonly keyHash: Tlv,
    private readonly serialTlv: Tlv,
    readonly der: Uint8Array,
  ) {}

  get issuerNameHash(): Uint8Array {
    return contentOf(this.buf, this.nameHash);
  }

  get issuerKeyHash(): Uint8Array {
    return contentOf(this.buf, this.keyHash);
  }

  get serial(): string | undefined {
    if (this.cachedSerial === null) this.cachedSerial = serialText(contentOf(this.buf, this.serialTlv));
    return this.cachedSerial;
  }
}

/** Reads a CertID TLV inside `buf`; throws DerError when its structure is wrong. */
export function readCertId(buf: Uint8Array, t: Tlv): CertId {
  if (t.tag !== TAG.SEQUENCE) throw new DerError('CertID is not a SEQUENCE', t.start);
  const alg = readTlv(buf, t.contentStart, t.end);
  if (alg.tag !== TAG.SEQUENCE) throw new DerError('hashAlgorithm is not an AlgorithmIdentifier', alg.start);
  const nameHash = field(buf, alg.end, t, 'issuerNameHash');
  const keyHash = field(buf, nameHash.end, t, 'issuerKeyHash');
  const serial = field(buf, keyHash.end, t, 'serialNumber');
  if (serial.end !== t.end) throw new DerError('CertID has more than 4 fields', serial.end);
  if (alg.contentStart >= alg.end) throw new DerError('hashAlgorithm is not an AlgorithmIdentifier', alg.start);
  const algOid = readTlv(buf, alg.contentStart, alg.end);
  if (algOid.tag !== TAG.OID) throw new DerError('hashAlgorithm is not an AlgorithmIdentifier', alg.start);
  if (algOid.end < alg.end) {
    const params = readTlv(buf, algOid.end, alg.end);
    if (params.tag !== TAG.NULL || params.end !== params.contentStart) throw new DerError('hash algorithm parameters must be NULL or absent', params.start);
    if (params.end !== alg.end) throw new DerError('hashAlgorithm is not an AlgorithmIdentifier', alg.start);
  }
  if (nameHash.tag !== TAG.OCTET_STRING || keyHash.tag !== TAG.OCTET_STRING) throw new DerError('issuer hashes must be OCTET STRINGs', nameHash.start);
  if (serial.tag !== TAG.INTEGER) throw new DerError('serialNumber is not an INTEGER', serial.start);
  const n = serial.end - serial.contentStart;
  const s0 = buf[serial.contentStart]!;
  const s1 = buf[serial.contentStart + 1]!;
  if (n === 0) throw new DerError('empty INTEGER', serial.start);
  if (n > 1 && ((s0 === 0 && (s1 & 0x80) === 0) || (s0 === 0xff && s1 & 0x80))) throw new DerError('INTEGER is not minimally encoded', serial.start);
  const hash = hashAt(buf, algOid);
  // A hash of the wrong length can never match: treat it like an unknown algorithm (unauthorized, not a crash).
  const length = hash && HASH_LENGTH[hash];
  const usable = length !== undefined && nameHash.end - nameHash.contentStart === length && keyHash.end - keyHash.contentStart === length;
  return new ParsedCertId(buf, usable ? hash : undefined, nameHash, keyHash, serial, bytesOf(buf, t));
}

function field(buf: Uint8Array, offset: number, parent: Tlv, what: string): Tlv {
  if (offset >= parent.end) throw new DerError(`CertID without ${what}`, parent.start);
  return readTlv(buf, offset, parent.end);
}

/** The store's serial text for INTEGER content bytes, or undefined when the value is not positive. */
function serialText(content: Uint8Array): string | undefined {
  if (content[0]! & 0x80) return undefined;
  let i = 0;
  while (i < content.length - 1 && content[i] === 0) i++;
  if (i === content.length - 1 && content[i] === 0) return undefined;
  return Buffer.from(content.buffer, content.byteOffset + i, content.length - i).toString('hex');
}

/** The issuerNameHash and issuerKeyHash of a CA for one algorithm. */
export function issuerHashes(subject: Uint8Array, spki: Uint8Array, hash: CertIdHash): { nameHash: Buffer; keyHash: Buffer } {
  const outer = readSingle(spki);
  const key = childList(spki, outer)[1];
  if (!key || key.tag !== TAG.BIT_STRING || key.end - key.contentStart < 1) throw new DerError('not a SubjectPublicKeyInfo', 0);
  return {
    nameHash: createHash(hash).update(subject).digest(),
    keyHash: createHash(hash).update(spki.subarray(key.contentStart + 1, key.end)).digest(),
  };
}

/**
 * The CertID of a certificate as OpenSSL writes it (hash AlgorithmIdentifier with NULL parameters): what
 * the pre-signing job answers ahead of any request.
 */
export function encodeCertId(hash: CertIdHash, issuer: { subject: Uint8Array; spki: Uint8Array }, serialHex: string): Buffer {
  const { nameHash, keyHash } = issuerHashes(issuer.subject, issuer.spki, hash);
  const magnitude = Buffer.from(serialHex.length % 2 ? `0${serialHex}` : serialHex, 'hex');
  return sequence(sequence(oid(HASH_OID[hash]), NULL), octetString(nameHash), octetString(keyHash), unsignedInteger(magnitude));
}

/** Parses a lone CertID DER (tests, the store's copies). */
export function parseCertId(der: Uint8Array): CertId {
  return readCertId(der, readSingle(der));
}
