/**
 * The OCSP responder (RFC 6960 with the RFC 5019 profile): pre-signed responses served from memory and the
 * store, sign-on-first-request, live signing for nonces, kept current by the status-change feed.
 * docs/ocsp.md describes the design and its measurements.
 */
import type { Clock } from '../common/clock.js';
import type { StatusChange, StatusChangeFeed } from '../store/index.js';
import type { OcspStorage } from './ports.js';
import { parseCertId, encodeCertId, type CertId } from './cert-id.js';
import { requireFresh } from './freshness.js';
import { filterIssuers } from './issuer-filter.js';
import { IssuerIndex } from './issuers.js';
import { LiveSigner, type ResponderCredentials } from './live-signer.js';
import { Presigner, type PresignOptions, type PresignReport } from './presigner.js';
import { OcspResponder } from './responder.js';
import { ResponseCache } from './response-cache.js';
import { signOnMiss } from './sign-on-miss.js';
import { StoredResponses } from './stored-responses.js';
import { OcspUpdater, type OcspUpdaterOptions } from './updater.js';

export { parseOcspRequest, encodeOcspRequest, nonceValue, MAX_CERT_IDS, MAX_NONCE_VALUE, MAX_REQUEST_BYTES, type OcspRequest } from './request.js';
export { encodeCertId, parseCertId, issuerHashes, CERT_ID_HASHES, type CertId, type CertIdHash } from './cert-id.js';
export {
  signOcspResponse,
  encodeResponseData,
  encodeSingleResponse,
  statusResponse,
  responderKeyHash,
  OCSP_RESPONSE_STATUS,
  type OcspResponseStatus,
  type OcspErrorStatus,
  type CertStatus,
  type SingleResponseInput,
  type BasicResponseInput,
} from './response.js';
export { OcspError, type OcspErrorCode } from './errors.js';
export { OcspResponder, errorAnswer } from './responder.js';
export { ENTRY_OVERHEAD } from './response-cache.js';
export { isCacheable, type ResponseSource, type OcspAnswer, type HttpCaching } from './source.js';
export { OCSP_RESPONSE_VALIDITY_MS, UNKNOWN_RESPONSE_VALIDITY_MS, type ResponderCredentials, type DelegatedResponder, type StatusReader } from './live-signer.js';
export type { PresignOptions, PresignReport } from './presigner.js';
export type { OcspUpdaterOptions, OcspUpdaterReport, PresignMode } from './updater.js';

export type { OcspStorage, OcspResponseTable } from './ports.js';

export interface OcspServiceDeps {
  /** Reads of the CA's data and the OCSP side's own table (ocsp/ports.ts). */
  storage: OcspStorage;
  clock: Clock;
  /** The CAs' delegated responders (ca/ocsp-responder-certificates.ts). */
  responders: ResponderCredentials;
  /** The status-change feed this process follows (shared with the CRL updater). */
  feed: StatusChangeFeed;
  /** Memory for pre-signed responses (default 256 MiB); the store keeps the rest. */
  cacheBytes?: number;
  /** Told about internal failures (logging). */
  onError?: (error: unknown) => void;
}

/** The OCSP side of the service: the responder, the pre-signing job and the background updater. */
export interface OcspService {
  readonly responder: OcspResponder;
  /** Signs responses ahead of time (`jpki ocsp presign`, benchmarks). */
  presign(options?: PresignOptions): Promise<PresignReport>;
  /** Starts the background job (responder renewal, pre-signing in 'all' mode, pruning). */
  startUpdater(options?: OcspUpdaterOptions): OcspUpdater;
  /** What the in-memory tier holds: responses, their DER bytes, and the bytes counted against the budget. */
  memory(): { entries: number; responseBytes: number; budgetBytes: number; maxBytes: number };
  /** Resolves once every status change committed so far has been applied here (tests). */
  sync(): Promise<void>;
  /** A CA was added in this process (a promised prefectural CA): the responder answers for it at once. */
  issuersChanged(): Promise<void>;
  /** Stops the job and writes pending responses to the store. */
  close(): Promise<void>;
}

export function createOcspService(deps: OcspServiceDeps): OcspService {
  const { storage, clock, feed } = deps;
  const issuers = new IssuerIndex(storage.issuers, clock);
  const live = new LiveSigner({ issuers, statuses: storage.statuses, responders: deps.responders, clock });
  const position = () => feed.position;
  /**
   * Loads a CA's delegated responder (its key: an scrypt-protected file, or a token session) ahead of need,
   * once: a node that so far served only stored responses must not pay that when a revocation makes it
   * re-sign — the revocation would show late (seconds on a loaded machine).
   */
  const warmed = new Set<string>();
  const warm = (caId: string) => {
    if (warmed.has(caId)) return;
    warmed.add(caId);
    void deps.responders.current(caId).catch(() => warmed.delete(caId));
  };
  const maxBytes = deps.cacheBytes ?? 256 * 2 ** 20;
  const cache = new ResponseCache(maxBytes);
  const stored = new StoredResponses({
    cache,
    storage: storage.responses,
    issuers,
    clock,
    position,
    onStoreHit: warm,
  });
  const source = filterIssuers(signOnMiss(requireFresh(stored, clock), { live, stored, issuers, position }), issuers);
  const responder = new OcspResponder({
    source,
    stored,
    clock,
    beforeFirstRequest: async () => {
      await Promise.all([feed.start(), issuers.ready()]);
      // the responders already in use, in the background
      void (async () => {
        for (const i of issuers.all()) if (await storage.responderInUse(i.caId).catch(() => false)) warm(i.caId);
      })();
    },
    ...(deps.onError ? { onError: deps.onError } : {}),
  });
  const presigner = new Presigner({ responses: storage.responses, issuers, live, stored, clock, position });

  /** A revocation anywhere: drop what memory holds for the certificate, then re-sign its responses at once. */
  const unsubscribe = feed.subscribe(async (changes: readonly StatusChange[]) => {
    await issuers.ready();
    const resign: { change: StatusChange; certIds: Buffer[] }[] = [];
    for (const change of changes) {
      const removed = stored.invalidate(`${change.caId}:${change.serial}`, change.id, change.status === 'issued');
      if (change.status === 'revoked') resign.push({ change, certIds: removed.map((r) => r.certId) });
    }
    for (const { change, certIds } of resign) {
      const issuer = issuers.get(change.caId);
      if (!issuer) continue;
      const canonical = encodeCertId('sha1', issuer, change.serial);
      const unique = new Map<string, Buffer>([[canonical.toString('latin1'), canonical], ...certIds.map((c): [string, Buffer] => [c.toString('latin1'), c])]);
      for (const der of unique.values()) {
        try {
          const certId: CertId = parseCertId(der);
          stored.save(issuer, certId, await live.signSingle(issuer, certId), change.id);
        } catch (e) {
          deps.onError?.(e);
        }
      }
    }
  });

  let updater: OcspUpdater | undefined;
  return {
    responder,
    presign: (options) => presigner.run(options),
    startUpdater(options) {
      updater ??= new OcspUpdater({ storage, clock, responders: deps.responders, presigner, ...(deps.onError ? { onError: deps.onError } : {}) }, options);
      updater.start();
      return updater;
    },
    memory: () => ({ entries: cache.size, responseBytes: cache.responseBytes, budgetBytes: cache.usedBytes, maxBytes }),
    sync: () => feed.poll(),
    issuersChanged: () => issuers.refresh(),
    async close() {
      unsubscribe();
      await updater?.stop();
      await stored.flush();
    },
  };
}
