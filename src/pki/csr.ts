/**
 * Lean PKCS#10 handling for the issuance hot path: locate the fields of a CertificationRequest (RFC 2986)
 * as views into the input, verify its self-signature with node:crypto, and judge the public key. The
 * @peculiar/x509 parser builds the whole object tree (~1 ms a request); this walks the DER once.
 *
 *   CertificationRequest ::= SEQUENCE { certificationRequestInfo, signatureAlgorithm AlgorithmIdentifier, signature BIT STRING }
 *   CertificationRequestInfo ::= SEQUENCE { version INTEGER { v1(0) }, subject Name,
 *       subjectPKInfo SubjectPublicKeyInfo, attributes [0] IMPLICIT SET OF Attribute }
 *
 * Signature algorithms: RSA PKCS#1 v1.5 with SHA-256/384/512 and ECDSA with SHA-256/384 (signed.ts
 * verifySignature). RSA-PSS, SHA-1 and EdDSA are refused as SIGNATURE_ALGORITHM_UNSUPPORTED.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { loadPublicKey } from './public-key.js';
import { readSingle, readTlv, childList, readOid, contentOf, bytesOf, DerError, TAG, type Tlv } from './der.js';
import { verifySignature } from './signed.js';
import { PkiError, type PkiErrorCode } from './errors.js';

export interface ParsedCsr {
  /** The subject Name, exactly as encoded (DER). */
  subject: Uint8Array;
  /** The SubjectPublicKeyInfo DER. */
  subjectPublicKeyInfo: Uint8Array;
  signatureAlgorithmOid: string;
  /** The signature BIT STRING's bits (RSA: the signature block; ECDSA: the DER Ecdsa-Sig-Value). */
  signature: Uint8Array;
  /** The CertificationRequestInfo DER: what the signature covers. */
  certificationRequestInfo: Uint8Array;
  /** The content of the attributes [0] field (the Attribute TLVs, e.g. extensionRequest); empty when none. */
  attributes: Uint8Array;
  /** The whole CertificationRequest DER. */
  der: Uint8Array;
}

// ---- PEM -----------------------------------------------------------------------------------------------

const PEM_BLOCK = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END ([A-Z0-9 ]+)-----/g;

/**
 * The first PEM block whose label is one of `labels` (RFC 7468; text around it is ignored). Returns
 * undefined when there is none; throws `code` when the block itself is damaged.
 */
function pemBlock(text: string, labels: readonly string[], code: PkiErrorCode): { label: string; der: Buffer } | undefined {
  for (const m of text.matchAll(PEM_BLOCK)) {
    const [, begin, body, end] = m as unknown as [string, string, string, string];
    if (!labels.includes(begin)) continue;
    if (end !== begin) throw new PkiError(code, `PEM block "${begin}" ends with "${end}"`);
    const b64 = body.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0 || b64.length === 0)
      throw new PkiError(code, `PEM block "${begin}" is not valid base64`);
    return { label: begin, der: Buffer.from(b64, 'base64') };
  }
  return undefined;
}

function looksLikePem(input: Uint8Array | string): string | undefined {
  if (typeof input === 'string') return input;
  // DER starts with a SEQUENCE tag; PEM text starts with '-' or with explanatory text
  if (input.length > 0 && input[0] !== TAG.SEQUENCE) return Buffer.from(input.buffer, input.byteOffset, input.length).toString('latin1');
  return undefined;
}

// ---- parsing -------------------------------------------------------------------------------------------

const CSR_LABELS = ['CERTIFICATE REQUEST', 'NEW CERTIFICATE REQUEST'];

function csrMalformed(message: string, offset?: number, cause?: unknown): PkiError {
  return new PkiError(
    'CSR_MALFORMED',
    `malformed certificate request: ${message}${offset === undefined ? '' : ` at byte ${offset}`}`,
    offset === undefined ? {} : { offset },
    cause === undefined ? undefined : { cause },
  );
}

