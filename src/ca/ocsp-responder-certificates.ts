import { randomBytes } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import type { KeyManager } from '../kms/index.js';
import { ocspResponderTbs } from '../pki/jpki-profile.js';
import { encodeName } from '../pki/names.js';
import { assembleSigned } from '../pki/signed.js';
import type { KeySpec, Signer } from '../pki/signer.js';
import type { AuthorityRecord } from '../store/index.js';
import type { CertificationAuthorities } from './certification-authorities.js';
import { DEFAULT_RESERVATION_MS } from './certification-authorities.js';
import { CaError } from './errors.js';
import { tbsHash } from './ledger.js';
import type { CaStore } from './ports.js';
import { newSerial, serialHex } from './serial.js';

/** How long a delegated responder certificate is valid, and how early it is replaced (docs/ocsp.md). */
export const OCSP_RESPONDER_VALIDITY_MS = 30 * 24 * 3600_000;
export const OCSP_RESPONDER_RENEW_BEFORE_MS = 7 * 24 * 3600_000;
/** Backdating of notBefore, for relying parties whose clocks run a little slow. */
const BACKDATE_MS = 3600_000;

/** A CA's delegated OCSP responder: the certificate the CA issued to it and a signer for its key. */
export interface DelegatedResponder {
  caId: string;
  serial: string;
  /** DER certificate: id-kp-OCSPSigning, id-pkix-ocsp-nocheck, issued by the CA. */
  certificate: Buffer;
  notBefore: Date;
  notAfter: Date;
  signer: Signer;
}

export interface OcspResponderCertificatesDeps {
  store: Pick<CaStore, 'ocspResponders' | 'certificates' | 'transaction'>;
  keys: KeyManager;
  clock: Clock;
  authorities: Pick<CertificationAuthorities, 'get' | 'signerFor'>;
}

/**
 * The delegated OCSP responders (RFC 6960 §4.2.2.2): each CA certifies a key of its own in the key store for
 * signing OCSP responses, so the CA key itself stays out of the hot path. A responder certificate is valid
 * for 30 days and replaced once fewer than 7 remain, which is longer than any response it signed stays
 * valid, so responses signed before a rotation verify until they expire.
 */
export class OcspResponderCertificates {
  private readonly responders = new Map<string, Promise<DelegatedResponder>>();

  constructor(private readonly deps: OcspResponderCertificatesDeps) {}

  /**
   * The responder to sign with now: the CA's newest one while more than 7 days of it remain, else a new one
   * (issued here). Cached per process; concurrent callers share one issuance.
   */
  async current(caId: string): Promise<DelegatedResponder> {
    const now = this.deps.clock.now().getTime();
    const cached = this.responders.get(caId);
    if (cached) {
      const r = await cached.catch(() => undefined);
      if (r && r.notAfter.getTime() - now > OCSP_RESPONDER_RENEW_BEFORE_MS) return r;
      if (this.responders.get(caId) !== cached) return this.current(caId); // someone else renewed meanwhile
      this.responders.delete(caId);
    }
    const p = this.loadOrIssue(caId);
    this.responders.set(caId, p);
    p.catch(() => {
      if (this.responders.get(caId) === p) this.responders.delete(caId);
    });
    return p;
  }

  /** Issues a new responder certificate now, whatever the current one's validity (`jpki ocsp rotate`). */
  async rotate(caId: string, actor: string): Promise<DelegatedResponder> {
    const p = this.issue(await this.deps.authorities.get(caId), actor);
    this.responders.set(caId, p);
    return p;
  }

  private async loadOrIssue(caId: string): Promise<DelegatedResponder> {
    const authority = await this.deps.authorities.get(caId);
    const now = this.deps.clock.now().getTime();
    const latest = await this.deps.store.ocspResponders.latest(caId);
    if (latest && latest.notAfter - now > OCSP_RESPONDER_RENEW_BEFORE_MS && latest.notBefore <= now) {
      const cert = await this.deps.store.certificates.get(caId, latest.serial);
      // Another node may have issued it with a key store this process cannot reach: then issue our own.
      const signer = await this.deps.keys.getSigner(latest.keyUri).catch(() => undefined);
      if (cert && cert.revokedAt === null && signer)
        return { caId, serial: latest.serial, certificate: cert.der, notBefore: new Date(latest.notBefore), notAfter: new Date(latest.notAfter), signer };
    }
    return this.issue(authority, 'system');
  }

