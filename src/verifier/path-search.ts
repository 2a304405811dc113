import type { ParsedCertificate } from './certificate.js';

/**
 * Path SEARCH (issue 9: no library does it for a bridge): from the target certificate up to one of the
 * relying party's trust anchors, depth first, over every certificate whose subject names the issuer we are
 * at. A name can have several candidates (the CA's self-signed certificate, cross-certificates from each
 * bridge neighbour, old and new keys after a rollover); they are tried in preference order and the search
 * backtracks when a branch dies or the caller rejects the path it yielded. Loops (a cross-certificate pair
 * leads back to a name and key already on the path) are cut, the depth is limited, and so is the total
 * work, so a hostile pool cannot make the search run for ever (pkijs's engine never returns on cycles).
 */

export interface CertificatePool {
  bySubject(nameKey: string): readonly ParsedCertificate[];
}

export class IndexedPool implements CertificatePool {
  private readonly map = new Map<string, ParsedCertificate[]>();
  private readonly seen = new Set<string>();
  constructor(certs: Iterable<ParsedCertificate> = []) {
    for (const c of certs) this.add(c);
  }
  add(c: ParsedCertificate): void {
    if (this.seen.has(c.fingerprint)) return;
    this.seen.add(c.fingerprint);
    const list = this.map.get(c.subjectKey);
    if (list) list.push(c);
    else this.map.set(c.subjectKey, [c]);
  }
  bySubject(nameKey: string): readonly ParsedCertificate[] {
    return this.map.get(nameKey) ?? [];
  }
  /** A pool that sees this one's certificates and `extra`. */
  with(extra: Iterable<ParsedCertificate>): CertificatePool {
    const more = new IndexedPool(extra);
    return { bySubject: (k) => [...this.bySubject(k), ...more.bySubject(k).filter((c) => !this.seen.has(c.fingerprint))] };
  }
}

export interface SearchOptions {
  at: Date;
  /** Certificates below the anchor, at most (default 8). */
  maxDepth: number;
  /** Candidate issuers examined in total before giving up (default 2000). */
  budget?: number;
}

/** Higher is tried first. */
function preference(child: ParsedCertificate, candidate: ParsedCertificate, at: Date, anchorNames: Set<string>): number {
  let score = 0;
  const aki = child.authorityKeyId;
  const ski = candidate.subjectKeyId;
  if (aki && ski) score += aki.equals(ski) ? 8 : -8;
  if (candidate.notBefore <= at && at <= candidate.notAfter) score += 4;
  if (anchorNames.has(candidate.issuerKey)) score += 2;
  if (!candidate.selfIssued) score += 1;
  return score;
}

function sameEntity(a: ParsedCertificate, b: ParsedCertificate): boolean {
  return a.fingerprint === b.fingerprint || (a.subjectKey === b.subjectKey && a.spkiDer.equals(b.spkiDer));
}

/**
 * Yields candidate paths, anchor first and target last ([anchor, CA…, target]), best first. The caller
 * validates each and stops at the first that passes.
 */
export function* searchPaths(target: ParsedCertificate, anchors: readonly ParsedCertificate[], pool: CertificatePool, o: SearchOptions): Generator<ParsedCertificate[]> {
  const anchorIndex = new IndexedPool(anchors);
  const anchorNames = new Set(anchors.map((a) => a.subjectKey));
  let budget = o.budget ?? 2000;
  const chain: ParsedCertificate[] = [target];

  function* up(): Generator<ParsedCertificate[]> {
    const cert = chain[chain.length - 1]!;
    // An anchor that names this issuer ends the path (preferring the key the AKI names).
    const ends = [...anchorIndex.bySubject(cert.issuerKey)].sort((a, b) => preference(cert, b, o.at, anchorNames) - preference(cert, a, o.at, anchorNames));
    for (const anchor of ends) {
      if (chain.some((c) => c.fingerprint === anchor.fingerprint)) continue;
      yield [anchor, ...[...chain].reverse()];
    }
    if (chain.length >= o.maxDepth) return;
    const candidates = pool
      .bySubject(cert.issuerKey)
      .filter((c) => !chain.some((on) => sameEntity(on, c)) && !anchors.some((a) => a.fingerprint === c.fingerprint))
      .sort((a, b) => preference(cert, b, o.at, anchorNames) - preference(cert, a, o.at, anchorNames));
    for (const c of candidates) {
      if (--budget < 0) return;
      chain.push(c);
      yield* up();
      chain.pop();
    }
  }
  yield* up();
}