/** Parses a DER or PEM PKCS#10 request. Throws PkiError CSR_MALFORMED (with the byte offset for DER faults). */
export function parseCsr(input: Uint8Array | string): ParsedCsr {
  let der: Uint8Array;
  const text = looksLikePem(input);
  if (text !== undefined) {
    const block = pemBlock(text, CSR_LABELS, 'CSR_MALFORMED');
    if (!block) throw csrMalformed('no "CERTIFICATE REQUEST" PEM block and not DER');
    der = block.der;
  } else if (input instanceof Uint8Array) {
    der = input;
  } else {
    throw csrMalformed('input must be DER bytes or PEM text');
  }
  try {
    return parseCsrDer(der);
  } catch (e) {
    if (e instanceof DerError) throw csrMalformed(e.message.replace(/ at byte \d+$/, ''), e.offset, e);
    throw e;
  }
}

function expect(t: Tlv | undefined, tag: number, what: string, at: number): Tlv {
  if (!t) throw new DerError(`missing ${what}`, at);
  if (t.tag !== tag) throw new DerError(`${what} has tag 0x${t.tag.toString(16)}, expected 0x${tag.toString(16)}`, t.start);
  return t;
}

function parseCsrDer(der: Uint8Array): ParsedCsr {
  const outer = readSingle(der);
  expect(outer, TAG.SEQUENCE, 'CertificationRequest', 0);
  const parts = childList(der, outer);
  if (parts.length !== 3) throw new DerError(`CertificationRequest has ${parts.length} fields, expected 3`, outer.start);
  const cri = expect(parts[0], TAG.SEQUENCE, 'certificationRequestInfo', outer.contentStart);
  const alg = expect(parts[1], TAG.SEQUENCE, 'signatureAlgorithm', cri.end);
  const sig = expect(parts[2], TAG.BIT_STRING, 'signature', alg.end);

  const fields = childList(der, cri);
  const version = expect(fields[0], TAG.INTEGER, 'version', cri.contentStart);
  if (version.end - version.contentStart !== 1 || der[version.contentStart] !== 0) throw new DerError('version is not v1 (0)', version.start);
  const subject = expect(fields[1], TAG.SEQUENCE, 'subject', version.end);
  const spki = expect(fields[2], TAG.SEQUENCE, 'subjectPKInfo', subject.end);
  const spkiParts = childList(der, spki);
  if (spkiParts.length !== 2 || spkiParts[0]!.tag !== TAG.SEQUENCE || spkiParts[1]!.tag !== TAG.BIT_STRING)
    throw new DerError('subjectPKInfo is not SEQUENCE { AlgorithmIdentifier, BIT STRING }', spki.start);
  let attributes: Uint8Array = der.subarray(spki.end, spki.end);
  if (fields.length > 3) {
    const attrs = expect(fields[3], 0xa0, 'attributes [0]', spki.end);
    attributes = contentOf(der, attrs);
    for (let o = attrs.contentStart; o < attrs.end; ) o = expect(readTlv(der, o, attrs.end), TAG.SEQUENCE, 'Attribute', o).end;
  }
  if (fields.length > 4) throw new DerError('unexpected field after attributes', fields[4]!.start);

  const algOid = childList(der, alg)[0];
  if (!algOid) throw new DerError('empty signatureAlgorithm', alg.start);
  const bits = contentOf(der, sig);
  if (bits.length < 2 || bits[0] !== 0) throw new DerError('signature is empty or has unused bits', sig.start);

  return {
    subject: bytesOf(der, subject),
    subjectPublicKeyInfo: bytesOf(der, spki),
    signatureAlgorithmOid: readOid(der, algOid),
    signature: bits.subarray(1),
    certificationRequestInfo: bytesOf(der, cri),
    attributes,
    der,
  };
}

// ---- verification --------------------------------------------------------------------------------------

/** node:crypto's view of a DER SPKI; PkiError KEY_MALFORMED when it cannot load it. */
function loadSpki(spki: Uint8Array): KeyObject {
  try {
    return loadPublicKey(spki);
  } catch (e) {
    throw new PkiError('KEY_MALFORMED', `the public key is not a DER SubjectPublicKeyInfo: ${(e as Error).message}`, {}, { cause: e });
  }
}