  private async issue(authority: AuthorityRecord, actor: string): Promise<DelegatedResponder> {
    const { store, keys, clock } = this.deps;
    const caSigner = await this.deps.authorities.signerFor(authority);
    const now = clock.now();
    const stamp = now.toISOString().replace(/[-:]/g, '').slice(0, 15);
    const key = await keys.createKey(`ocsp-${authority.id}-${stamp}-${randomBytes(3).toString('hex')}`, responderKeySpec(caSigner.algorithm));
    const signer = await keys.getSigner(key.uri);
    const notBefore = new Date(Math.floor((now.getTime() - BACKDATE_MS) / 1000) * 1000);
    const notAfter = new Date(Math.min(notBefore.getTime() + OCSP_RESPONDER_VALIDITY_MS, authority.notAfter));
    const serial = newSerial();
    const tbs = ocspResponderTbs({
      serial,
      signatureAlgorithm: caSigner.algorithm,
      issuer: { subject: authority.subject, keyId: authority.keyId },
      subject: encodeName([{ C: 'JP' }, { O: 'JPKI' }, { OU: 'OCSP Responder' }, { CN: `OCSP Responder ${authority.id}` }]),
      subjectPublicKeyInfo: key.publicKey,
      notBefore,
      notAfter,
    });
    const record = { caId: authority.id, serial: serialHex(serial), keyUri: key.uri, notBefore: notBefore.getTime(), notAfter: notAfter.getTime(), createdAt: now.getTime() };
    const hash = tbsHash(tbs);
    // Record, then sign (docs/ca.md): the responder certificate is in the CA's ledger before the CA key signs.
    const [ledgerId] = await store.transaction(async (tx) => {
      const ids = await tx.ledger.reserve([
        { caId: authority.id, kind: 'certificate', serial: record.serial, purpose: 'ocsp', subject: key.uri, tbsHash: hash, actor, reservedAt: now.getTime(), deadline: now.getTime() + DEFAULT_RESERVATION_MS },
      ]);
      if (ids[0] === undefined) throw new CaError('SERIAL_COLLISION', `serial ${record.serial} is taken under ${authority.id}; the random source is suspect`);
      await tx.record({ actor, action: 'certificate.reserve', target: `${authority.id}/${record.serial}`, details: { purpose: 'ocsp', tbsHash: hash } });
      return ids as number[];
    });
    const signature = await caSigner.sign(tbs);
    const der = assembleSigned(tbs, caSigner.algorithm, signature);
    await store.transaction(async (tx) => {
      if ((await tx.ledger.advance([ledgerId!], ['reserved'], 'confirmed', clock.now().getTime())).size !== 1)
        throw new CaError('RESERVATION_EXPIRED', `the reservation of responder certificate ${authority.id}/${record.serial} was abandoned; nothing was stored`);
      await tx.certificates.insert({
        caId: authority.id,
        serial: record.serial,
        kind: 'ocsp',
        subjectCaId: null,
        residentId: null,
        cardId: null,
        crlPartition: null,
        notBefore: record.notBefore,
        notAfter: record.notAfter,
        issuedAt: record.createdAt,
        der,
      });
      await tx.ocspResponders.insert(record);
      await tx.record({
        actor,
        action: 'ocsp.responder.issue',
        target: `${authority.id}/${record.serial}`,
        details: { keyUri: key.uri, notAfter: notAfter.toISOString(), tbsHash: hash, signature: Buffer.from(signature).toString('base64') },
      });
    });
    return { caId: authority.id, serial: record.serial, certificate: der, notBefore, notAfter, signer };
  }
}

/** The responder's key type follows its CA's: RSA-2048 under RSA CAs, the CA's curve under ECDSA CAs. */
function responderKeySpec(algorithm: string): KeySpec {
  if (algorithm.startsWith('RSA')) return { type: 'RSA', bits: 2048 };
  return algorithm === 'ECDSA-SHA384' ? { type: 'EC', curve: 'P-384' } : { type: 'EC', curve: 'P-256' };
}
