import { randomBytes, type KeyObject } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { KeyManager } from '../kms/index.js';
import { parseCsr, verifyCsr, parsePublicKey, checkKeyStrength } from '../pki/csr.js';
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
import type { ResidentFacts } from '../pki/resident-facts.js';
import { signTbs } from '../pki/signed.js';
import { DEFAULT_KEY_SPEC, defaultSignatureAlgorithm, type KeySpec, type SignatureAlgorithm, type Signer } from '../pki/signer.js';
import { lintCertificate } from '../pki/lint/index.js';
import type { AuthorityRecord, CertificateRecord, Repositories, Store } from '../store/index.js';
import { isUniqueViolation } from '../store/index.js';
import { CaError } from './errors.js';
import { allAuthorities, crossLinks, subjectDer, type AuthorityDefinition } from './hierarchy.js';
import { randomSerial, serialHex, normalizeSerial, unusedSerial } from './serial.js';
import { parseRevocationReason } from './revocation-reasons.js';
import type { PublicationUrls } from './urls.js';

/** Validity of CA certificates and cross-certificates, in years (J-LIS: 10). */
export const CA_VALIDITY_YEARS = 10;
/** Validity of resident certificates, in years (the guide: 3). */
export const RESIDENT_VALIDITY_YEARS = 3;

export interface CaDependencies {
  store: Store;
  keys: KeyManager;
  clock: Clock;
  urls: PublicationUrls;
  /**
   * Publishes a partition's CRL and its delta before the first certificate naming them is signed (the CRL
   * updater), so a relying party never gets a 404 for a URL in a certificate.
   */
  crlPartitions?: { ensure(caId: string, municipality: string): Promise<void> };
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

/** A signed certificate not yet stored: `commit` stores it (with its audit record) in a transaction. */
export interface PreparedCertificate {
  caId: string;
  serial: string;
  kind: ResidentCertificateKind;
  der: Buffer;
  notBefore: Date;
  notAfter: Date;
  residentId: string | null;
  cardId: string | null;
  crlPartition: string | null;
  actor: string;
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
}

export interface InitializeResult {
  created: boolean;
  authorities: number;
  crossCertificates: number;
  initializedAt: string;
}

const INITIALIZED_KEY = 'ca.initialized_at';

/**
 * The certification authorities of the service: the 47 prefectural governors' CAs, the JPKI bridge, the
 * government bridge and an agency CA. This module signs; it does not decide who gets a certificate (the
 * counter does, Boulder's RA/CA split). Every state change is one transaction with its audit record.
 */
export class CertificationAuthorities {
  private readonly signers = new Map<string, Promise<Signer>>();
  private readonly byPrefecture = new Map<string, AuthorityRecord>();

  constructor(private readonly deps: CaDependencies) {}

  private get store(): Store {
    return this.deps.store;
  }

  // ---- the hierarchy -----------------------------------------------------------------------------------

  async isInitialized(): Promise<boolean> {
    return (await this.store.settings.get(INITIALIZED_KEY)) !== undefined;
  }

  /**
   * Creates every CA once: keys in the key store, self-signed certificates, cross-certificates both ways on
   * every edge, first CRLs. Running it again changes nothing and says so (`created: false`).
   */
  async initialize(options: InitializeOptions): Promise<InitializeResult> {
    const existing = await this.store.settings.get(INITIALIZED_KEY);
    if (existing !== undefined) {
      return { created: false, authorities: await this.store.authorities.count(), crossCertificates: (await this.store.certificates.list({ kind: 'cross' })).length, initializedAt: existing };
    }
    const spec = options.keySpec ?? DEFAULT_KEY_SPEC;
    const algorithm = defaultSignatureAlgorithm(spec);
    const now = this.deps.clock.now();
    const definitions = allAuthorities(options.prefectures ?? PREFECTURES);
    const validity = caValidity(now, CA_VALIDITY_YEARS);
    // Key labels carry a generation suffix: a half-finished earlier attempt never blocks a new one.
    const generation = `${now.toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(3).toString('hex')}`;

    // All key pairs at once: the key store works on the thread pool (or the token's sessions), so the
    // generation spreads over every core instead of one key after another (issue 11: first start ≤ 5 s).
    let done = 0;
    options.onProgress?.(0, definitions.length);
    const created: { def: AuthorityDefinition; record: Omit<AuthorityRecord, 'crlNumber'>; signer: Signer }[] = await Promise.all(
      definitions.map(async (def) => {
        const key = await this.deps.keys.createKey(`${def.id}-${generation}`, spec);
        const signer = await this.deps.keys.getSigner(key.uri, algorithm);
        const subject = subjectDer(def);
        const der = await signTbs(
          selfSignedCaTbs({ serial: randomSerial(), signatureAlgorithm: algorithm, subject, subjectPublicKeyInfo: key.publicKey, ...validity }),
          signer,
        );
        options.onProgress?.(++done, definitions.length);
        return {
          def,
          signer,
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
            certificate: der,
            notBefore: validity.notBefore.getTime(),
            notAfter: validity.notAfter.getTime(),
            createdAt: now.getTime(),
          },
        };
      }),
    );
    const byId = new Map(created.map((c) => [c.def.id, c]));
    const crosses: { issuerId: string; subjectId: string; serial: string; der: Buffer }[] = [];
    for (const link of crossLinks(definitions)) {
      const issuer = byId.get(link.issuer.id)!;
      const subject = byId.get(link.subject.id)!;
      const serial = randomSerial();
      const der = await signTbs(
        crossCertificateTbs({
          serial,
          signatureAlgorithm: algorithm,
          issuer: { subject: issuer.record.subject, keyId: issuer.record.keyId },
          subject: subject.record.subject,
          subjectPublicKeyInfo: subject.signer.publicKey,
          ...validity,
          policies: link.policies,
          mappings: link.mappings,
          pointers: { crlDistributionPoints: [this.deps.urls.arl(issuer.def.id)], caIssuers: [this.deps.urls.caCertificate(issuer.def.id)] },
        }),
        issuer.signer,
      );
      crosses.push({ issuerId: issuer.def.id, subjectId: subject.def.id, serial: serialHex(serial), der });
    }

