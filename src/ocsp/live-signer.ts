import type { Clock } from '../common/clock.js';
import type { Signer } from '../pki/signer.js';
import type { CertId } from './cert-id.js';
import { OcspError } from './errors.js';
import type { Issuer, IssuerIndex } from './issuers.js';
import type { OcspRequest } from './request.js';
import { responderKeyHash, signOcspResponse, type CertStatus } from './response.js';
import type { OcspAnswer, ResponseSource } from './source.js';

/** How long a response stays valid: a day, like the CRLs (nextUpdate = thisUpdate + 24 h). */
export const OCSP_RESPONSE_VALIDITY_MS = 24 * 3600_000;
/** "unknown" answers for a serial we never issued are kept shorter: an issuance may follow. */
export const UNKNOWN_RESPONSE_VALIDITY_MS = 3600_000;

/** A CA's delegated responder, as the OCSP side needs it (implemented in ca/ocsp-responder-certificates.ts). */
export interface DelegatedResponder {
  certificate: Buffer;
  notAfter: Date;
  signer: Signer;
}

/** Hands out the responder to sign with for a CA, renewing it before it expires. */
export interface ResponderCredentials {
  current(caId: string): Promise<DelegatedResponder>;
}

/** An issued certificate's revocation state. */
export interface CertificateState {
  revokedAt: number | null;
  reason: number | null;
}

/** The revocation state of one certificate, or undefined when the CA never issued that serial. */
export interface StatusReader {
  status(caId: string, serial: string): Promise<CertificateState | undefined>;
}

function toCertStatus(s: CertificateState): CertStatus {
  return s.revokedAt === null ? { type: 'good' } : { type: 'revoked', revokedAt: new Date(s.revokedAt), reason: s.reason };
}

export interface SignedSingle {
  der: Buffer;
  thisUpdate: number;
  nextUpdate: number;
  status: CertStatus['type'];
}

export interface LiveSignerDeps {
  issuers: IssuerIndex;
  statuses: StatusReader;
  responders: ResponderCredentials;
  clock: Clock;
  validityMs?: number;
}

/**
 * Signs responses now, from the certificates' current status: for requests with a nonce or several
 * certificates (never cached), and for the single responses that are then stored (sign on first request,
 * re-sign after a revocation, pre-signing).
 */
export class LiveSigner implements ResponseSource {
  private readonly keyHashes = new WeakMap<Signer, Buffer>();
  private readonly validityMs: number;

  constructor(private readonly deps: LiveSignerDeps) {
    this.validityMs = deps.validityMs ?? OCSP_RESPONSE_VALIDITY_MS;
  }

  /**
   * Any request. All its certificates must have the same issuer: one delegated responder speaks for one CA
   * only, so a response about two CAs could not be verified — that is `unauthorized`.
   */
  async answer(request: OcspRequest): Promise<OcspAnswer> {
    let issuer: Issuer | undefined;
    for (const c of request.certIds) {
      const found = await this.deps.issuers.resolve(c);
      if (!found) throw new OcspError('OCSP_UNAUTHORIZED', 'the request names an issuer this responder does not serve');
      if (issuer && found.caId !== issuer.caId) throw new OcspError('OCSP_UNAUTHORIZED', 'one request may only ask about certificates of one CA');
      issuer = found;
    }
    const responder = await this.deps.responders.current(issuer!.caId);
    const now = this.now();
    const statuses = await Promise.all(request.certIds.map((c) => this.statusOf(issuer!, c)));
    const der = await signOcspResponse({
      responderKeyHash: this.keyHashOf(responder.signer),
      producedAt: new Date(now),
      responses: request.certIds.map((c, i) => ({
        certId: c.der,
        status: statuses[i]!,
        thisUpdate: new Date(now),
        nextUpdate: new Date(this.nextUpdate(now, statuses[i]!, responder)),
      })),
      ...(request.nonce ? { nonce: request.nonce } : {}),
      certificates: [responder.certificate],
      signer: responder.signer,
    });
    return { der };
  }

  /**
   * One certificate's response for storing and caching (no nonce). `known` is the certificate's state when
   * the caller has just read it (the pre-signing job reads it with its work list).
   */
  async signSingle(issuer: Issuer, certId: Pick<CertId, 'der' | 'serial'>, known?: CertificateState): Promise<SignedSingle> {
    const responder = await this.deps.responders.current(issuer.caId);
    const now = this.now();
    const status = known ? toCertStatus(known) : await this.statusOf(issuer, certId);
    const nextUpdate = this.nextUpdate(now, status, responder);
    const der = await signOcspResponse({
      responderKeyHash: this.keyHashOf(responder.signer),
      producedAt: new Date(now),
      responses: [{ certId: certId.der, status, thisUpdate: new Date(now), nextUpdate: new Date(nextUpdate) }],
      certificates: [responder.certificate],
      signer: responder.signer,
    });
    return { der, thisUpdate: now, nextUpdate, status: status.type };
  }

  /**
   * A serial the CA never issued is not answered with a signed "unknown" but refused as `unauthorized`
   * before anything is signed (Boulder does the same): a flood of random serials then costs one indexed
   * read each — no RSA signature, nothing kept in memory (issue 10, hole 3). The CA records every
   * certificate before it hands it out (docs/ca.md), so no real certificate can be asked about too early.
   */
  private async statusOf(issuer: Issuer, certId: Pick<CertId, 'serial'>): Promise<CertStatus> {
    const s = certId.serial === undefined ? undefined : await this.deps.statuses.status(issuer.caId, certId.serial);
    if (!s) throw new OcspError('OCSP_UNAUTHORIZED', `${issuer.caId} never issued serial ${certId.serial ?? '(unreadable)'}`);
    return toCertStatus(s);
  }

  /** Whole seconds: DER GeneralizedTime carries none, and the stored numbers must equal what was signed. */
  private now(): number {
    return Math.floor(this.deps.clock.now().getTime() / 1000) * 1000;
  }

  /** A response never outlives the responder certificate that signed it. */
  private nextUpdate(now: number, status: CertStatus, responder: DelegatedResponder): number {
    const validity = status.type === 'unknown' ? UNKNOWN_RESPONSE_VALIDITY_MS : this.validityMs;
    return Math.min(now + validity, Math.floor(responder.notAfter.getTime() / 1000) * 1000);
  }

  private keyHashOf(signer: Signer): Buffer {
    let h = this.keyHashes.get(signer);
    if (!h) {
      h = responderKeyHash(signer.publicKey);
      this.keyHashes.set(signer, h);
    }
    return h;
  }
}
