/**
 * Key URIs. A key is named by a URI whose scheme says which store holds it:
 *
 *   soft:<label>                                         a software key file <dir>/<label>.key
 *   pkcs11:token=<token>;object=<label>;id=%01%02…;type=private   RFC 7512
 *
 * Labels are restricted to [A-Za-z0-9._-] (1–64, not starting with '.' or '-') in both stores, so a label is
 * always a safe file name and never needs escaping in a soft: URI.
 */
import { KmsError } from './errors.js';

export type KeyUriScheme = 'soft' | 'pkcs11';

const LABEL = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}$/;

export function checkLabel(label: string): string {
  if (typeof label !== 'string' || !LABEL.test(label))
    throw new KmsError(
      'KMS_LABEL_INVALID',
      'malformed',
      `invalid key label ${JSON.stringify(label)}: use 1–64 characters from A–Z a–z 0–9 . _ - (not starting with . or -)`,
      { label: String(label) },
    );
  return label;
}

/** The store a URI belongs to, or undefined for an unknown scheme. */
export function keyUriScheme(uri: string): KeyUriScheme | undefined {
  if (uri.startsWith('soft:')) return 'soft';
  if (uri.startsWith('pkcs11:')) return 'pkcs11';
  return undefined;
}

/** Refuses a URI that belongs to the other store with a sentence naming both. */
export function requireScheme(uri: string, scheme: KeyUriScheme): void {
  if (typeof uri !== 'string') throw new KmsError('KMS_URI_INVALID', 'malformed', 'a key URI must be a string');
  const actual = keyUriScheme(uri);
  if (actual === scheme) return;
  if (actual)
    throw new KmsError(
      'KMS_URI_SCHEME_MISMATCH',
      'malformed',
      `key URI ${uri} belongs to the ${actual} key store, but this key manager is the ${scheme} store`,
      { uri, scheme: actual, expected: scheme },
    );
  throw new KmsError('KMS_URI_INVALID', 'malformed', `not a key URI (expected ${scheme}:…): ${uri}`, { uri });
}

// ---- soft: ---------------------------------------------------------------------------------------------

export function formatSoftUri(label: string): string {
  return `soft:${checkLabel(label)}`;
}

export function parseSoftUri(uri: string): string {
  requireScheme(uri, 'soft');
  const label = uri.slice('soft:'.length);
  if (!LABEL.test(label)) throw new KmsError('KMS_URI_INVALID', 'malformed', `invalid soft key URI ${uri}`, { uri });
  return label;
}

// ---- pkcs11: (RFC 7512) --------------------------------------------------------------------------------

export interface Pkcs11Uri {
  token?: string;
  object?: string;
  id?: Uint8Array;
  type?: 'private' | 'public' | 'cert' | 'secret-key' | 'data';
}

/** RFC 7512 §2.3 pk11-pchar: unreserved / pk11-path-res-avail; everything else (';', '/', '?', '%', '&', non-ASCII) is %XX. */
const PATH_SAFE = /[A-Za-z0-9\-._~:[\]@!$'()*+,=]/;

function pctEncode(bytes: Uint8Array, always = false): string {
  let out = '';
  for (const b of bytes) {
    const c = String.fromCharCode(b);
    out += !always && b < 0x80 && PATH_SAFE.test(c) ? c : '%' + b.toString(16).padStart(2, '0').toUpperCase();
  }
  return out;
}

function pctDecode(text: string, uri: string): Buffer {
  // Split on %XX escapes; literal runs are UTF-8 text, escapes are single bytes.
  const chunks: Buffer[] = [];
  for (const piece of text.split(/(%..)/)) {
    if (piece.startsWith('%')) {
      if (!/^%[0-9A-Fa-f]{2}$/.test(piece)) throw new KmsError('KMS_URI_INVALID', 'malformed', `bad percent-encoding in ${uri}`, { uri });
      chunks.push(Buffer.from([parseInt(piece.slice(1), 16)]));
    } else if (piece.includes('%')) {
      throw new KmsError('KMS_URI_INVALID', 'malformed', `bad percent-encoding in ${uri}`, { uri });
    } else {
      chunks.push(Buffer.from(piece, 'utf8'));
    }
  }
  return Buffer.concat(chunks);
}

/** `pkcs11:token=…;object=…;id=…;type=private`. The id is always percent-encoded byte by byte, as RFC 7512 §2.3 shows. */
export function formatPkcs11Uri(u: Pkcs11Uri): string {
  const parts: string[] = [];
  if (u.token !== undefined) parts.push(`token=${pctEncode(Buffer.from(u.token, 'utf8'))}`);
  if (u.object !== undefined) parts.push(`object=${pctEncode(Buffer.from(u.object, 'utf8'))}`);
  if (u.id !== undefined) parts.push(`id=${pctEncode(u.id, true)}`);
  if (u.type !== undefined) parts.push(`type=${u.type}`);
  return `pkcs11:${parts.join(';')}`;
}

/** Path attributes that RFC 7512 defines and that we accept but do not match on (the config picks module and slot). */
const IGNORED_ATTRIBUTES = new Set([
  'manufacturer',
  'model',
  'serial',
  'library-description',
  'library-manufacturer',
  'library-version',
  'slot-description',
  'slot-manufacturer',
  'slot-id',
]);
const TYPES = new Set(['private', 'public', 'cert', 'secret-key', 'data']);

/**
 * Parses the path part of a PKCS#11 URI. The query part (pin-source, module-path…) is ignored: the module and
 * the PIN come from the KmsConfig, never from a key name. Unknown path attributes are refused, as RFC 7512
 * §2.3 requires that such a URI match nothing.
 */
export function parsePkcs11Uri(uri: string): Pkcs11Uri {
  requireScheme(uri, 'pkcs11');
  const path = uri.slice('pkcs11:'.length).split('?')[0]!;
  const out: Pkcs11Uri = {};
  const seen = new Set<string>();
  for (const part of path.split(';')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    if (eq <= 0) throw new KmsError('KMS_URI_INVALID', 'malformed', `bad attribute ${JSON.stringify(part)} in ${uri}`, { uri });
    const name = part.slice(0, eq);
    const value = part.slice(eq + 1);
    if (seen.has(name)) throw new KmsError('KMS_URI_INVALID', 'malformed', `attribute ${name} repeated in ${uri}`, { uri });
    seen.add(name);
    switch (name) {
      case 'token':
        out.token = pctDecode(value, uri).toString('utf8');
        break;
      case 'object':
        out.object = pctDecode(value, uri).toString('utf8');
        break;
      case 'id':
        out.id = pctDecode(value, uri);
        break;
      case 'type':
        if (!TYPES.has(value)) throw new KmsError('KMS_URI_INVALID', 'malformed', `unknown object type ${value} in ${uri}`, { uri });
        out.type = value as Pkcs11Uri['type'];
        break;
      default:
        if (!IGNORED_ATTRIBUTES.has(name))
          throw new KmsError('KMS_URI_INVALID', 'malformed', `unknown PKCS#11 URI attribute ${name} in ${uri}`, { uri });
    }
  }
  if (out.object === undefined && out.id === undefined)
    throw new KmsError('KMS_URI_INVALID', 'malformed', `PKCS#11 key URI ${uri} names neither object= nor id=`, { uri });
  return out;
}
