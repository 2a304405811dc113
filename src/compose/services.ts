import { systemClock, type Clock } from '../common/clock.js';
import { AuditTrail, AUDIT_KEY_LABEL } from '../audit/trail.js';
import type { CardIssuer } from '../card/index.js';
import { CertificationAuthorities } from '../ca/certification-authorities.js';
import { RegisterEventHandler } from '../ca/register-events.js';
import { CrlPublisher, storedCrl } from '../ca/crl-publisher.js';
import { CrlUpdater } from '../ca/crl-updater.js';
import { OcspResponderCertificates } from '../ca/ocsp-responder-certificates.js';
import { createOcspService, type OcspService, type OcspStorage } from '../ocsp/index.js';
import { publicationUrls, DEFAULT_PUBLIC_URL, type PublicationUrls } from '../ca/urls.js';
import { formatPkcs11Uri, formatSoftUri, openKeyManager, type KeyManager } from '../kms/index.js';
import type { KeyPairsAhead } from '../kms/key-pairs-ahead.js';
import { localReads, openReadStore, scoped, StatusChangeFeed, type ReadStore, type Store } from '../store/index.js';
import { municipalityByCode, ResidentRegister } from '../register/index.js';
import { createCounter, deviceFactory, type Counter } from '../counter/index.js';
import { kmsCardIssuer } from './card-issuer.js';
import { frontDoor } from './front-door.js';
import type { InstallationConfig } from './data-dir.js';
import { openInstallation, type InstallationLocation } from './installation.js';
import { kmsConfigFor } from './kms-config.js';

export { kmsConfigFor, pkcs11Pin } from './kms-config.js';
import { Portal } from '../portal/index.js';
import type { Agency } from '../agency/index.js';
import { createAgency, DEMO_AGENCY_STAFF_PASSWORD } from './agency.js';
import { isJpkiError } from '../common/errors.js';

export type { InstallationLocation } from './installation.js';
export { databaseUrlFor } from './installation.js';

/**
 * Everything a command or the server works with, opened once and closed once (the composition root). Each
 * module below was handed only its own ports (ca/ports.ts, counter/ports.ts, ocsp/ports.ts, the register's
 * own tables); `store` is the composition root's own handle — for its jobs, maintenance commands and tests,
 * never given to a module.
 */
export interface Services {
  readonly dataDir: string;
  readonly config: InstallationConfig;
  readonly store: Store;
  readonly keys: KeyManager;
  readonly clock: Clock;
  readonly urls: PublicationUrls;
  readonly publicUrl: string;
  readonly ca: CertificationAuthorities;
  readonly crls: CrlPublisher;
  /** Stored CRLs as the HTTP edge serves them: from the read replica with `--read-db`, else the store. */
  readonly crlReads: Pick<CrlPublisher, 'stored'>;
  /** The streaming replica OCSP and CRL reads come from (`jpki serve --read-db URL`), if any. */
  readonly readStore?: ReadStore;
  /** Issuances and revocations committed anywhere, as they happen (OCSP and the CRL updater follow it). */
  readonly statusFeed: StatusChangeFeed;
  /** The CAs' delegated OCSP responder certificates. */
  readonly ocspResponders: OcspResponderCertificates;
  /** The OCSP responder and its jobs (docs/ocsp.md). */
  readonly ocsp: OcspService;
  /** Keeps the CRLs current (started by `jpki serve`). */
  readonly crlUpdater: CrlUpdater;
  /** The Basic Resident Register (docs/counter.md). */
  readonly register: ResidentRegister;
  /** The municipal counter: operators, issuance, revocation, PIN services (docs/counter.md). */
  readonly counter: Counter;
  /** The CA side of the register's change events: revokes what a change invalidates. */
  readonly registerEvents: RegisterEventHandler;
  /** The audit trail's checkpoints and verification (docs/ca.md). */
  readonly audit: AuditTrail;
  /** The card issuer, its master secret in the key store. */
  readonly cardIssuer: CardIssuer;
  /** The public portal and its online window (docs/portal.md). */
  readonly portal: Portal;
  /** The sample agency e-application site (docs/agency.md). */
  readonly agency: Agency;
  /** The agency staff page's password (JPKI_AGENCY_STAFF_PASSWORD; the demo's default otherwise). */
  readonly agencyStaffPassword: string;
  /** The local client agent the portal's pages use (JPKI_AGENT_URL; default http://127.0.0.1:8741). */
  readonly agentUrl: string;
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Overrides of the saved configuration (from `jpki init` / `jpki serve` options). */
  config?: InstallationConfig;
  /** Whether a missing data directory and database may be created (default true; the CLI's commands other than init and serve say false). */
  create?: boolean;
  publicUrl?: string;
  clock?: Clock;
  /** Where residents' client agents listen (the portal's pages call it); JPKI_AGENT_URL, else 127.0.0.1:8741. */
  agentUrl?: string;
  /** Memory for pre-signed OCSP responses, bytes (JPKI_OCSP_CACHE_MB; default 256 MiB); the store keeps the rest. */
  ocspCacheBytes?: number;
  /**
   * A PostgreSQL streaming replica of the store (`jpki serve --read-db URL`): the OCSP responder reads
   * certificates' status, issuers and stored responses there and follows the status feed there by polling;
   * the HTTP edge serves stored CRLs from it. Everything written still goes to the primary.
   */
  readDatabaseUrl?: string;
  /** Key pairs the CLI started generating before the installation opened (a first start), for the key store to take. */
  keyPairsAhead?: KeyPairsAhead;
}