/** A request whose self-signature verified, with the loaded key (pass it to checkKeyStrength: loading costs ~0.2 ms). */
export interface VerifiedCsr extends ParsedCsr {
  publicKey: KeyObject;
}

/**
 * Checks the request's self-signature with the key it carries (proof of possession). Takes a parsed request
 * or its DER/PEM; returns the parsed request with its KeyObject. Throws CSR_SIGNATURE_INVALID,
 * SIGNATURE_ALGORITHM_UNSUPPORTED, KEY_MALFORMED or CSR_MALFORMED.
 */
export function verifyCsr(csr: ParsedCsr | Uint8Array | string): VerifiedCsr {
  const parsed = typeof csr === 'string' || csr instanceof Uint8Array ? parseCsr(csr) : csr;
  const publicKey = loadSpki(parsed.subjectPublicKeyInfo);
  if (!verifySignature(parsed.signatureAlgorithmOid, parsed.certificationRequestInfo, parsed.signature, publicKey))
    throw new PkiError('CSR_SIGNATURE_INVALID', 'the certificate request signature does not verify with its own public key', {
      algorithm: parsed.signatureAlgorithmOid,
    });
  return { ...parsed, publicKey };
}

// ---- public keys ---------------------------------------------------------------------------------------

export interface PublicKeyDescription {
  type: 'RSA' | 'EC';
  /** RSA modulus length, or the curve's field size (256, 384, 521). */
  bits: number;
  /** 'P-256', 'P-384', 'P-521', or OpenSSL's name for other curves (e.g. 'secp256k1'). */
  curve?: string;
  /** RSA public exponent. */
  publicExponent?: bigint;
}

const CURVES: Record<string, { name: string; bits: number }> = {
  prime256v1: { name: 'P-256', bits: 256 },
  secp384r1: { name: 'P-384', bits: 384 },
  secp521r1: { name: 'P-521', bits: 521 },
  secp256k1: { name: 'secp256k1', bits: 256 },
};

/** The key's type and size, via node:crypto. Keys other than RSA and EC throw KEY_ALGORITHM_UNSUPPORTED. */
export function describePublicKey(spki: Uint8Array | KeyObject): PublicKeyDescription {
  const key = spki instanceof Uint8Array ? loadSpki(spki) : spki;
  const details = key.asymmetricKeyDetails ?? {};
  switch (key.asymmetricKeyType) {
    case 'rsa':
      return {
        type: 'RSA',
        bits: details.modulusLength ?? 0,
        ...(details.publicExponent !== undefined ? { publicExponent: details.publicExponent } : {}),
      };
    case 'ec': {
      const c = details.namedCurve ? CURVES[details.namedCurve] : undefined;
      if (c) return { type: 'EC', bits: c.bits, curve: c.name };
      return { type: 'EC', bits: ecPointBits(key), curve: details.namedCurve ?? 'unknown' };
    }
    case 'rsa-pss':
      throw new PkiError('KEY_ALGORITHM_UNSUPPORTED', 'RSA-PSS keys (id-RSASSA-PSS) are not supported: use an rsaEncryption key', { keyType: 'rsa-pss' });
    default:
      throw new PkiError('KEY_ALGORITHM_UNSUPPORTED', `${key.asymmetricKeyType ?? 'unknown'} keys are not supported: use RSA or ECDSA`, {
        keyType: key.asymmetricKeyType ?? 'unknown',
      });
  }
}

/** Another named curve's size, from its public point: 04 || X || Y, or 02/03 || X when compressed. */
function ecPointBits(key: KeyObject): number {
  const spki = key.export({ format: 'der', type: 'spki' });
  const [, bitString] = childList(spki, readSingle(spki));
  if (!bitString || bitString.end - bitString.contentStart < 3) return 0;
  const point = spki.subarray(bitString.contentStart + 1, bitString.end);
  const coordinate = point[0] === 0x04 ? (point.length - 1) / 2 : point.length - 1;
  return coordinate * 8;
}

