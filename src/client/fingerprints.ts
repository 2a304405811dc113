import { readFileBounded, readResponseBounded } from '../common/bounded-read.js';
import { z } from 'zod';
import type { CardSession } from './card-session.js';
import { ClientError } from './errors.js';

/**
 * Checking the CA self-signed certificates (guide §4(10)): the fingerprints of the certificates on the card,
 * compared with the list the portal publishes (/api/portal/trust-anchors). Case and separators do not matter.
 */
export interface TrustAnchor {
  /** Where it came from: the card's EF ('0002', '000B') or a file. */
  source: string;
  der: Buffer;
}

export async function trustAnchorsOnCard(card: CardSession): Promise<TrustAnchor[]> {
  const found = await card.caCertificates();
  if (!found.length) throw new ClientError('CLIENT_NO_CERTIFICATE', 'not-found', 'the card holds no CA certificate');
  return found.map((f) => ({ source: f.file === 'sign-ca' ? '0002' : '000B', der: f.der }));
}

export const FingerprintList = z.object({
  anchors: z.array(z.object({ id: z.string(), name: z.string(), subject: z.string(), sha1: z.string(), sha256: z.string() }).passthrough()),
});
export type FingerprintList = z.infer<typeof FingerprintList>;

/** The portal lists 50 CAs in about 20 KiB: a list many times that size is not the portal's. */
const MAX_LIST_BYTES = 1 << 20;

/** The portal's list, from its URL or a saved copy; either is read up to MAX_LIST_BYTES and no further. */
export async function loadFingerprintList(urlOrFile: string): Promise<FingerprintList> {
  let text: string;
  try {
    if (/^https?:\/\//.test(urlOrFile)) {
      const r = await fetch(urlOrFile, { signal: AbortSignal.timeout(15_000) });
      if (!r.ok) throw new Error(`HTTP ${r.status}`);
      text = (await readResponseBounded(r, MAX_LIST_BYTES)).toString('utf8');
    } else text = readFileBounded(urlOrFile, MAX_LIST_BYTES, 'fingerprint list').toString('utf8');
  } catch (e) {
    throw new ClientError('FINGERPRINT_LIST_UNAVAILABLE', 'unavailable', `cannot get the portal's fingerprint list from ${urlOrFile}: ${(e as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ClientError('FINGERPRINT_LIST_INVALID', 'malformed', `${urlOrFile} is not the portal's fingerprint list (not JSON)`);
  }
  const list = FingerprintList.safeParse(parsed);
  if (!list.success) throw new ClientError('FINGERPRINT_LIST_INVALID', 'malformed', `${urlOrFile} is not the portal's fingerprint list`);
  return list.data;
}

/** Upper-case hex digits only: "ab:CD 01" and "ABCD01" are the same fingerprint. */
export function normaliseFingerprint(text: string): string {
  return text.replace(/[^0-9a-fA-F]/g, '').toUpperCase();
}

export interface FingerprintComparison {
  subject: string;
  sha256: string;
  match: boolean;
  /** The portal's entry it matched. */
  listed?: string;
  reason?: string;
}

export function compareFingerprints(shown: { subject: string; sha1: string; sha256: string }[], list: FingerprintList): FingerprintComparison[] {
  return shown.map((c) => {
    const sha1 = normaliseFingerprint(c.sha1);
    const sha256 = normaliseFingerprint(c.sha256);
    const same = list.anchors.find((a) => normaliseFingerprint(a.sha256) === sha256 && normaliseFingerprint(a.sha1) === sha1);
    if (same) return { subject: c.subject, sha256: c.sha256, match: true, listed: same.name };
    const named = list.anchors.find((a) => a.subject === c.subject);
    return {
      subject: c.subject,
      sha256: c.sha256,
      match: false,
      reason: named
        ? `the portal lists ${named.name} with SHA-256 ${named.sha256}, the certificate here has ${c.sha256}`
        : `no CA named ${c.subject} is on the portal's list`,
    };
  });
}
