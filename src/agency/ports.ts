import type { AgencyApplicationRecord, NewAgencyApplication } from '../store/index.js';
import type { VerificationReport } from '../verifier/index.js';

/**
 * What the agency is handed by the composition root (ARCHITECTURE.md: a module declares its ports): its own
 * table, and a verifier already configured with the agency's trust anchor, the bridges' cross-certificates
 * and a way to fetch revocation data.
 */
export interface AgencyApplicationStore {
  /** Rejects with a unique violation when the receipt number is taken or the document was already accepted. */
  insert(a: NewAgencyApplication): Promise<void>;
  get(receiptNumber: string): Promise<AgencyApplicationRecord | undefined>;
  acceptedOf(documentId: string): Promise<AgencyApplicationRecord | undefined>;
  list(filter: { status?: 'accepted' | 'rejected'; limit: number; beforeId?: number }): Promise<AgencyApplicationRecord[]>;
}

export interface SignatureVerification {
  /** The verifier's report on a detached CMS signature over `content`, at time `at`. Never throws for bad input. */
  verify(signature: Uint8Array, content: Uint8Array, at: Date): Promise<VerificationReport>;
}
