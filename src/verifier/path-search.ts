import type { ParsedCertificate } from './certificate.js';
import { BoundedMap } from './memo.js';

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
  has(c: ParsedCertificate): boolean {
    return this.seen.has(c.fingerprint);
  }
  /** A pool that sees this one's certificates and `extra`. */
  with(extra: Iterable<ParsedCertificate>): CertificatePool {
    return new ExtendedPool(this, new IndexedPool(extra));
  }
}

/** A pool and the certificates a message adds (made per verification: a class, not closures). */
class ExtendedPool implements CertificatePool {
  constructor(
    private readonly base: IndexedPool,
    private readonly more: IndexedPool,
  ) {}
  bySubject(nameKey: string): readonly ParsedCertificate[] {
    const added = this.more.bySubject(nameKey);
    return added.length ? [...this.base.bySubject(nameKey), ...added.filter((c) => !this.base.has(c))] : this.base.bySubject(nameKey);
  }
}

/** The relying party's trust anchors, indexed once per verifier rather than once per search. */
export class AnchorSet {
  readonly index: IndexedPool;
  readonly names: Set<string>;
  readonly fingerprints: Set<string>;
  constructor(list: readonly ParsedCertificate[]) {
    this.index = new IndexedPool(list);
    this.names = new Set(list.map((a) => a.subjectKey));
    this.fingerprints = new Set(list.map((a) => a.fingerprint));
  }
}

export interface SearchOptions {
  at: Date;
  /** Certificates below the anchor, at most (default 8). */
  maxDepth: number;
  /** Candidate issuers examined in total before giving up (default 2000). */
  budget?: number;
  /**
   * Narrowed (ms since the epoch, inclusive) to the times at which every validity the search has consulted
   * reads as it did at `at`: the time is the search's only input that changes between verifications.
   */
  span?: { from: number; to: number };
}

/** Higher is tried first. */
function preference(child: ParsedCertificate, candidate: ParsedCertificate, o: SearchOptions, anchorNames: Set<string>): number {
  let score = 0;
  const aki = child.authorityKeyId;
  const ski = candidate.subjectKeyId;
  if (aki && ski) score += aki.equals(ski) ? 8 : -8;
  const valid = candidate.notBefore <= o.at && o.at <= candidate.notAfter;
  if (valid) score += 4;
  if (o.span) {
    const nb = candidate.notBefore.getTime();
    const na = candidate.notAfter.getTime();
    if (valid) narrow(o.span, nb, na);
    else if (o.at.getTime() < nb) narrow(o.span, -Infinity, nb - 1);
    else narrow(o.span, na + 1, Infinity);
  }
  if (anchorNames.has(candidate.issuerKey)) score += 2;
  if (!candidate.selfIssued) score += 1;
  return score;
}

function narrow(span: { from: number; to: number }, from: number, to: number): void {
  span.from = Math.max(span.from, from);
  span.to = Math.min(span.to, to);
}

function sameEntity(a: ParsedCertificate, b: ParsedCertificate): boolean {
  return a.fingerprint === b.fingerprint || (a.subjectKey === b.subjectKey && a.spkiDer.equals(b.spkiDer));
}

/** `candidates` best first (a stable sort on the preference, each computed once). */
function byPreference(child: ParsedCertificate, candidates: readonly ParsedCertificate[], o: SearchOptions, anchorNames: Set<string>): ParsedCertificate[] {
  if (candidates.length < 2) return [...candidates];
  return candidates
    .map((c) => ({ c, score: preference(child, c, o, anchorNames) }))
    .sort((a, b) => b.score - a.score)
    .map((x) => x.c);
}

/**
 * Yields candidate paths, anchor first and target last ([anchor, CA…, target]), best first. The caller
 * validates each and stops at the first that passes.
 */
export function* searchPaths(target: ParsedCertificate, anchors: AnchorSet, pool: CertificatePool, o: SearchOptions): Generator<ParsedCertificate[]> {
  let budget = o.budget ?? 2000;
  const chain: ParsedCertificate[] = [target];

  function* up(): Generator<ParsedCertificate[]> {
    const cert = chain[chain.length - 1]!;
    // An anchor that names this issuer ends the path (preferring the key the AKI names).
    for (const anchor of byPreference(cert, anchors.index.bySubject(cert.issuerKey), o, anchors.names)) {
      if (chain.some((c) => c.fingerprint === anchor.fingerprint)) continue;
      yield [anchor, ...[...chain].reverse()];
    }
    if (chain.length >= o.maxDepth) return;
    const candidates = byPreference(
      cert,
      pool.bySubject(cert.issuerKey).filter((c) => !chain.some((on) => sameEntity(on, c)) && !anchors.fingerprints.has(c.fingerprint)),
      o,
      anchors.names,
    );
    for (const c of candidates) {
      if (--budget < 0) return;
      chain.push(c);
      yield* up();
      chain.pop();
    }
  }
  yield* up();
}

/**
 * The first path of each search, remembered with its span of times (a verifier's anchors and pool are fixed,
 * so the target, the certificates the message adds and the time decide the search): a repeat inside the span
 * yields it without searching. When the caller asks for more (the first path failed), the search runs as it
 * always did and its first path, the same one, is skipped: the sequence of paths is exactly searchPaths's.
 */
export class FirstPathMemo {
  private readonly map = new BoundedMap<string, { path: readonly ParsedCertificate[]; from: number; to: number }>(5000);

  /** `poolKey` names what the pool adds to the verifier's own (the extra certificates' ids, in order). */
  *paths(target: ParsedCertificate, anchors: AnchorSet, pool: CertificatePool, poolKey: string, o: SearchOptions): Generator<ParsedCertificate[]> {
    const key = `${target.id}|${poolKey}`;
    const t = o.at.getTime();
    const hit = this.map.peek(key);
    if (hit && hit.from <= t && t <= hit.to) {
      yield [...hit.path];
      const search = searchPaths(target, anchors, pool, o);
      const first = search.next();
      if (first.done) return;
      if (!samePath(first.value, hit.path)) yield first.value; // cannot differ; if it did, it is tried all the same
      yield* search;
      return;
    }
    const span = { from: -Infinity, to: Infinity };
    const search = searchPaths(target, anchors, pool, { ...o, span });
    const first = search.next();
    if (first.done) return;
    this.map.set(key, { path: [...first.value], from: span.from, to: span.to });
    yield first.value;
    yield* search;
  }
}

function samePath(a: readonly ParsedCertificate[], b: readonly ParsedCertificate[]): boolean {
  return a.length === b.length && a.every((c, i) => c === b[i]);
}
