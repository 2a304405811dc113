import { randomBytes, X509Certificate } from 'node:crypto';
import type { Clock } from '../common/clock.js';
import { JpkiError, type ErrorKind } from '../common/errors.js';
import { verifyDetachedSignature } from '../pki/cms-verify.js';
import { readCertificate } from '../pki/certificate-reader.js';
import { fingerprint } from '../pki/signed.js';
import { PkiError } from '../pki/errors.js';

/**
 * The public portal (guide §4(4), (9), (10)): the trust anchors with their fingerprints, and the online
 * window — the validity check of one's own certificate and online revocation, where the resident proves
 * possession of the card by signing a fresh portal challenge. It holds no store: it is given narrow ports
 * onto the CA's front door (the CAs' certificates, a certificate's status, revoke).
 */
export interface PortalAuthority {
  id: string;
  kind: string;
  prefecture: string | null;
  name: string;
  nameEn: string;
  subject: Uint8Array;
  certificate: Uint8Array;
  notBefore: number;
  notAfter: number;
}

export interface CertificateStatusRecord {
  caId: string;
  serial: string;
  kind: string;
  notAfter: number;
  revokedAt: number | null;
  revocationReason: number | null;
}

export interface PortalPorts {
  /** The CAs (the CA's list). */
  authorities(): Promise<PortalAuthority[]>;
  /** A certificate's record by issuing CA and serial; null when that CA never issued it. */
  certificateStatus(caId: string, serial: string): Promise<CertificateStatusRecord | null>;
  /** Revokes (audited by the CA, published to OCSP and CRLs by the status feed). */
  revoke(request: { caId: string; serial: string; reason: number; actor: string }): Promise<CertificateStatusRecord>;
  clock: Clock;
  /** Where the published objects live (links in the list). */
  urls: { caCertificate(id: string): string; fullCrl(id: string): string; arl(id: string): string; ocsp(): string };
}

export class PortalError extends JpkiError {
  constructor(code: string, kind: ErrorKind, message: string, params: Record<string, string | number> = {}) {
    super(code, kind, message, params);
  }
}

/** How long a challenge may be signed and sent back (the agent's window itself lasts two minutes). */
export const CHALLENGE_LIFETIME_MS = 5 * 60_000;

/** Reasons a resident may give online (the others are the CA's or the counter's). */
export const ONLINE_REASONS = { unspecified: 0, keyCompromise: 1, affiliationChanged: 3, cessationOfOperation: 5 } as const;
export type OnlineReason = keyof typeof ONLINE_REASONS;
const REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold'];

export interface TrustAnchorEntry {
  id: string;
  kind: 'prefectural' | 'jpki-bridge';
  prefecture: string | null;
  name: string;
  nameEn: string;
  subject: string;
  sha1: string;
  sha256: string;
  notBefore: string;
  notAfter: string;
  certificateUrl: string;
  crlUrl: string;
  arlUrl: string;
}

export interface Challenge {
  id: string;
  /** Base64 of the exact bytes the card signs (UTF-8 text the resident can read in the agent's window). */
  content: string;
  expiresAt: string;
}

export interface CertificateStatusAnswer {
  status: 'valid' | 'revoked' | 'expired';
  kind: string;
  serial: string;
  caId: string;
  issuer: string;
  notBefore: string;
  notAfter: string;
  revokedAt?: string;
  reason?: string;
}

export interface RevocationNotice {
  noticeNumber: string;
  serial: string;
  caId: string;
  issuer: string;
  kind: string;
  revokedAt: string;
  reason: string;
}

interface IssuedChallenge {
  content: Buffer;
  expiresAt: number;
}

export class Portal {
  private readonly challenges = new Map<string, IssuedChallenge>();

  constructor(private readonly ports: PortalPorts) {}

  /** The prefectural CAs and the bridge CA, with fingerprints and download addresses (the list for --compare). */
  async trustAnchors(): Promise<TrustAnchorEntry[]> {
    const list = await this.ports.authorities();
    const u = this.ports.urls;
    return list
      .filter((a) => a.kind === 'prefectural' || a.kind === 'jpki-bridge')
      .sort((a, b) => (a.kind === b.kind ? (a.prefecture ?? '').localeCompare(b.prefecture ?? '') : a.kind === 'jpki-bridge' ? 1 : -1))
      .map((a) => ({
        id: a.id,
        kind: a.kind as TrustAnchorEntry['kind'],
        prefecture: a.prefecture,
        name: a.name,
        nameEn: a.nameEn,
        subject: new X509Certificate(Buffer.from(a.certificate)).subject.split('\n').join(', '),
        sha1: fingerprint(a.certificate, 'sha1'),
        sha256: fingerprint(a.certificate, 'sha256'),
        notBefore: new Date(a.notBefore).toISOString(),
        notAfter: new Date(a.notAfter).toISOString(),
        certificateUrl: u.caCertificate(a.id),
        crlUrl: u.fullCrl(a.id),
        arlUrl: u.arl(a.id),
      }));
  }