    await this.store.transaction(async (tx) => {
      // Two initialisations racing: the loser finds the flag set and rolls back everything it wrote.
      if ((await tx.settings.get(INITIALIZED_KEY)) !== undefined) throw new CaError('CA_INIT_RACE', 'another process initialised the CAs at the same time; nothing of this run was kept');
      for (const c of created) {
        await tx.authorities.insert(c.record);
        await tx.record({
          actor: options.actor,
          action: 'ca.create',
          target: c.def.id,
          details: { name: c.def.name, keyUri: c.record.keyUri, algorithm, notAfter: validity.notAfter.toISOString() },
        });
      }
      for (const x of crosses) {
        await tx.certificates.insert({
          caId: x.issuerId,
          serial: x.serial,
          kind: 'cross',
          subjectCaId: x.subjectId,
          residentId: null,
          cardId: null,
          crlPartition: null,
          notBefore: validity.notBefore.getTime(),
          notAfter: validity.notAfter.getTime(),
          issuedAt: now.getTime(),
          der: x.der,
        });
        await tx.record({ actor: options.actor, action: 'certificate.issue', target: `${x.issuerId}/${x.serial}`, details: { kind: 'cross', subject: x.subjectId } });
      }
      await tx.settings.set(INITIALIZED_KEY, now.toISOString());
      await tx.record({ actor: options.actor, action: 'ca.init', target: 'hierarchy', details: { authorities: created.length, crossCertificates: crosses.length, keySpec: spec } });
    });
    for (const c of created) this.signers.set(c.def.id, Promise.resolve(c.signer));
    return { created: true, authorities: created.length, crossCertificates: crosses.length, initializedAt: now.toISOString() };
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
    const a = await this.store.authorities.byPrefecture(p.code);
    if (!a) {
      if (!(await this.isInitialized())) throw notInitialized();
      throw new CaError('CA_UNKNOWN', `the CA of ${p.governor} (prefecture ${p.code}) does not exist in this installation`, { prefecture: p.code });
    }
    this.byPrefecture.set(p.code, a);
    return a;
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

  // ---- issuance ----------------------------------------------------------------------------------------

