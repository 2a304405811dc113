import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { JpkiError } from '../common/errors.js';
import { CardSecrets, type SealedBox } from './card-secrets.js';
import type { PersistentState } from './card-state.js';
import { CARD_ID_PATTERN, CERTIFICATE_CAPACITY, ISSUER_MAX_TRIES, PINS } from './jpki-constants.js';

/**
 * The card image: one JSON file holding a card's persistent state (docs/card.md, "Card image").
 *
 *   { "format": "jpki-card-image", "version": 1, "cardId": "…16 hex…", "state": {…}, "mac": "<hex>" }
 *
 * Binary values are base64. Private keys and the issuer key are AES-256-GCM sealed; PINs are HMAC verifiers.
 * `mac` = HMAC-SHA256(imageMacKey, canonical JSON of {format, version, cardId, state}) with keys sorted, so
 * editing a retry counter by hand makes the image unusable instead of giving extra tries. (Replaying an older
 * copy of the whole file cannot be detected by the image alone; that is the limit of a software card.)
 */
export const IMAGE_FORMAT = 'jpki-card-image';
export const IMAGE_VERSION = 1;

const b64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/);
const sealed = z.object({ iv: b64, ciphertext: b64, tag: b64 });
const pin = (max: number) => z.object({ verifier: b64.nullable(), triesLeft: z.number().int().min(0).max(max) });
const key = z.object({ sealedPrivateKey: sealed, publicKey: b64 }).nullable();
const cert = b64.refine((s) => (s.length * 3) / 4 <= CERTIFICATE_CAPACITY + 3, 'certificate file too large');

const stateSchema = z.object({
  token: z.string().max(32),
  certificates: z.object({ sign: cert, 'sign-ca': cert, auth: cert, 'auth-ca': cert }),
  pins: z.object({ auth: pin(PINS.auth.maxTries), sign: pin(PINS.sign.maxTries) }),
  keys: z.object({ auth: key, sign: key }),
  issuer: z.object({ sealedKey: sealed, triesLeft: z.number().int().min(0).max(ISSUER_MAX_TRIES) }),
});

const envelopeSchema = z.object({
  format: z.literal(IMAGE_FORMAT),
  version: z.literal(IMAGE_VERSION),
  cardId: z.string().regex(CARD_ID_PATTERN),
  state: z.unknown(),
  mac: z.string().regex(/^[0-9a-f]{64}$/),
});

type StateJson = z.infer<typeof stateSchema>;

export function encodeCardImage(secrets: CardSecrets, state: PersistentState): Buffer {
  const body = { format: IMAGE_FORMAT, version: IMAGE_VERSION, cardId: secrets.cardId, state: stateToJson(state) };
  const mac = imageMac(secrets, body);
  return Buffer.from(`${JSON.stringify({ ...body, mac }, null, 1)}\n`);
}

/** The card ID, readable before any key is known (it names the keys). */
export function readCardImageId(bytes: Uint8Array): string {
  return parseEnvelope(bytes).cardId;
}

export function decodeCardImage(bytes: Uint8Array, fabricationSecret: Uint8Array): { secrets: CardSecrets; state: PersistentState } {
  const envelope = parseEnvelope(bytes);
  const secrets = new CardSecrets(fabricationSecret, envelope.cardId);
  const body = { format: envelope.format, version: envelope.version, cardId: envelope.cardId, state: envelope.state };
  const expected = imageMac(secrets, body);
  const given = Buffer.from(envelope.mac, 'hex');
  if (!timingSafeEqual(Buffer.from(expected, 'hex'), given)) {
    throw new JpkiError(
      'card.image-tampered',
      'conflict',
      `card ${envelope.cardId}: the image does not match this installation's card fabrication secret (wrong --data directory?) or was modified`,
      { cardId: envelope.cardId },
    );
  }
  const parsed = stateSchema.safeParse(envelope.state);
  if (!parsed.success) throw malformed(`card ${envelope.cardId}: ${parsed.error.issues[0]?.path.join('.')}: ${parsed.error.issues[0]?.message}`);
  return { secrets, state: stateFromJson(parsed.data) };
}

function parseEnvelope(bytes: Uint8Array) {
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    throw malformed('not a card image (not JSON)');
  }
  const parsed = envelopeSchema.safeParse(json);
  if (!parsed.success) throw malformed(`not a card image: ${parsed.error.issues[0]?.path.join('.') || 'top level'}: ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

function malformed(message: string): JpkiError {
  return new JpkiError('card.image-malformed', 'malformed', message);
}

function imageMac(secrets: CardSecrets, body: unknown): string {
  return createHmac('sha256', secrets.imageMacKey).update(canonicalJson(body)).digest('hex');
}

/** JSON with object keys sorted at every level: the same state always gives the same bytes to MAC. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(v as Record<string, unknown>)
    .filter(([, x]) => x !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
}

const enc = (b: Buffer) => b.toString('base64');
const dec = (s: string) => Buffer.from(s, 'base64');
const encBox = (b: SealedBox) => ({ iv: enc(b.iv), ciphertext: enc(b.ciphertext), tag: enc(b.tag) });
const decBox = (b: { iv: string; ciphertext: string; tag: string }): SealedBox => ({ iv: dec(b.iv), ciphertext: dec(b.ciphertext), tag: dec(b.tag) });

function stateToJson(s: PersistentState): StateJson {
  return {
    token: s.token,
    certificates: { sign: enc(s.certificates.sign), 'sign-ca': enc(s.certificates['sign-ca']), auth: enc(s.certificates.auth), 'auth-ca': enc(s.certificates['auth-ca']) },
    pins: {
      auth: { verifier: s.pins.auth.verifier && enc(s.pins.auth.verifier), triesLeft: s.pins.auth.triesLeft },
      sign: { verifier: s.pins.sign.verifier && enc(s.pins.sign.verifier), triesLeft: s.pins.sign.triesLeft },
    },
    keys: {
      auth: s.keys.auth && { sealedPrivateKey: encBox(s.keys.auth.sealedPrivateKey), publicKey: enc(s.keys.auth.publicKey) },
      sign: s.keys.sign && { sealedPrivateKey: encBox(s.keys.sign.sealedPrivateKey), publicKey: enc(s.keys.sign.publicKey) },
    },
    issuer: { sealedKey: encBox(s.issuer.sealedKey), triesLeft: s.issuer.triesLeft },
  };
}

function stateFromJson(j: StateJson): PersistentState {
  return {
    token: j.token,
    certificates: { sign: dec(j.certificates.sign), 'sign-ca': dec(j.certificates['sign-ca']), auth: dec(j.certificates.auth), 'auth-ca': dec(j.certificates['auth-ca']) },
    pins: {
      auth: { verifier: j.pins.auth.verifier === null ? null : dec(j.pins.auth.verifier), triesLeft: j.pins.auth.triesLeft },
      sign: { verifier: j.pins.sign.verifier === null ? null : dec(j.pins.sign.verifier), triesLeft: j.pins.sign.triesLeft },
    },
    keys: {
      auth: j.keys.auth && { sealedPrivateKey: decBox(j.keys.auth.sealedPrivateKey), publicKey: dec(j.keys.auth.publicKey) },
      sign: j.keys.sign && { sealedPrivateKey: decBox(j.keys.sign.sealedPrivateKey), publicKey: dec(j.keys.sign.publicKey) },
    },
    issuer: { sealedKey: decBox(j.issuer.sealedKey), triesLeft: j.issuer.triesLeft },
  };
}
