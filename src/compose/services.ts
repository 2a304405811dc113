import { join } from 'node:path';
import { readFileSync, existsSync } from 'node:fs';
import { systemClock, type Clock } from '../common/clock.js';
import { JpkiError } from '../common/errors.js';
import { CertificationAuthorities } from '../ca/certification-authorities.js';
import { CrlPublisher } from '../ca/crl-publisher.js';
import { CrlUpdater } from '../ca/crl-updater.js';
import { OcspResponderCertificates } from '../ca/ocsp-responder-certificates.js';
import { createOcspService, type OcspService } from '../ocsp/index.js';
import { publicationUrls, DEFAULT_PUBLIC_URL, type PublicationUrls } from '../ca/urls.js';
import { openKeyManager, type KeyManager, type KmsConfig } from '../kms/index.js';
import { StatusChangeFeed, type Store } from '../store/index.js';
import { ResidentRegister } from '../register/index.js';
import { createCounter, deviceFactory, type Counter } from '../counter/index.js';
import { issuerMasterKey } from '../reader/index.js';
import type { InstallationConfig } from './data-dir.js';
import { openInstallation, type InstallationLocation } from './installation.js';

export type { InstallationLocation } from './installation.js';
export { databaseUrlFor } from './installation.js';

/** Everything a command or the server works with, opened once and closed once (the composition root). */
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
  close(): Promise<void>;
}

export interface OpenOptions {
  /** Overrides of the saved configuration (from `jpki init` / `jpki serve` options). */
  config?: InstallationConfig;
  /** Whether a missing data directory and database may be created (default true; the CLI's commands other than init and serve say false). */
  create?: boolean;
  publicUrl?: string;
  clock?: Clock;
}

/** The PKCS#11 user PIN: env JPKI_PKCS11_PIN, else the PIN file written at init (mode 0600). */
export function pkcs11Pin(dataDir: string): string {
  if (process.env.JPKI_PKCS11_PIN) return process.env.JPKI_PKCS11_PIN;
  const file = join(dataDir, 'keys', 'pkcs11.pin');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  throw new JpkiError('PKCS11_PIN_MISSING', 'unauthenticated', 'the PKCS#11 token PIN is needed: set JPKI_PKCS11_PIN');
}

export function kmsConfigFor(dataDir: string, config: InstallationConfig): KmsConfig {
  if (config.kms.type === 'soft') return { type: 'soft', dir: join(dataDir, 'keys') };
  return { type: 'pkcs11', module: config.kms.module, token: config.kms.token, pin: pkcs11Pin(dataDir) };
}

/** A failure in a background job (no caller to throw to): one line on stderr, no stack (JPKI_DEBUG adds it). */
function reportBackgroundError(job: string): (e: unknown) => void {
  return (e) => {
    const detail = process.env.JPKI_DEBUG && e instanceof Error ? (e.stack ?? e.message) : e instanceof Error ? e.message : String(e);
    process.stderr.write(`jpki: ${job}: ${detail}\n`);
  };
}

export async function openServices(globals: InstallationLocation, options: OpenOptions = {}): Promise<Services> {
  const clock = options.clock ?? systemClock;
  const { config, store } = await openInstallation(globals, { clock, ...(options.config ? { config: options.config } : {}), ...(options.create !== undefined ? { create: options.create } : {}) });
  let keys: KeyManager;
  try {
    keys = await openKeyManager(kmsConfigFor(globals.dataDir, config));
  } catch (e) {
    await store.close();
    throw e;
  }
  const publicUrl = options.publicUrl ?? process.env.JPKI_PUBLIC_URL ?? config.publicUrl ?? DEFAULT_PUBLIC_URL;
  const urls = publicationUrls(publicUrl);
  // The CA asks the CRL updater (made below) to publish a partition's CRLs before it signs into it.
  const partitions = { updater: undefined as CrlUpdater | undefined };
  const ca = new CertificationAuthorities({ store, keys, clock, urls, crlPartitions: { ensure: (caId, m) => partitions.updater!.ensurePartition(caId, m) } });
  const crls = new CrlPublisher({ store, clock, urls, authorities: ca });
  const statusFeed = new StatusChangeFeed(store.db, store.statusChanges);
  const ocspResponders = new OcspResponderCertificates({ store, keys, clock, authorities: ca });
  const ocsp = createOcspService({ store, clock, responders: ocspResponders, feed: statusFeed, onError: reportBackgroundError('ocsp') });
  const crlUpdater = new CrlUpdater({ store, clock, publisher: crls, feed: statusFeed, onError: reportBackgroundError('crl-updater') });
  partitions.updater = crlUpdater;
  const register = new ResidentRegister({ store, clock });
  const counter = createCounter({
    store,
    clock,
    ca,
    register,
    devices: deviceFactory({ dataDir: globals.dataDir }),
    issuerMasterKey: () => issuerMasterKey(globals.dataDir, { create: false }),
    publicUrl,
  });
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
    statusFeed,
    ocspResponders,
    ocsp,
    crlUpdater,
    register,
    counter,
    close: async () => {
      await crlUpdater.stop();
      await ocsp.close();
      statusFeed.stop();
      await keys.close().catch(() => undefined);
      await store.close();
    },
  };
}