  /**
   * Checks a request against the profile and signs the certificate, without storing it. The serial is
   * fresh from the CSPRNG and checked against the store; the unique index catches the (astronomically
   * unlikely) race at commit.
   */
  async prepare(req: IssuanceRequest): Promise<PreparedCertificate> {
    if (req.kind !== 'sign' && req.kind !== 'auth')
      throw new CaError('ISSUANCE_REQUEST_INVALID', `unknown certificate kind ${JSON.stringify(req.kind)}: use sign or auth`);
    if (req.kind === 'sign' && !req.facts)
      throw new CaError('ISSUANCE_REQUEST_INVALID', 'a signing certificate needs the resident facts (name, date of birth, sex, address)');
    if (req.kind === 'auth' && req.facts)
      throw new CaError('ISSUANCE_REQUEST_INVALID', 'a user-authentication certificate carries no personal facts');
    if (req.municipality !== undefined && !/^\d{5,6}$/.test(req.municipality))
      throw new CaError('ISSUANCE_REQUEST_INVALID', `municipality code ${JSON.stringify(req.municipality)} is not a JIS local-government code (5 or 6 digits)`);
    const authority = await this.forPrefecture(req.prefecture);
    const { spki, key } = subjectKey(req.publicKey);
    checkKeyStrength(key, { minRsaBits: 2048 });
    if (req.municipality !== undefined) await this.deps.crlPartitions?.ensure(authority.id, req.municipality);
    const signer = await this.signerFor(authority);
    const now = this.deps.clock.now();
    const validity = residentValidity(now, RESIDENT_VALIDITY_YEARS);
    // A resident certificate never outlives its issuer.
    if (validity.notAfter.getTime() > authority.notAfter) validity.notAfter = new Date(authority.notAfter);
    const serial = await unusedSerial(this.store.certificates, authority.id);
    const prefecture = prefectureByCode(authority.prefecture!)!;
    const localities = [prefecture.romaji, ...(req.municipalityName ? [req.municipalityName] : req.municipality ? [req.municipality] : [])];
    const urls = this.deps.urls;
    const tbs = residentCertificateTbs({
      kind: req.kind,
      serial,
      signatureAlgorithm: signer.algorithm,
      issuer: { subject: authority.subject, keyId: authority.keyId, altName: encodeName([{ C: 'JP' }, { O: '公的個人認証サービス' }, { OU: authority.name }]) },
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
    const problems = lintCertificate(tbs, { kind: req.kind, issuerKeyId: authority.keyId, issuerNotAfter: new Date(authority.notAfter), subjectPublicKey: key });
    if (problems.length)
      throw new CaError('LINT_FAILED', `refused to sign: the certificate would break the profile (${problems.map((p) => `${p.lint}: ${p.message}`).join('; ')})`);
    const der = await signTbs(tbs, signer);
    return {
      caId: authority.id,
      serial: serialHex(serial),
      kind: req.kind,
      der,
      notBefore: validity.notBefore,
      notAfter: validity.notAfter,
      residentId: req.residentId ?? null,
      cardId: req.cardId ?? null,
      crlPartition: req.municipality ?? null,
      actor: req.actor,
    };
  }

  /** Stores a prepared certificate and its audit record inside the caller's transaction. */
  async commit(tx: Repositories, c: PreparedCertificate): Promise<void> {
    try {
      await tx.certificates.insert({
        caId: c.caId,
        serial: c.serial,
        kind: c.kind,
        subjectCaId: null,
        residentId: c.residentId,
        cardId: c.cardId,
        crlPartition: c.crlPartition,
        notBefore: c.notBefore.getTime(),
        notAfter: c.notAfter.getTime(),
        issuedAt: this.deps.clock.now().getTime(),
        der: c.der,
      });
    } catch (e) {
      if (isUniqueViolation(e)) throw new CaError('SERIAL_COLLISION', `serial ${c.serial} was taken concurrently under ${c.caId}; issue again`);
      throw e;
    }
    await tx.record({
      actor: c.actor,
      action: 'certificate.issue',
      target: `${c.caId}/${c.serial}`,
      details: { kind: c.kind, residentId: c.residentId, cardId: c.cardId, partition: c.crlPartition, notAfter: c.notAfter.toISOString() },
    });
    // The change feed: OCSP responders drop a cached "unknown" for this serial (docs/ocsp.md).
    await tx.statusChanges.append({ caId: c.caId, serial: c.serial, status: 'issued', crlPartition: c.crlPartition, at: this.deps.clock.now().getTime() });
  }

  /** Prepare + commit in one go: the certificate is signed, stored and audited, or nothing is stored. */
  async issue(req: IssuanceRequest): Promise<PreparedCertificate> {
    const prepared = await this.prepare(req);
    await this.store.transaction((tx) => this.commit(tx, prepared));
    return prepared;
  }

  // ---- revocation --------------------------------------------------------------------------------------

  /** Finds the certificate a serial names (across CAs unless `caId` is given). */
  async findCertificate(serialText: string, caId?: string, sql: Repositories = this.store): Promise<CertificateRecord> {
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

  /** Revokes inside the caller's transaction (the counter combines it with its own records). */
  async revokeIn(tx: Repositories, req: RevocationRequest): Promise<CertificateRecord> {
    const reason = parseRevocationReason(req.reason);
    const cert = await this.findCertificate(req.serial, req.caId, tx);
    const at = this.deps.clock.now().getTime();
    if (!(await tx.certificates.revoke(cert.caId, cert.serial, at, reason)))
      throw new CaError('CERTIFICATE_ALREADY_REVOKED', `certificate ${cert.serial} of ${cert.caId} is already revoked`, { serial: cert.serial, caId: cert.caId });
    await tx.record({ actor: req.actor, action: 'certificate.revoke', target: `${cert.caId}/${cert.serial}`, details: { reason, kind: cert.kind } });
    // The change feed: every OCSP responder re-signs at once, the CRL updater refreshes the deltas (docs/ocsp.md).
    await tx.statusChanges.append({ caId: cert.caId, serial: cert.serial, status: 'revoked', crlPartition: cert.crlPartition, at });
    return { ...cert, revokedAt: at, revocationReason: reason };
  }

  async revoke(req: RevocationRequest): Promise<CertificateRecord> {
    return this.store.transaction((tx) => this.revokeIn(tx, req));
  }
}

function notInitialized(): CaError {
  return new CaError('CA_NOT_INITIALIZED', 'the CAs have not been created yet: run `jpki init` first');
}

/** The subject's key, loaded once (OpenSSL's key decoding costs more than building the whole TBS). */
function subjectKey(k: IssuanceRequest['publicKey']): { spki: Uint8Array; key: KeyObject } {
  if ('csr' in k) {
    const csr = verifyCsr(parseCsr(k.csr));
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
  const stamp = now.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  const r = randomBytes(9);
  return `${stamp}${Array.from(r, (b) => alphabet[b & 31]).join('')}`;
}
