import { decodeResidentFactsSan, type DecodedResidentFacts } from '../resident-facts.js';

const decoded = new WeakMap<Uint8Array, DecodedResidentFacts | Error>();

/**
 * The facts a subjectAltName value carries, or why they cannot be read: decoded once per TBS view, since two
 * lints read them (resident-facts-match-kind, resident-facts-valid) and each decoding costs ~10 µs.
 */
export function sanFacts(value: Uint8Array): DecodedResidentFacts | Error {
  let d = decoded.get(value);
  if (!d) {
    try {
      d = decodeResidentFactsSan(value);
    } catch (e) {
      d = e instanceof Error ? e : new Error(String(e));
    }
    decoded.set(value, d);
  }
  return d;
}
