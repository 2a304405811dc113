import { randomBytes, type KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import type { Clock } from '../common/clock.js';
import { pooledRandomBytes } from '../common/random-pool.js';
import type { KeyManager } from '../kms/index.js';
import { verifyCsr, parsePublicKey, checkKeyStrength } from '../pki/csr.js';
import { keyIdentifierOf } from '../pki/extensions.js';
import { loadPublicKey } from '../pki/public-key.js';
import {
  caValidity,
  crossCertificateTbs,
  residentCertificateTbs,
  residentSubject,
  residentValidity,
  selfSignedCaTbs,
  type ResidentCertificateKind,
} from '../pki/jpki-profile.js';
import { encodeName } from '../pki/names.js';
import { prefectureByCode, PREFECTURES, type Prefecture } from '../pki/prefectures.js';
import { municipalityProblem, throwFactProblem, validateResidentFacts, type ResidentFacts, type ResidentFactsContext } from '../pki/resident-facts.js';
import { assembleSigned } from '../pki/signed.js';
import { DEFAULT_KEY_SPEC, defaultSignatureAlgorithm, type KeySpec, type SignatureAlgorithm, type Signer } from '../pki/signer.js';
import { lintCertificate } from '../pki/lint/index.js';
import type { AuditEntry, AuthorityRecord, CertificateKind, CertificateRecord, CertificateStatus, LedgerState, NewCertificate, Scoped } from '../store/index.js';
import { CaError } from './errors.js';
import { allAuthorities, crossLinks, JPKI_BRIDGE, JPKI_BRIDGE_ID, prefecturalCa, prefectureLinks, subjectDer, type AuthorityDefinition, type CrossLink } from './hierarchy.js';
import { LedgerWriter, tbsHash } from './ledger.js';
import type { CaStore, MunicipalityDirectory } from './ports.js';
import { newSerial, serialHex, normalizeSerial } from './serial.js';
import { pendingPrefectures, PROMISED_KEY, readPromised, type Promised } from './promised.js';
import { parseRevocationReason } from './revocation-reasons.js';
import type { PublicationUrls } from './urls.js';

/** Validity of CA certificates and cross-certificates, in years (J-LIS: 10). */
export const CA_VALIDITY_YEARS = 10;
/** Validity of resident certificates, in years (the guide: 3). */
export const RESIDENT_VALIDITY_YEARS = 3;
/** How long a reservation may stay unconfirmed before the sweeper revokes (or abandons) it. */
export const DEFAULT_RESERVATION_MS = 10 * 60_000;

export interface CaDependencies {
  store: CaStore;
  keys: KeyManager;
  clock: Clock;
  urls: PublicationUrls;
  /** The register's municipality lookup: the resident-facts lint and the subject's L=. */
  municipalities: MunicipalityDirectory;
  /** Deadline of a reservation (default 10 minutes). */
  reservationMs?: number;
  /**
   * Publishes a partition's CRL and its delta before the first certificate naming them is signed (the CRL
   * updater), so a relying party never gets a 404 for a URL in a certificate.
   */
  crlPartitions?: { ensure(caId: string, municipality: string): Promise<void> };
  /** How long a request waits for a promised CA another process is making (default 30 s). */
  promisedCaWaitMs?: number;
}

/** A request the counter (or `jpki ca issue`) hands the CA: decisions about who already made. */
export interface IssuanceRequest {
  /** JIS prefecture code of the resident's prefecture: its governor's CA issues. */
  prefecture: string;
  kind: ResidentCertificateKind;
  /** The subject key: a PKCS#10 CSR (self-signature checked) or a bare SubjectPublicKeyInfo (DER or PEM). */
  publicKey: { csr: Uint8Array | string } | { spki: Uint8Array | string };
  /** The four facts from the resident register; required for 'sign', refused for 'auth'. */
  facts?: ResidentFacts;
  /** JIS local-government code: the CRL partition and the L= of the subject. */
  municipality?: string;
  /** Romanised municipality name for the subject's second L= (e.g. Minato-ku). */
  municipalityName?: string;
  residentId?: string;
  cardId?: string;
  /** Who asks, for the audit log: 'cli', 'operator:<name>', … */
  actor: string;
}

/**
 * A certificate the CA has committed to but not signed: its serial, TBS hash and purpose are in the ledger
 * (durably) before `sign` may be called. Single use, like Boulder's issuance token.
 */
export interface CertificateReservation {
  readonly ledgerId: number;
  readonly caId: string;
  readonly serial: string;
  readonly kind: CertificateKind;
  /** Hex SHA-256 of the TBSCertificate that will be signed. */
  readonly tbsHash: string;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** Unconfirmed after this, the sweeper revokes it. */
  readonly deadline: Date;
  readonly residentId: string | null;
  readonly cardId: string | null;
  readonly crlPartition: string | null;
  readonly actor: string;
}

/** A signed certificate, recorded in the store (ledger state 'signed' or 'confirmed'). */
export interface SignedCertificate extends CertificateReservation {
  readonly der: Buffer;
  readonly state: Extract<LedgerState, 'signed' | 'confirmed'>;
}

export interface RevocationRequest {
  serial: string;
  /** Needed only when the serial exists under several CAs. */
  caId?: string;
  reason: string | number;
  actor: string;
}

export interface InitializeOptions {
  keySpec?: KeySpec;
  /** Prefectures to create (default: all 47). */
  prefectures?: readonly Prefecture[];
  actor: string;
  /** Called as each CA's key pair and certificate are made (`done` of `total`), for a progress line. */
  onProgress?: (done: number, total: number) => void;
  /**
   * The prefectures (JIS codes) whose CAs are made now; the rest of `prefectures` are promised and made later
   * by `complete`. Default: all of them now.
   */
  firstPrefectures?: readonly string[];
}

export interface InitializeResult {
  created: boolean;
  authorities: number;
  crossCertificates: number;
  initializedAt: string;
  /** Prefectural CAs promised and not made yet (`complete` makes them). */
  pending: number;
}

export interface CompleteOptions {
  actor: string;
  /** CAs made at once (default: one per core). */
  lanes?: number;
  /** Runs once a CA is stored, before it counts as ready (its first CRLs, the OCSP issuer list). */
  afterEach?: (caId: string) => Promise<void>;
  onProgress?: (done: number, total: number) => void;
}

export interface CompleteResult {
  /** CAs this run made (one made by another process meanwhile is not counted). */
  created: number;
}

/** A CA being made: its key's signer, its self-signed TBS and its record (nothing stored yet). */
interface NewAuthority {
  def: AuthorityDefinition;
  signer: Signer;
  serial: string;
  tbs: Buffer;
  record: Omit<AuthorityRecord, 'crlNumber' | 'certificate'>;
}

/** What a cross-certificate needs of either side: its name, key identifier and signer. */
type CrossParty = Pick<NewAuthority, 'def' | 'signer'> & { record: Pick<AuthorityRecord, 'subject' | 'keyId'> };

interface NewCross {
  issuerId: string;
  subjectId: string;
  serial: string;
  tbs: Buffer;
  signer: Signer;
  notBefore: number;
  notAfter: number;
}

export interface SweepReport {
  /** Signed but never confirmed: revoked. */
  revoked: { caId: string; serial: string }[];
  /** Never signed (or the signature never left the process): closed. */
  abandoned: { caId: string; kind: string; serial: string }[];
}

/** The CA's own repositories inside one of its transactions. */
export type CaTransaction = Scoped<Exclude<keyof CaStore, 'transaction'>>;

interface Pending {
  tbs: Buffer;
  signer: Signer;
  certificate: Omit<NewCertificate, 'der' | 'issuedAt'>;
  details: Record<string, unknown>;
}

const INITIALIZED_KEY = 'ca.initialized_at';
/** How long a request waits for a promised CA that another process is making, before it is told to retry. */
const PROMISED_CA_WAIT_MS = 30_000;

/** Key labels carry a generation suffix: a half-finished earlier attempt never blocks a new one. */
function keyGeneration(now: Date): string {
  return `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;
}
/** Reason of a certificate signed but never delivered (confirmed): the holder never took it into use. */
const UNDELIVERED_REASON = 'cessationOfOperation';

/**
 * The certification authorities of the service: the 47 prefectural governors' CAs, the JPKI bridge, the
 * government bridge and an agency CA. This module signs; it does not decide who gets a certificate (the
 * counter does, Boulder's RA/CA split). It keeps a ledger: reserve → sign → confirm / abandon, so nothing
 * is signed that is not recorded first (docs/ca.md, "The ledger and the issuance cycle").
 */
export class CertificationAuthorities {
  private readonly signers = new Map<string, Promise<Signer>>();
  private readonly byPrefecture = new Map<string, AuthorityRecord>();
  private readonly altNames = new Map<string, Buffer>();
  private readonly pending = new WeakMap<CertificateReservation, Pending>();
  private readonly writer: LedgerWriter;
  private readonly reservationMs: number;
  /** The promised prefectures this process will make next (`complete`), and the ones it is making. */
  private readonly completionQueue: string[] = [];
  private readonly underway = new Map<string, Promise<boolean>>();
  private completion: Promise<CompleteResult> | undefined;
  private completionStopped = false;

  constructor(private readonly deps: CaDependencies) {
    this.writer = new LedgerWriter(deps.store, deps.clock);
    this.reservationMs = deps.reservationMs ?? DEFAULT_RESERVATION_MS;
  }

  private get store(): CaStore {
    return this.deps.store;
  }

  // ---- the hierarchy -----------------------------------------------------------------------------------

  async isInitialized(): Promise<boolean> {
    return (await this.store.settings.get(INITIALIZED_KEY)) !== undefined;
  }

  /**
   * Creates the hierarchy once: keys in the key store, self-signed certificates, cross-certificates both ways
   * on every edge. Every certificate is reserved in the ledger before it is signed; everything is stored in
   * one transaction at the end. Running it again changes nothing and says so (`created: false`).
   *
   * With `firstPrefectures`, only those prefectural CAs are created now (with the bridges and the agency); the
   * others are recorded as promised and made by `complete` — `jpki serve` on an empty data directory opens
   * its port after the first few and creates the rest while it already serves (issue 11: first start ≤ 5 s).
   */
  async initialize(options: InitializeOptions): Promise<InitializeResult> {
    const existing = await this.store.settings.get(INITIALIZED_KEY);
    if (existing !== undefined) {
      return {
        created: false,
        authorities: await this.store.authorities.count(),
        crossCertificates: (await this.store.certificates.list({ kind: 'cross' })).length,
        initializedAt: existing,
        pending: (await this.pendingPrefectures()).length,
      };
    }
    const spec = options.keySpec ?? DEFAULT_KEY_SPEC;
    const now = this.deps.clock.now();
    const promised = options.prefectures ?? PREFECTURES;
    const first = options.firstPrefectures ? promised.filter((p) => options.firstPrefectures!.includes(p.code)) : promised;
    const definitions = allAuthorities(first);
    const validity = caValidity(now, CA_VALIDITY_YEARS);
    const generation = keyGeneration(now);

    // All key pairs at once: the key store works on the thread pool (or the token's sessions), so the
    // generation spreads over every core instead of one key after another (issue 11: first start ≤ 5 s).
    // Nothing is signed here: the certificates are reserved in the ledger first (below).
    let done = 0;
    options.onProgress?.(0, definitions.length);
    const created = await Promise.all(
      definitions.map(async (def) => {
        const c = await this.newAuthority(def, spec, generation, validity, now);
        options.onProgress?.(++done, definitions.length);
        return c;
      }),
    );
    const byId = new Map(created.map((c) => [c.def.id, c]));
    const crosses = crossLinks(definitions).map((link) => this.crossCertificate(link, byId.get(link.issuer.id)!, byId.get(link.subject.id)!, validity));
    await this.recordSignStore(created, crosses, options.actor, now, async (tx) => {
      // Two initialisations racing: the loser finds the flag set and rolls back everything it wrote.
      if ((await tx.settings.get(INITIALIZED_KEY)) !== undefined) throw new CaError('CA_INIT_RACE', 'another process initialised the CAs at the same time; nothing of this run was kept');
      await tx.settings.set(INITIALIZED_KEY, now.toISOString());
      await tx.settings.set(PROMISED_KEY, JSON.stringify({ keySpec: spec, prefectures: promised.map((p) => p.code) } satisfies Promised));
      return [{ actor: options.actor, action: 'ca.init', target: 'hierarchy', details: { authorities: created.length, crossCertificates: crosses.length, keySpec: spec, pending: promised.length - first.length } }];
    });
    return { created: true, authorities: created.length, crossCertificates: crosses.length, initializedAt: now.toISOString(), pending: promised.length - first.length };
  }

  /** The prefectural CAs the hierarchy was promised at init and does not have yet (codes, in JIS order). */
  pendingPrefectures(): Promise<string[]> {
    return pendingPrefectures(this.store);
  }

  /**
   * Creates the prefectural CAs promised at init and still missing, `lanes` at a time (default: one per core),
   * each in a transaction of its own with its pair of cross-certificates to the JPKI bridge; `afterEach` runs
   * before the CA counts as ready (the serve command publishes its first CRLs there). A prefecture a request
   * waits for (`forPrefecture`) goes first. One completion per process at a time; one that another process
   * won is taken as done. Resumable: whatever a stopped run did not create, the next one does.
   */
  complete(options: CompleteOptions): Promise<CompleteResult> {
    if (this.completionStopped) return Promise.resolve({ created: 0 });
    this.completion ??= this.runCompletion(options).finally(() => (this.completion = undefined));
    return this.completion;
  }

  /**
   * Stops a running completion after the CAs under way, and any later one before it starts (a stopping
   * server: its stop may come before its completion has begun), and waits for it.
   */
  async stopCompleting(): Promise<void> {
    this.completionStopped = true;
    this.completionQueue.length = 0;
    await this.completion?.catch(() => undefined);
  }

  private async runCompletion(options: CompleteOptions): Promise<CompleteResult> {
    const promised = await readPromised(this.store.settings);
    const missing = await this.pendingPrefectures();
    if (!promised || missing.length === 0) return { created: 0 };
    const bridge = await this.get(JPKI_BRIDGE_ID);
    const bridgeSigner = await this.signerFor(bridge);
    if (this.completionStopped) return { created: 0 };
    this.completionQueue.splice(0, this.completionQueue.length, ...missing);
    let created = 0;
    options.onProgress?.(0, missing.length);
    const lane = async (): Promise<void> => {
      for (let code = this.completionQueue.shift(); code !== undefined; code = this.completionQueue.shift()) {
        const job = this.createPromisedPrefecture(code, promised.keySpec, bridge, bridgeSigner, options);
        this.underway.set(code, job);
        try {
          if (await job) created++;
        } finally {
          this.underway.delete(code);
        }
        options.onProgress?.(missing.length - this.completionQueue.length - this.underway.size, missing.length);
      }
    };
    const lanes = Math.max(1, options.lanes ?? availableParallelism());
    const results = await Promise.allSettled(Array.from({ length: Math.min(lanes, missing.length) }, lane));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.completionQueue.length = 0;
      throw failed.reason;
    }
    return { created };
  }

  /** One promised prefectural CA and its two cross-certificates with the JPKI bridge; false when another process made it first. */
  private async createPromisedPrefecture(code: string, spec: KeySpec, bridge: AuthorityRecord, bridgeSigner: Signer, options: CompleteOptions): Promise<boolean> {
    if (await this.store.authorities.byPrefecture(code)) return false;
    const now = this.deps.clock.now();
    const validity = caValidity(now, CA_VALIDITY_YEARS);
    // nothing the bridge vouches for outlives the bridge
    if (validity.notAfter.getTime() > bridge.notAfter) validity.notAfter = new Date(bridge.notAfter);
    const def = prefecturalCa(prefectureByCode(code)!);
    const c = await this.newAuthority(def, spec, keyGeneration(now), validity, now);
    const bridgeSide: CrossParty = { def: JPKI_BRIDGE, signer: bridgeSigner, record: bridge };
    // the pair on the edge bridge ⇄ prefecture (the bridges' own edges exist since init)
    const crosses = prefectureLinks(def).map((link) => (link.issuer.id === def.id ? this.crossCertificate(link, c, bridgeSide, validity) : this.crossCertificate(link, bridgeSide, c, validity)));
    try {
      await this.recordSignStore([c], crosses, options.actor, now, async (tx) => {
        if (await tx.authorities.byPrefecture(code)) throw new CaError('CA_INIT_RACE', `another process created the CA of prefecture ${code} at the same time`, { prefecture: code });
        return [{ actor: options.actor, action: 'ca.complete', target: def.id, details: { prefecture: code, crossCertificates: crosses.length } }];
      });
    } catch (e) {
      if ((e as CaError).code === 'CA_INIT_RACE' || (await this.store.authorities.byPrefecture(code))) return false;
      throw e;
    }
    await options.afterEach?.(def.id);
    return true;
  }

  /** A new CA's key pair, self-signed TBS and record (nothing stored, nothing signed). */
  private async newAuthority(def: AuthorityDefinition, spec: KeySpec, generation: string, validity: { notBefore: Date; notAfter: Date }, now: Date): Promise<NewAuthority> {
    const algorithm = defaultSignatureAlgorithm(spec);
    const key = await this.deps.keys.createKey(`${def.id}-${generation}`, spec);
    const signer = await this.deps.keys.getSigner(key.uri, algorithm);
    const subject = subjectDer(def);
    const serial = newSerial();
    return {
      def,
      signer,
      serial: serialHex(serial),
      tbs: selfSignedCaTbs({ serial, signatureAlgorithm: algorithm, subject, subjectPublicKeyInfo: key.publicKey, ...validity }),
      record: {
        id: def.id,
        kind: def.kind,
        prefecture: def.prefecture?.code ?? null,
        name: def.name,
        nameEn: def.nameEn,
        subject,
        keyId: keyIdentifierOf(key.publicKey),
        keyUri: key.uri,
        signatureAlgorithm: algorithm,
        notBefore: validity.notBefore.getTime(),
        notAfter: validity.notAfter.getTime(),
        createdAt: now.getTime(),
      },
    };
  }

  /** The TBS of one cross-certificate of `link` (not signed yet). */
  private crossCertificate(link: CrossLink, issuer: CrossParty, subject: CrossParty, validity: { notBefore: Date; notAfter: Date }): NewCross {
    const serial = newSerial();
    const tbs = crossCertificateTbs({
      serial,
      signatureAlgorithm: issuer.signer.algorithm,
      issuer: { subject: issuer.record.subject, keyId: issuer.record.keyId },
      subject: subject.record.subject,
      subjectPublicKeyInfo: subject.signer.publicKey,
      ...validity,
      policies: link.policies,
      mappings: link.mappings,
      pointers: { crlDistributionPoints: [this.deps.urls.arl(issuer.def.id)], caIssuers: [this.deps.urls.caCertificate(issuer.def.id)] },
    });
    return { issuerId: issuer.def.id, subjectId: subject.def.id, serial: serialHex(serial), tbs, signer: issuer.signer, notBefore: validity.notBefore.getTime(), notAfter: validity.notAfter.getTime() };
  }

  /**
   * Record, then sign, then store: every certificate (self-signed and cross) is reserved in the ledger before
   * any key signs; the CAs, the cross-certificates, the confirmations and the audit records are stored in one
   * transaction, with `inside`'s checks and records.
   */
  private async recordSignStore(created: NewAuthority[], crosses: NewCross[], actor: string, now: Date, inside: (tx: CaTransaction) => Promise<AuditEntry[]>): Promise<void> {
    const deadline = now.getTime() + this.reservationMs;
    const toReserve = [
      ...created.map((c) => ({ caId: c.def.id, serial: c.serial, purpose: 'ca', subject: c.def.id, tbs: c.tbs })),
      ...crosses.map((x) => ({ caId: x.issuerId, serial: x.serial, purpose: 'cross', subject: x.subjectId, tbs: x.tbs })),
    ];
    const ledgerIds = await this.store.transaction(async (tx) => {
      const ids = await tx.ledger.reserve(
        toReserve.map((r) => ({ caId: r.caId, kind: 'certificate', serial: r.serial, purpose: r.purpose, subject: r.subject, tbsHash: tbsHash(r.tbs), actor, reservedAt: now.getTime(), deadline })),
      );
      if (ids.some((id) => id === undefined)) throw new CaError('SERIAL_COLLISION', 'a serial of the new CAs is taken; try again');
      await tx.recordAll(toReserve.map((r) => ({ actor, action: 'certificate.reserve', target: `${r.caId}/${r.serial}`, details: { purpose: r.purpose, subject: r.subject, tbsHash: tbsHash(r.tbs) } })));
      return ids as number[];
    });
    const selfSigned = await Promise.all(created.map(async (c) => ({ c, signature: await c.signer.sign(c.tbs) })));
    const crossSigned = await Promise.all(crosses.map(async (x) => ({ x, signature: await x.signer.sign(x.tbs) })));

    await this.store.transaction(async (tx) => {
      const audits: AuditEntry[] = [];
      const more = await inside(tx);
      for (const { c, signature } of selfSigned) {
        await tx.authorities.insert({ ...c.record, certificate: assembleSigned(c.tbs, c.record.signatureAlgorithm as SignatureAlgorithm, signature) });
        audits.push({
          actor,
          action: 'ca.create',
          target: c.def.id,
          details: { name: c.def.name, keyUri: c.record.keyUri, algorithm: c.record.signatureAlgorithm, serial: c.serial, notAfter: new Date(c.record.notAfter).toISOString(), tbsHash: tbsHash(c.tbs), signature: b64(signature) },
        });
      }
      await tx.certificates.insertAll(
        crossSigned.map(({ x, signature }) => ({
          caId: x.issuerId,
          serial: x.serial,
          kind: 'cross' as const,
          subjectCaId: x.subjectId,
          residentId: null,
          cardId: null,
          crlPartition: null,
          notBefore: x.notBefore,
          notAfter: x.notAfter,
          issuedAt: now.getTime(),
          der: assembleSigned(x.tbs, x.signer.algorithm, signature),
        })),
      );
      for (const { x, signature } of crossSigned)
        audits.push({ actor, action: 'certificate.issue', target: `${x.issuerId}/${x.serial}`, details: { kind: 'cross', subject: x.subjectId, tbsHash: tbsHash(x.tbs), signature: b64(signature) } });
      const confirmed = await tx.ledger.advance(ledgerIds, ['reserved'], 'confirmed', this.deps.clock.now().getTime());
      if (confirmed.size !== ledgerIds.length) throw reservationExpired(created.length > 1 ? 'the new hierarchy' : `the new CA ${created[0]?.def.id ?? ''}`);
      await tx.recordAll([...audits, ...more]);
    });
    for (const c of created) this.signers.set(c.def.id, Promise.resolve(c.signer));
  }

  async list(): Promise<AuthorityRecord[]> {
    return this.store.authorities.list();
  }

  async get(caId: string): Promise<AuthorityRecord> {
    const a = await this.store.authorities.get(caId);
    if (!a) {
      if (!(await this.isInitialized())) throw notInitialized();
      throw new CaError('CA_UNKNOWN', `no CA with id ${JSON.stringify(caId)} (see jpki ca list)`, { caId });
    }
    return a;
  }

  async forPrefecture(code: string): Promise<AuthorityRecord> {
    const p = prefectureByCode(code);
    if (!p) throw new CaError('PREFECTURE_UNKNOWN', `unknown prefecture ${JSON.stringify(code)}: use a JIS code from 01 to 47`, { prefecture: code });
    // A CA's identity (name, key, validity) never changes once created, so it is read once per process.
    const cached = this.byPrefecture.get(p.code);
    if (cached) return cached;
    let a = await this.store.authorities.byPrefecture(p.code);
    if (!a) {
      if (!(await this.isInitialized())) throw notInitialized();
      if ((await this.pendingPrefectures()).includes(p.code)) a = await this.promisedCa(p.code);
      else throw new CaError('CA_UNKNOWN', `the CA of ${p.governor} (prefecture ${p.code}) does not exist in this installation`, { prefecture: p.code });
    }
    this.byPrefecture.set(p.code, a);
    return a;
  }

  /**
   * A promised prefectural CA that is not made yet: this process makes it next (or is making it) and the
   * request waits for it; otherwise another process (a first `jpki serve`) is making it and the store is
   * asked again until it is there, or the request is told to try again.
   */
  private async promisedCa(code: string): Promise<AuthorityRecord> {
    const queued = this.completionQueue.indexOf(code);
    if (queued > 0) this.completionQueue.unshift(...this.completionQueue.splice(queued, 1));
    const deadline = Date.now() + (this.deps.promisedCaWaitMs ?? PROMISED_CA_WAIT_MS);
    for (;;) {
      const a = await this.store.authorities.byPrefecture(code);
      if (a) return a;
      // made here: wait for it, or (queued) for a CA under way to free its lane; no polling meanwhile
      const here = this.underway.get(code) ?? (this.completionQueue.includes(code) && this.underway.size > 0 ? Promise.race(this.underway.values()) : undefined);
      if (here) {
        await here.catch(() => undefined);
        continue;
      }
      if (Date.now() > deadline)
        throw new CaError('CA_NOT_READY', `the CA of prefecture ${code} is still being created (by \`jpki serve\` after a first start); try again in a moment, or run \`jpki init\` to create it now`, { prefecture: code });
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The issuerAltName of a CA's resident certificates (C=JP, O=公的個人認証サービス, OU=<governor>), encoded once. */
  private issuerAltName(a: AuthorityRecord): Buffer {
    let name = this.altNames.get(a.id);
    if (!name) {
      name = encodeName([{ C: 'JP' }, { O: '公的個人認証サービス' }, { OU: a.name }]);
      this.altNames.set(a.id, name);
    }
    return name;
  }

  /** The signer of a CA's key (cached: the key store is asked once per CA per process). */
  signerFor(a: AuthorityRecord): Promise<Signer> {
    let s = this.signers.get(a.id);
    if (!s) {
      s = this.deps.keys.getSigner(a.keyUri, a.signatureAlgorithm as SignatureAlgorithm);
      s.catch(() => this.signers.delete(a.id));
      this.signers.set(a.id, s);
    }
    return s;
  }

  // ---- issuance: reserve → sign → confirm / abandon ----------------------------------------------------

  /**
   * Checks a request against the profile, builds and lints the TBSCertificate, and records the reservation
   * (serial, TBS hash, purpose, deadline) durably in the ledger with its audit record. Nothing is signed.
   */
  async reserve(given: IssuanceRequest): Promise<CertificateReservation> {
    // A 6-digit code (with its check digit) names the same municipality: partitions and L= use the 5-digit one.
    const known = given.municipality !== undefined ? this.deps.municipalities.byCode(given.municipality) : undefined;
    const req: IssuanceRequest = known ? { ...given, municipality: known.code } : given;
    if (req.kind !== 'sign' && req.kind !== 'auth')
      throw new CaError('ISSUANCE_REQUEST_INVALID', `unknown certificate kind ${JSON.stringify(req.kind)}: use sign or auth`);
    if (req.kind === 'sign' && !req.facts)
      throw new CaError('ISSUANCE_REQUEST_INVALID', 'a signing certificate needs the resident facts (name, date of birth, sex, address)');
    if (req.kind === 'auth' && req.facts)
      throw new CaError('ISSUANCE_REQUEST_INVALID', 'a user-authentication certificate carries no personal facts');
    if (req.municipality !== undefined && !/^\d{5,6}$/.test(req.municipality))
      throw new CaError('ISSUANCE_REQUEST_INVALID', `municipality code ${JSON.stringify(req.municipality)} is not a JIS local-government code (5 or 6 digits)`);
    const authority = await this.forPrefecture(req.prefecture);
    const now = this.deps.clock.now();
    // The facts by the register's own rules (one validator, pki/resident-facts.ts): precise refusals here,
    // and the same check again as a lint on the TBS before it is signed.
    const municipality = req.municipality !== undefined ? { code: req.municipality, entry: this.deps.municipalities.byCode(req.municipality) } : undefined;
    const factsContext: ResidentFactsContext = { today: japanDate(now), prefecture: authority.prefecture!, ...(municipality ? { municipality } : {}) };
    if (req.facts) validateResidentFacts(req.facts, factsContext);
    else throwFactProblem(municipalityProblem(factsContext));
    const { spki, key } = subjectKey(req.publicKey);
    checkKeyStrength(key, { minRsaBits: 2048 });
    if (req.municipality !== undefined) await this.deps.crlPartitions?.ensure(authority.id, req.municipality);
    const signer = await this.signerFor(authority);
    const validity = residentValidity(now, RESIDENT_VALIDITY_YEARS);
    // A resident certificate never outlives its issuer.
    if (validity.notAfter.getTime() > authority.notAfter) validity.notAfter = new Date(authority.notAfter);
    const prefecture = prefectureByCode(authority.prefecture!)!;
    const municipalityName = req.municipalityName ?? municipality?.entry?.nameEn;
    const localities = [prefecture.romaji, ...(municipalityName ? [municipalityName] : req.municipality ? [req.municipality] : [])];
    const urls = this.deps.urls;
    const deadline = new Date(now.getTime() + this.reservationMs);
    for (let attempt = 0; ; attempt++) {
      const serial = newSerial();
      const tbs = residentCertificateTbs({
        kind: req.kind,
        serial,
        signatureAlgorithm: signer.algorithm,
        issuer: { subject: authority.subject, keyId: authority.keyId, altName: this.issuerAltName(authority) },
        subjectPublicKeyInfo: spki,
        subject: residentSubject(req.kind, opaqueCommonName(now), localities),
        facts: req.facts,
        ...validity,
        pointers: {
          crlDistributionPoints: [req.municipality ? urls.partitionCrl(authority.id, req.municipality) : urls.fullCrl(authority.id)],
          // A delta applies only to a base of the same scope (RFC 5280 §5.2.4), so a partition has its own.
          freshestCrl: [req.municipality ? urls.partitionDeltaCrl(authority.id, req.municipality) : urls.deltaCrl(authority.id)],
          ocsp: [urls.ocsp()],
          caIssuers: [urls.caCertificate(authority.id)],
        },
      });
      const problems = lintCertificate(tbs, { kind: req.kind, issuerKeyId: authority.keyId, issuerNotAfter: new Date(authority.notAfter), subjectPublicKey: key, residentFacts: factsContext });
      if (problems.length)
        throw new CaError('LINT_FAILED', `refused to sign: the certificate would break the profile (${problems.map((p) => `${p.lint}: ${p.message}`).join('; ')})`);
      const hex = serialHex(serial);
      const hash = tbsHash(tbs);
      const subject = [req.residentId ? `resident:${req.residentId}` : null, req.cardId ? `card:${req.cardId}` : null].filter(Boolean).join(' ') || null;
      const ledgerId = await this.writer.reserve(
        { caId: authority.id, kind: 'certificate', serial: hex, purpose: req.kind, subject, tbsHash: hash, actor: req.actor, reservedAt: now.getTime(), deadline: deadline.getTime() },
        { actor: req.actor, action: 'certificate.reserve', target: `${authority.id}/${hex}`, details: { purpose: req.kind, subject, tbsHash: hash, deadline: deadline.toISOString() } },
      );
      if (ledgerId === undefined) {
        // 126 random bits: a taken serial means a broken random source, not bad luck; still, draw again
        if (attempt < 3) continue;
        throw new CaError('SERIAL_COLLISION', `serial ${hex} is taken under ${authority.id}; the random source is suspect`);
      }
      const reservation: CertificateReservation = {
        ledgerId,
        caId: authority.id,
        serial: hex,
        kind: req.kind,
        tbsHash: hash,
        notBefore: validity.notBefore,
        notAfter: validity.notAfter,
        deadline,
        residentId: req.residentId ?? null,
        cardId: req.cardId ?? null,
        crlPartition: req.municipality ?? null,
        actor: req.actor,
      };
      this.pending.set(reservation, {
        tbs,
        signer,
        certificate: {
          caId: authority.id,
          serial: hex,
          kind: req.kind,
          subjectCaId: null,
          residentId: reservation.residentId,
          cardId: reservation.cardId,
          crlPartition: reservation.crlPartition,
          notBefore: validity.notBefore.getTime(),
          notAfter: validity.notAfter.getTime(),
        },
        details: { kind: req.kind, residentId: reservation.residentId, cardId: reservation.cardId, partition: reservation.crlPartition, notAfter: validity.notAfter.toISOString() },
      });
      return reservation;
    }
  }

  /**
   * Signs a reservation (once) and records the certificate — with its signature in the audit log — before
   * handing it out. `confirm: true` confirms it at once (nobody has to deliver it any more); otherwise the
   * caller confirms after delivery (the counter: after writing the card) or abandons it.
   */
  async sign(r: CertificateReservation, options: { confirm?: boolean } = {}): Promise<SignedCertificate> {
    const p = this.pending.get(r);
    if (!p) throw new CaError('RESERVATION_UNKNOWN', `reservation ${r.caId}/${r.serial} was already signed, abandoned, or not made by this CA`);
    this.pending.delete(r);
    // The TBS signed is byte for byte the one recorded (Boulder's tbsCertIsDeterministic).
    if (tbsHash(p.tbs) !== r.tbsHash) throw new CaError('LEDGER_MISMATCH', `the TBS of ${r.caId}/${r.serial} is not the one reserved; refused to sign`);
    const signature = await p.signer.sign(p.tbs);
    const der = assembleSigned(p.tbs, p.signer.algorithm, signature);
    const state = options.confirm ? 'confirmed' : 'signed';
    const stored = await this.writer.record({
      ledgerId: r.ledgerId,
      certificate: { ...p.certificate, issuedAt: this.deps.clock.now().getTime(), der },
      to: state,
      audit: { actor: r.actor, action: 'certificate.issue', target: `${r.caId}/${r.serial}`, details: { ...p.details, state, tbsHash: r.tbsHash, signature: b64(signature) } },
    });
    if (!stored) throw reservationExpired(`${r.caId}/${r.serial}`);
    return { ...r, der, state };
  }

  /**
   * Confirms delivered certificates (the counter wrote them onto the card), all or none. `supersede` revokes
   * the resident's other live certificates as superseded in the same transaction. A certificate the sweeper
   * revoked meanwhile cannot be confirmed (RESERVATION_EXPIRED): the caller must not hand it over.
   */
  async confirm(certs: readonly SignedCertificate[], options: { supersede?: { residentId: string }; actor: string }): Promise<{ superseded: CertificateRecord[] }> {
    return this.store.transaction(async (tx) => {
      const now = this.deps.clock.now().getTime();
      const ids = certs.filter((c) => c.state === 'signed').map((c) => c.ledgerId);
      const moved = await tx.ledger.advance(ids, ['signed'], 'confirmed', now);
      if (moved.size !== ids.length) throw reservationExpired(certs.map((c) => `${c.caId}/${c.serial}`).join(', '));
      const superseded: CertificateRecord[] = [];
      if (options.supersede) {
        const mine = new Set(certs.map((c) => `${c.caId}/${c.serial}`));
        for (const c of await tx.certificates.byResident(options.supersede.residentId)) {
          if (mine.has(`${c.caId}/${c.serial}`) || !isLiveResidentCertificate(c, now)) continue;
          superseded.push(await this.revokeWithin(tx, { serial: c.serial, caId: c.caId, reason: 'superseded', actor: options.actor }));
        }
      }
      await tx.recordAll(certs.map((c) => ({ actor: options.actor, action: 'certificate.confirm', target: `${c.caId}/${c.serial}`, details: { kind: c.kind, cardId: c.cardId } })));
      return { superseded };
    });
  }

  /**
   * Gives up on reservations and signed certificates that will not be delivered (card work failed): a
   * reservation is closed; a signed certificate is revoked (it may have reached the card).
   */
  async abandon(items: readonly CertificateReservation[], actor: string, why: string): Promise<void> {
    for (const r of items) this.pending.delete(r);
    await this.store.transaction(async (tx) => {
      for (const r of items) await this.abandonWithin(tx, r.ledgerId, actor, why);
    });
  }

  /** Reserve, sign and confirm in one go: the certificate is recorded and audited, or nothing is signed. */
  async issue(req: IssuanceRequest): Promise<SignedCertificate> {
    return this.sign(await this.reserve(req), { confirm: true });
  }

  /**
   * The sweeper: every reservation past its deadline and not confirmed. Signed ones are revoked (the
   * certificate may be on a card or in a file); unsigned ones are closed — their signature, if any was made,
   * never left the process, because a certificate is recorded before it is handed out.
   */
  async sweep(options: { now?: number; actor?: string } = {}): Promise<SweepReport> {
    const now = options.now ?? this.deps.clock.now().getTime();
    const actor = options.actor ?? 'sweeper';
    const report: SweepReport = { revoked: [], abandoned: [] };
    for (;;) {
      const overdue = await this.store.ledger.overdue(now, 200);
      if (overdue.length === 0) return report;
      await this.store.transaction(async (tx) => {
        for (const e of overdue) {
          const outcome = await this.abandonWithin(tx, e.id, actor, 'not confirmed before its deadline');
          if (outcome === 'revoked') report.revoked.push({ caId: e.caId, serial: e.serial });
          else if (outcome === 'abandoned') report.abandoned.push({ caId: e.caId, kind: e.kind, serial: e.serial });
        }
      });
    }
  }

  private async abandonWithin(tx: CaTransaction, ledgerId: number, actor: string, why: string): Promise<'revoked' | 'abandoned' | 'settled'> {
    const e = await tx.ledger.get(ledgerId);
    if (!e || (e.state !== 'reserved' && e.state !== 'signed')) return 'settled';
    const now = this.deps.clock.now().getTime();
    await tx.ledger.advance([e.id], [e.state], 'abandoned', now);
    if (e.state === 'signed' && e.kind === 'certificate' && (await tx.certificates.status(e.caId, e.serial))?.revokedAt === null) {
      await this.revokeWithin(tx, { serial: e.serial, caId: e.caId, reason: UNDELIVERED_REASON, actor });
      await tx.record({ actor, action: 'ledger.abandon', target: `${e.caId}/${e.serial}`, details: { kind: e.kind, state: e.state, why, revoked: true } });
      return 'revoked';
    }
    await tx.record({ actor, action: 'ledger.abandon', target: `${e.caId}/${e.kind === 'crl' ? `crl-${e.serial}` : e.serial}`, details: { kind: e.kind, state: e.state, why, revoked: false } });
    return 'abandoned';
  }

  // ---- certificates ------------------------------------------------------------------------------------

  /** Finds the certificate a serial names (across CAs unless `caId` is given). */
  async findCertificate(serialText: string, caId?: string): Promise<CertificateRecord> {
    return this.find(this.store, serialText, caId);
  }

  private async find(sql: Pick<CaTransaction, 'certificates'>, serialText: string, caId?: string): Promise<CertificateRecord> {
    const serial = normalizeSerial(serialText);
    if (caId) {
      await this.get(caId);
      const c = await sql.certificates.get(caId, serial);
      if (!c) throw new CaError('CERTIFICATE_NOT_FOUND', `no certificate with serial ${serial} was issued by ${caId}`, { serial, caId });
      return c;
    }
    const found = await sql.certificates.findBySerial(serial);
    if (found.length === 0) throw new CaError('CERTIFICATE_NOT_FOUND', `no certificate with serial ${serial} was issued by any CA here`, { serial });
    if (found.length > 1)
      throw new CaError('SERIAL_AMBIGUOUS', `serial ${serial} exists under ${found.map((c) => c.caId).join(' and ')}; name the CA with --ca`, { serial });
    return found[0]!;
  }

  /** A certificate's revocation state, or undefined when the CA never issued the serial (the status port). */
  async status(caId: string, serial: string): Promise<CertificateStatus | undefined> {
    return this.store.certificates.status(caId, serial);
  }

  /** Every certificate issued to a resident (the counter's view of a resident). */
  async certificatesOf(residentId: string): Promise<CertificateRecord[]> {
    return this.store.certificates.byResident(residentId);
  }

  /** The live resident certificates held by a card: who the card belongs to. */
  async liveOnCard(cardId: string): Promise<CertificateRecord[]> {
    return this.store.certificates.liveOnCard(cardId, this.deps.clock.now().getTime());
  }

  /** Certificates the CAs issued (`jpki ca certificates`, `jpki ca export`). */
  async certificates(filter: { caId?: string; kind?: CertificateKind; limit?: number } = {}): Promise<CertificateRecord[]> {
    return this.store.certificates.list(filter);
  }

  /** How many ledger entries are in each state. */
  async ledgerCounts(): Promise<Record<LedgerState, number>> {
    return this.store.ledger.counts();
  }

  // ---- revocation --------------------------------------------------------------------------------------

  async revoke(req: RevocationRequest): Promise<CertificateRecord> {
    return this.store.transaction((tx) => this.revokeWithin(tx, req));
  }

  /** Several revocations in one transaction: all of them, or (on the first refusal) none. */
  async revokeAll(reqs: readonly RevocationRequest[]): Promise<CertificateRecord[]> {
    return this.store.transaction(async (tx) => {
      const out: CertificateRecord[] = [];
      for (const r of reqs) out.push(await this.revokeWithin(tx, r));
      return out;
    });
  }

  /** A revocation inside a transaction of the CA's own (register events, the sweeper, supersession). */
  async revokeWithin(tx: CaTransaction, req: RevocationRequest): Promise<CertificateRecord> {
    const reason = parseRevocationReason(req.reason);
    const cert = await this.find(tx, req.serial, req.caId);
    const at = this.deps.clock.now().getTime();
    if (!(await tx.certificates.revoke(cert.caId, cert.serial, at, reason)))
      throw new CaError('CERTIFICATE_ALREADY_REVOKED', `certificate ${cert.serial} of ${cert.caId} is already revoked`, { serial: cert.serial, caId: cert.caId });
    await tx.record({ actor: req.actor, action: 'certificate.revoke', target: `${cert.caId}/${cert.serial}`, details: { reason, kind: cert.kind } });
    // The change feed: every OCSP responder re-signs at once, the CRL updater refreshes the deltas (docs/ocsp.md).
    await tx.statusChanges.append({ caId: cert.caId, serial: cert.serial, status: 'revoked', crlPartition: cert.crlPartition, at });
    return { ...cert, revokedAt: at, revocationReason: reason };
  }
}

/** A resident certificate that is neither revoked nor expired. */
export function isLiveResidentCertificate(c: CertificateRecord, now: number): boolean {
  return (c.kind === 'sign' || c.kind === 'auth') && c.revokedAt === null && c.notAfter > now;
}

/** Today's date in Japan, YYYY-MM-DD (the register's calendar day). */
function japanDate(at: Date): string {
  return new Date(at.getTime() + 9 * 3600_000).toISOString().slice(0, 10);
}

function b64(signature: Uint8Array): string {
  return Buffer.from(signature).toString('base64');
}

function notInitialized(): CaError {
  return new CaError('CA_NOT_INITIALIZED', 'the CAs have not been created yet: run `jpki init` first');
}

function reservationExpired(what: string): CaError {
  return new CaError('RESERVATION_EXPIRED', `${what}: the reservation passed its deadline and was abandoned by the sweeper; nothing was handed out, issue again`);
}

/**
 * The subject's key, loaded once (OpenSSL's key decoding costs more than building the whole TBS). A CSR's
 * self-signature is checked here on the event loop: an RSA-2048 verification takes ~22 µs, less than a job
 * on the thread pool costs in hand-over and wake-ups (docs/ca.md, "The signing threads").
 */
function subjectKey(k: IssuanceRequest['publicKey']): { spki: Uint8Array; key: KeyObject } {
  if ('csr' in k) {
    const csr = verifyCsr(k.csr);
    return { spki: csr.subjectPublicKeyInfo, key: csr.publicKey };
  }
  const spki = parsePublicKey(k.spki);
  let key: KeyObject;
  try {
    key = loadPublicKey(spki);
  } catch (e) {
    throw new CaError('ISSUANCE_REQUEST_INVALID', `the public key cannot be loaded: ${(e as Error).message}`);
  }
  return { spki, key };
}

/** The subject CN: an opaque identifier derived from the issuance (jpki-profile.md §1.2), 23 characters. */
function opaqueCommonName(now: Date): string {
  const iso = now.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  let out = iso.slice(0, 4) + iso.slice(5, 7) + iso.slice(8, 10) + iso.slice(11, 13) + iso.slice(14, 16) + iso.slice(17, 19);
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  for (const b of pooledRandomBytes(9)) out += alphabet[b & 31];
  return out;
}