/** The OCSP memory budget: given, else JPKI_OCSP_CACHE_MB, else the service's default. */
function ocspCacheOption(bytes: number | undefined): { cacheBytes?: number } {
  if (bytes !== undefined) return { cacheBytes: bytes };
  const mb = Number(process.env.JPKI_OCSP_CACHE_MB);
  return process.env.JPKI_OCSP_CACHE_MB && Number.isFinite(mb) && mb >= 0 ? { cacheBytes: Math.floor(mb * 2 ** 20) } : {};
}

/** A failure in a background job (no caller to throw to): one line on stderr, no stack (JPKI_DEBUG adds it). */
function reportBackgroundError(job: string): (e: unknown) => void {
  return (e) => {
    const detail = process.env.JPKI_DEBUG && e instanceof Error ? (e.stack ?? e.message) : e instanceof Error ? e.message : String(e);
    process.stderr.write(`jpki: ${job}: ${detail}\n`);
  };
}

/** The OCSP side's ports over the store (ocsp/ports.ts): reads of the CA's data, its own response table. */
export function ocspStorageOf(store: Store, reads: Pick<Store, 'authorities' | 'certificates' | 'ocspResponses'> = store): OcspStorage {
  const own = scoped(store, ['ocspResponses']);
  return {
    issuers: { list: () => reads.authorities.list() },
    statuses: { status: (caId, serial) => reads.certificates.status(caId, serial) },
    responses: {
      getChecked: (caId, serial, hash) => reads.ocspResponses.getChecked(caId, serial, hash),
      putAll: (responses) =>
        own.transaction(async (tx) => {
          for (const r of responses) await tx.ocspResponses.put(r);
        }),
      presignCandidates: (...a) => own.ocspResponses.presignCandidates(...a),
      pruneExpired: (before) => own.ocspResponses.pruneExpired(before),
    },
    responderInUse: async (caId) => (await store.ocspResponders.latest(caId)) !== undefined,
    pruneChanges: (before) => store.statusChanges.prune(before),
  };
}