  /** A fresh, one-time challenge for the online window. */
  issueChallenge(): Challenge {
    const now = this.ports.clock.now().getTime();
    for (const [id, c] of this.challenges) if (c.expiresAt < now) this.challenges.delete(id);
    const id = randomBytes(16).toString('hex');
    const nonce = randomBytes(32).toString('hex');
    const expiresAt = now + CHALLENGE_LIFETIME_MS;
    const text = [
      '公的個人認証サービス ポータル オンライン窓口 (JPKI portal online window)',
      '電子証明書の失効申請の本人確認 (proof of possession for online revocation)',
      `challenge: ${nonce}`,
      `issued: ${new Date(now).toISOString()}`,
      '',
    ].join('\n');
    const content = Buffer.from(text, 'utf8');
    this.challenges.set(id, { content, expiresAt });
    return { id, content: content.toString('base64'), expiresAt: new Date(expiresAt).toISOString() };
  }

  /** Which of our CAs issued this certificate (issuer name and signature both checked), with its record. */
  private async identify(certificateDer: Uint8Array): Promise<{ authority: PortalAuthority; record: CertificateStatusRecord }> {
    let view;
    let cert: X509Certificate;
    try {
      view = readCertificate(certificateDer);
      cert = new X509Certificate(Buffer.from(certificateDer));
    } catch {
      throw new PortalError('PORTAL_CERTIFICATE_INVALID', 'malformed', 'that is not an X.509 certificate');
    }
    const authorities = await this.ports.authorities();
    const issuer = authorities.find((a) => a.kind === 'prefectural' && Buffer.from(a.subject).equals(Buffer.from(view.issuer)) && cert.verify(new X509Certificate(Buffer.from(a.certificate)).publicKey));
    if (!issuer) throw new PortalError('PORTAL_CERTIFICATE_UNKNOWN', 'not-found', 'this certificate was not issued by a prefectural CA of this service');
    const serial = Buffer.from(view.serial).toString('hex').replace(/^(00)+(?=.)/, '');
    const record = await this.ports.certificateStatus(issuer.id, serial);
    if (!record) throw new PortalError('PORTAL_CERTIFICATE_UNKNOWN', 'not-found', `no certificate ${serial} of ${issuer.name} is on record`);
    return { authority: issuer, record };
  }

  /** The validity check (guide §4(9)): the certificate the agent read from the card, and its status now. */
  async certificateStatus(certificateDer: Uint8Array): Promise<CertificateStatusAnswer> {
    const { authority, record } = await this.identify(certificateDer);
    const view = readCertificate(certificateDer);
    const now = this.ports.clock.now().getTime();
    const base = { kind: record.kind, serial: record.serial, caId: record.caId, issuer: authority.name, notBefore: view.notBefore.toISOString(), notAfter: view.notAfter.toISOString() };
    if (record.revokedAt !== null) return { ...base, status: 'revoked', revokedAt: new Date(record.revokedAt).toISOString(), reason: REASON_NAMES[record.revocationReason ?? 0] ?? 'unspecified' };
    if (now > record.notAfter) return { ...base, status: 'expired' };
    return { ...base, status: 'valid' };
  }

  /**
   * Online revocation: the challenge must be one we issued, unused and fresh (it is used up by this call,
   * whatever the outcome); the CMS must be a valid detached signature over exactly its bytes by the key of
   * the certificate to be revoked; that certificate must be ours and not revoked yet.
   */
  async revokeOnline(input: { challengeId: string; signature: Uint8Array; certificate: Uint8Array; reason: string }): Promise<RevocationNotice> {
    if (!(input.reason in ONLINE_REASONS))
      throw new PortalError('PORTAL_REASON_INVALID', 'malformed', `the reason must be one of ${Object.keys(ONLINE_REASONS).join(', ')}`);
    const challenge = this.challenges.get(input.challengeId);
    this.challenges.delete(input.challengeId);
    if (!challenge) throw new PortalError('PORTAL_CHALLENGE_UNKNOWN', 'conflict', 'the challenge is unknown or was already used: get a new one');
    if (this.ports.clock.now().getTime() > challenge.expiresAt) throw new PortalError('PORTAL_CHALLENGE_EXPIRED', 'conflict', 'the challenge has expired: get a new one');
    let signer: Buffer;
    try {
      signer = verifyDetachedSignature(input.signature, challenge.content).signerCertificate;
    } catch (e) {
      if (e instanceof PkiError) throw new PortalError('PORTAL_SIGNATURE_INVALID', 'unauthenticated', `the signature is not valid: ${e.message}`);
      throw e;
    }
    if (!signer.equals(Buffer.from(input.certificate)))
      throw new PortalError('PORTAL_SIGNATURE_INVALID', 'unauthenticated', 'the challenge was signed with another key than the certificate to be revoked');
    const { authority, record } = await this.identify(input.certificate);
    if (record.revokedAt !== null)
      throw new PortalError('PORTAL_ALREADY_REVOKED', 'conflict', `the certificate ${record.serial} was already revoked on ${new Date(record.revokedAt).toISOString()}`);
    const revoked = await this.ports.revoke({ caId: record.caId, serial: record.serial, reason: ONLINE_REASONS[input.reason as OnlineReason], actor: 'portal:online-window' });
    const at = revoked.revokedAt ?? this.ports.clock.now().getTime();
    return {
      noticeNumber: `W-${new Date(at + 9 * 3600_000).toISOString().slice(0, 10).replace(/-/g, '')}-${randomBytes(4).toString('hex').toUpperCase()}`,
      serial: record.serial,
      caId: record.caId,
      issuer: authority.name,
      kind: record.kind,
      revokedAt: new Date(at).toISOString(),
      reason: input.reason,
    };
  }
}
