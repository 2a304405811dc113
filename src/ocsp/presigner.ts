import type { Clock } from '../common/clock.js';
import type { PresignCandidate, StoredOcspResponse } from '../store/index.js';
import type { OcspResponseTable } from './ports.js';
import { encodeCertId, type CertIdHash } from './cert-id.js';
import type { Issuer, IssuerIndex } from './issuers.js';
import { OCSP_RESPONSE_VALIDITY_MS, type LiveSigner } from './live-signer.js';
import type { StoredResponses } from './stored-responses.js';

export interface PresignOptions {
  /** Only these CAs (default: every CA). */
  caIds?: readonly string[];
  /** The CertID hash algorithm to sign for (default SHA-1, what RFC 5019 clients send). */
  hash?: CertIdHash;
  /** Certificates per store read and per store transaction. */
  batchSize?: number;
  /** Signatures in flight (the key store signs on the libuv pool, or on an HSM's sessions). */
  concurrency?: number;
  /** Also keep the responses in memory (benchmarks, small installations). */
  warmCache?: boolean;
}

export interface PresignReport {
  signed: number;
  seconds: number;
  perSecond: number;
}

/**
 * Signs ahead of time (Boulder's original design): every unexpired certificate whose stored response is
 * missing, stale or past its refresh point gets a new one. `jpki ocsp presign` and `jpki serve
 * --ocsp-presign all` run it; at national scale the responder signs on first request instead
 * (docs/ocsp.md has the measurements behind that choice).
 */
export class Presigner {
  constructor(
    private readonly deps: { responses: OcspResponseTable; issuers: IssuerIndex; live: LiveSigner; stored: StoredResponses; clock: Clock; position: () => number },
  ) {}

  async run(options: PresignOptions = {}): Promise<PresignReport> {
    const { responses, issuers, clock } = this.deps;
    const hash = options.hash ?? 'sha1';
    const batchSize = options.batchSize ?? 1000;
    const concurrency = options.concurrency ?? 8;
    await issuers.ready();
    const caIds = options.caIds ?? issuers.all().map((i) => i.caId);
    const t0 = performance.now();
    let signed = 0;
    for (const caId of caIds) {
      const issuer = issuers.get(caId);
      if (!issuer) continue;
      let afterId = 0;
      for (;;) {
        const now = clock.now().getTime();
        const batch = await responses.presignCandidates(caId, hash, now, now + OCSP_RESPONSE_VALIDITY_MS / 2, afterId, batchSize);
        if (batch.length === 0) break;
        afterId = batch[batch.length - 1]!.id;
        const records = await this.signAll(issuer, hash, batch, concurrency, options.warmCache ?? false);
        await responses.putAll(records);
        signed += records.length;
      }
    }
    const seconds = (performance.now() - t0) / 1000;
    return { signed, seconds, perSecond: seconds > 0 ? signed / seconds : 0 };
  }

  private async signAll(issuer: Issuer, hash: CertIdHash, work: PresignCandidate[], concurrency: number, warm: boolean): Promise<StoredOcspResponse[]> {
    const out: StoredOcspResponse[] = [];
    let next = 0;
    const worker = async () => {
      while (next < work.length) {
        const c = work[next++]!;
        const serial = c.serial;
        const certId = encodeCertId(hash, issuer, serial);
        const position = this.deps.position();
        const s = await this.deps.live.signSingle(issuer, { der: certId, serial }, { revokedAt: c.revokedAt, reason: c.reason });
        if (s.status === 'unknown') continue; // never for a known certificate; keeps the stored status honest
        if (warm) this.deps.stored.save(issuer, { der: certId, serial, hash }, s, position, { persist: false });
        out.push({ caId: issuer.caId, serial, hashAlgorithm: hash, certId, certStatus: s.status, thisUpdate: s.thisUpdate, nextUpdate: s.nextUpdate, der: s.der });
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, concurrency) }, worker));
    return out;
  }
}
