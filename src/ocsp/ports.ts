/**
 * What the OCSP side needs from the store, declared here and handed in by the composition root: reads of
 * the CA's data (issuers, a certificate's status, the delegated responders in use, the work list of
 * pre-signing) and its own table of signed responses. It cannot issue, revoke or write anything of the CA's.
 */
import type { PresignCandidate } from '../store/index.js';
import type { IssuerSource } from './issuers.js';
import type { StatusReader } from './live-signer.js';
import type { OcspResponseStore } from './stored-responses.js';

export interface OcspResponseTable extends OcspResponseStore {
  /** Certificates whose response is missing, due or stale (ocsp_responses joined with the certificates). */
  presignCandidates(caId: string, hashAlgorithm: string, now: number, refreshBefore: number, afterId: number, limit: number): Promise<PresignCandidate[]>;
  /** Deletes responses that expired before `before` (ms). */
  pruneExpired(before: number): Promise<number>;
}

export interface OcspStorage {
  /** The CAs the responder answers for. */
  issuers: IssuerSource;
  /** A certificate's revocation state. */
  statuses: StatusReader;
  /** The pre-signed responses (the OCSP side's own table). */
  responses: OcspResponseTable;
  /** Whether a CA's delegated responder is in use (the updater renews only those). */
  responderInUse(caId: string): Promise<boolean>;
  /** Housekeeping of the status-change feed: drops changes older than `before`. */
  pruneChanges(before: number): Promise<number>;
}