export async function openServices(globals: InstallationLocation, options: OpenOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const { config, store } = await openInstallation(globals, { clock, ...(options.config ? { config: options.config } : {}), ...(options.create !== undefined ? { create: options.create } : {}) });
  let keys: KeyManager;
  try {
    keys = await openKeyManager(kmsConfigFor(globals.dataDir, config), options.keyPairsAhead);
  } catch (e) {
    await store.close();
    throw e;
  }
  const publicUrl = options.publicUrl ?? process.env.JPKI_PUBLIC_URL ?? config.publicUrl ?? DEFAULT_PUBLIC_URL;
  const urls = publicationUrls(publicUrl);
  // Each module gets its own tables (scoped) and the narrow ports it declares, nothing else.
  const caStore = scoped(store, ['authorities', 'certificates', 'crls', 'settings', 'statusChanges', 'ocspResponders', 'ledger', 'registerEventOutcomes', 'record', 'recordAll']);
  const register = new ResidentRegister({ store: scoped(store, ['residents', 'record']), clock });
  // The CA asks the CRL updater (made below) to publish a partition's CRLs before it signs into it.
  const partitions = { updater: undefined as CrlUpdater | undefined };
  const ca = new CertificationAuthorities({
    store: caStore,
    keys,
    clock,
    urls,
    municipalities: { byCode: municipalityByCode },
    crlPartitions: { ensure: (caId, m) => partitions.updater!.ensurePartition(caId, m) },
  });
  const crls = new CrlPublisher({ store: scoped(store, ['authorities', 'certificates', 'crls', 'ledger', 'record']), clock, urls, authorities: frontDoor(ca, ['get', 'signerFor']) });
  const statusFeed = new StatusChangeFeed(store.db, store.statusChanges);
  const ocspResponders = new OcspResponderCertificates({ store: caStore, keys, clock, authorities: frontDoor(ca, ['get', 'signerFor']) });
  // --read-db: the responder's reads and its feed on the replica (the feed polls: NOTIFY does not reach a standby)
  let readStore: ReadStore | undefined;
  try {
    if (options.readDatabaseUrl) readStore = await openReadStore(options.readDatabaseUrl, { clock });
  } catch (e) {
    await keys.close().catch(() => undefined);
    await store.close();
    throw e;
  }
  const ocspFeed = readStore ? new StatusChangeFeed(readStore.db, readStore.statusChanges) : statusFeed;
  // on SQLite the responder reads through a read-only connection of its own, with a small page cache
  const ocspReads = readStore ? undefined : localReads(store);
  const ocsp = createOcspService({
    storage: ocspStorageOf(store, readStore ?? ocspReads?.reads),
    clock,
    responders: frontDoor(ocspResponders, ['current']),
    feed: ocspFeed,
    onError: reportBackgroundError('ocsp'),
    ...ocspCacheOption(options.ocspCacheBytes),
  });
  const crlUpdater = new CrlUpdater({ store: caStore, clock, publisher: frontDoor(crls, ['generate', 'current']), feed: statusFeed, onError: reportBackgroundError('crl-updater') });
  partitions.updater = crlUpdater;
  const registerEvents = new RegisterEventHandler({ store: caStore, events: frontDoor(register, ['eventsAfter']), authorities: frontDoor(ca, ['revokeWithin']), clock, onError: reportBackgroundError('register-events') });
  const cardIssuer = kmsCardIssuer(keys, globals.dataDir);
  const counter = createCounter({
    store: scoped(store, ['counterRecords', 'operators', 'submissions', 'record']),
    clock,
    ca: frontDoor(ca, ['reserve', 'sign', 'confirm', 'abandon', 'revokeAll', 'certificatesOf', 'liveOnCard', 'findCertificate', 'get']),
    register: frontDoor(register, ['get', 'find', 'search', 'events', 'facts', 'add', 'move', 'rename', 'correct', 'death', 'count']),
    registerEvents: frontDoor(registerEvents, ['settle']),
    devices: deviceFactory({ dataDir: globals.dataDir }),
    cardIssuer,
    publicUrl,
  });
  const audit = new AuditTrail({
    log: store.audit,
    keys,
    keyUri: config.kms.type === 'soft' ? formatSoftUri(AUDIT_KEY_LABEL) : formatPkcs11Uri({ token: config.kms.token, object: AUDIT_KEY_LABEL }),
    clock,
    dataDir: globals.dataDir,
    certificates: store.certificates,
  });
  // The portal sees the CA only through its front door: the CA list, one certificate's record, revoke.
  const caForPortal = frontDoor(ca, ['list', 'findCertificate', 'revoke']);
  const portal = new Portal({
    authorities: () => caForPortal.list(),
    certificateStatus: async (caId, serial) => {
      try {
        return await caForPortal.findCertificate(serial, caId);
      } catch (e) {
        if (isJpkiError(e) && e.code === 'CERTIFICATE_NOT_FOUND') return null;
        throw e;
      }
    },
    revoke: (r) => caForPortal.revoke(r),
    clock,
    urls,
  });
  // The agency: its own table, and the CAs only to read the trust anchor and the cross-certificates.
  const agency = createAgency({
    applications: scoped(store, ['agencyApplications']).agencyApplications,
    authorities: frontDoor(ca, ['list', 'certificates']),
    clock,
  });
  const agentUrl = options.agentUrl ?? process.env.JPKI_AGENT_URL ?? 'http://127.0.0.1:8741';
  return {
    dataDir: globals.dataDir,
    config,
    store,
    keys,
    clock,
    urls,
    publicUrl,
    ca,
    crls,
    crlReads: readStore ? { stored: (caId, scope) => storedCrl(readStore.crls, caId, scope) } : frontDoor(crls, ['stored']),
    ...(readStore ? { readStore } : {}),
    statusFeed,
    ocspResponders,
    ocsp,
    crlUpdater,
    register,
    counter,
    registerEvents,
    audit,
    cardIssuer,
    portal,
    agency,
    agencyStaffPassword: process.env.JPKI_AGENCY_STAFF_PASSWORD || DEMO_AGENCY_STAFF_PASSWORD,
    agentUrl,
    close: async () => {
      await ca.stopCompleting();
      await audit.stop();
      await registerEvents.stop();
      await crlUpdater.stop();
      await ocsp.close();
      statusFeed.stop();
      ocspFeed.stop();
      await keys.close().catch(() => undefined);
      await readStore?.close();
      await ocspReads?.close();
      await store.close();
    },
  };
}