export interface KeyPolicy {
  /** Smallest RSA modulus accepted (default 2048). */
  minRsaBits?: number;
  /** Largest RSA modulus accepted, to bound verification cost (default 8192). */
  maxRsaBits?: number;
  /** Smallest RSA public exponent (default 65537); it must also be odd. */
  minRsaExponent?: bigint;
  /** Curves accepted (default P-256 and P-384). */
  curves?: readonly string[];
  /** Key types accepted (default both). */
  types?: readonly ('RSA' | 'EC')[];
}

/**
 * Checks a public key against the policy and returns its description. Throws KEY_TOO_SMALL, KEY_TOO_LARGE,
 * KEY_EXPONENT_INVALID, KEY_ALGORITHM_UNSUPPORTED or KEY_MALFORMED with a message fit for the counter.
 */
export function checkKeyStrength(spki: Uint8Array | KeyObject, policy: KeyPolicy = {}): PublicKeyDescription {
  const { minRsaBits = 2048, maxRsaBits = 8192, minRsaExponent = 65537n, curves = ['P-256', 'P-384'], types = ['RSA', 'EC'] } = policy;
  const d = describePublicKey(spki);
  if (!types.includes(d.type))
    throw new PkiError('KEY_ALGORITHM_UNSUPPORTED', `${d.type} keys are not allowed: use ${types.join(' or ')}`, { keyType: d.type });
  if (d.type === 'RSA') {
    if (d.bits < minRsaBits)
      throw new PkiError('KEY_TOO_SMALL', `RSA key of ${d.bits} bits is too small: at least ${minRsaBits} bits are required`, { bits: d.bits, minBits: minRsaBits });
    if (d.bits > maxRsaBits)
      throw new PkiError('KEY_TOO_LARGE', `RSA key of ${d.bits} bits is too large: at most ${maxRsaBits} bits are accepted`, { bits: d.bits, maxBits: maxRsaBits });
    const e = d.publicExponent ?? 0n;
    if (e % 2n === 0n || e < minRsaExponent)
      throw new PkiError('KEY_EXPONENT_INVALID', `RSA public exponent ${e} is not allowed: it must be odd and at least ${minRsaExponent}`, {
        exponent: e.toString(),
      });
  } else if (!d.curve || !curves.includes(d.curve)) {
    throw new PkiError('KEY_ALGORITHM_UNSUPPORTED', `EC key on curve ${d.curve} is not allowed: use ${curves.join(' or ')}`, { curve: d.curve ?? 'unknown' });
  }
  return d;
}

/**
 * A bare public key — PEM "PUBLIC KEY" (SPKI), PEM "RSA PUBLIC KEY" (PKCS#1) or DER SPKI — as DER SPKI.
 * Throws KEY_MALFORMED when node:crypto cannot load it.
 */
export function parsePublicKey(input: Uint8Array | string): Uint8Array {
  const text = looksLikePem(input);
  if (text !== undefined) {
    const block = pemBlock(text, ['PUBLIC KEY', 'RSA PUBLIC KEY'], 'KEY_MALFORMED');
    if (!block) throw new PkiError('KEY_MALFORMED', 'no "PUBLIC KEY" PEM block and not DER');
    if (block.label === 'RSA PUBLIC KEY') {
      try {
        return createPublicKey({ key: block.der, format: 'der', type: 'pkcs1' }).export({ format: 'der', type: 'spki' });
      } catch (e) {
        throw new PkiError('KEY_MALFORMED', `not a PKCS#1 RSAPublicKey: ${(e as Error).message}`, {}, { cause: e });
      }
    }
    return checkedSpki(block.der);
  }
  if (!(input instanceof Uint8Array)) throw new PkiError('KEY_MALFORMED', 'input must be DER bytes or PEM text');
  return checkedSpki(input);
}

function checkedSpki(der: Uint8Array): Uint8Array {
  try {
    readSingle(der);
  } catch (e) {
    throw new PkiError('KEY_MALFORMED', `not one DER SubjectPublicKeyInfo: ${(e as Error).message}`, {}, { cause: e });
  }
  loadSpki(der);
  return der;
}
