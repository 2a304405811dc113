import { CaError } from './errors.js';

/**
 * The CRL reason codes the JPKI uses, with their meaning in the service (jpki-profile.md §1.5).
 */
export const REVOCATION_REASONS = {
  unspecified: { code: 0, meaning: 'destroyed before delivery' },
  keyCompromise: { code: 1, meaning: "the holder's private key was compromised (card lost, stolen, misused)" },
  cACompromise: { code: 2, meaning: "the CA's key was compromised" },
  affiliationChanged: { code: 3, meaning: 'the certified facts changed (moved, name changed, …)' },
  superseded: { code: 4, meaning: 'the certificate was renewed' },
  cessationOfOperation: { code: 5, meaning: 'no longer needed (the holder asked to stop; death)' },
  certificateHold: { code: 6, meaning: 'doubt about the key, held; a hold is never lifted' },
} as const;

export type RevocationReasonName = keyof typeof REVOCATION_REASONS;

export function reasonName(code: number): RevocationReasonName | undefined {
  return (Object.keys(REVOCATION_REASONS) as RevocationReasonName[]).find((k) => REVOCATION_REASONS[k].code === code);
}

/** A reason as the CLI or API gives it: the RFC 5280 name (any case, - or _ ignored) or its number. */
export function parseRevocationReason(text: string | number): number {
  if (typeof text === 'number' || /^\d+$/.test(text)) {
    const n = Number(text);
    if (reasonName(n)) return n;
  } else {
    const key = text.replace(/[-_\s]/g, '').toLowerCase();
    const found = (Object.keys(REVOCATION_REASONS) as RevocationReasonName[]).find((k) => k.toLowerCase() === key);
    if (found) return REVOCATION_REASONS[found].code;
  }
  throw new CaError(
    'REVOCATION_REASON_UNKNOWN',
    `unknown revocation reason ${JSON.stringify(text)}; use one of ${Object.keys(REVOCATION_REASONS).join(', ')}`,
  );
}
