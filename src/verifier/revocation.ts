import type { DistributionPoint, DistributionPointName } from '@peculiar/asn1-x509';
import { KEY_USAGE, type ParsedCertificate } from './certificate.js';
import { distributionPointNames, generalNameKeys, MalformedCrl, ParsedCrl, REASON_NAMES, REMOVE_FROM_CRL } from './crl.js';
import { BoundedMap } from './memo.js';
import { examineOcspResponse, ocspRequest, outcomeAt, type OcspFacts, type OcspOutcome } from './ocsp.js';
import { verifySignatureWith } from './signatures.js';
import type { RevocationFetcher, RevocationOptions } from './types.js';
import type { SignatureCache } from './validate.js';

/**
 * Revocation status of one certificate on a path (RFC 5280 §6.3 and RFC 6960): OCSP first (a configured
 * responder, then the certificate's AIA), CRLs as the fallback (the certificate's distribution points —
 * partition CRLs and the bridge's ARL for cross-certificates — with delta CRLs, indirect CRLs and reason
 * partitions), everything fetched through the injected port and cached until its nextUpdate. A status that
 * cannot be established is `undetermined`: never good.
 */
export type CertStatus =
  | { status: 'good'; source: 'ocsp' | 'crl'; url?: string; nextUpdate?: Date }
  | { status: 'revoked'; source: 'ocsp' | 'crl'; url?: string; revokedAt: Date; reason: string }
  /** `defect`: information was there but failed its checks (a bad signature, another issuer), not merely missing. */
  | { status: 'undetermined'; why: string; defect?: boolean };

/** Other certificates that may sign a CRL (§6.3.3 f), and whether one of them has a valid path itself. */
export interface CrlSignerCheck {
  candidates(issuerNameKey: string): readonly ParsedCertificate[];
  trusted(candidate: ParsedCertificate): Promise<boolean>;
}

const ALL_REASONS = 2 | 4 | 8 | 16 | 32 | 64 | 128 | 256;

interface Cached<T> {
  value: T;
  until: number;
}

/** A fetched OCSP answer: its time-independent checks done once, the time checks redone on every use. */
type FetchedOcsp = { facts: OcspFacts } | { error: string };

export class RevocationChecker {
  private readonly crls: ParsedCrl[] = [];
  private readonly fetchedCrls = new BoundedMap<string, Cached<ParsedCrl | Error>>(1000);
  private readonly ocspCache = new BoundedMap<string, Cached<FetchedOcsp>>(10_000);
  private readonly given: ParsedCrl[] = [];
  /** Copies: the facts kept about them hold for these bytes. */
  private readonly givenOcsp: Buffer[];
  /** Facts of the responses handed in, by (response index, certificate, issuer). */
  private readonly givenOcspFacts = new BoundedMap<string, OcspFacts>(10_000);
  private readonly fetcher: RevocationFetcher | undefined;
  private readonly timeoutMs: number;
  /** CRL + signer (+ DSA parameters' source) → whether the signature verifies (a cached ARL is checked once). */
  private readonly crlSignatures = new BoundedMap<string, boolean>(10_000);

  constructor(
    private readonly o: RevocationOptions,
    private readonly now: () => Date,
    private readonly signatures: SignatureCache,
  ) {
    for (const der of o.crls ?? []) {
      try {
        this.given.push(new ParsedCrl(der));
      } catch {
        /* a broken CRL is no information */
      }
    }
    this.givenOcsp = (o.ocspResponses ?? []).map((der) => Buffer.from(der));
    this.fetcher = o.fetcher;
    this.timeoutMs = o.timeoutMs ?? 5000;
    void this.crls;
  }

  get mode(): 'require' | 'soft' | 'off' {
    return this.o.mode ?? 'require';
  }

  private async fetch(url: string, body?: Uint8Array): Promise<Uint8Array> {
    if (!this.fetcher) throw new Error('no fetcher configured');
    const ac = new AbortController();
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        reject(new Error(`no answer from ${url} within ${this.timeoutMs} ms`)); // first: the race reports the timeout
        ac.abort();
      }, this.timeoutMs);
    });
    try {
      return await Promise.race([this.fetcher.fetch(url, body ? { body, contentType: 'application/ocsp-request', signal: ac.signal } : { signal: ac.signal }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async crlAt(url: string): Promise<ParsedCrl | Error> {
    const now = this.now().getTime();
    const hit = this.fetchedCrls.peek(url);
    if (hit && hit.until > now) return hit.value;
    let value: ParsedCrl | Error;
    try {
      value = new ParsedCrl(await this.fetch(url));
    } catch (e) {
      value = e instanceof MalformedCrl ? e : new Error(`CRL ${url}: ${(e as Error).message}`);
    }
    const until = value instanceof ParsedCrl ? Math.min(value.nextUpdate?.getTime() ?? now + 3600_000, now + 24 * 3600_000) : now + 30_000;
    this.fetchedCrls.set(url, { value, until });
    return value;
  }

  /** The status of `cert` (issued by `issuer`, the certificate above it on the path) at `at`. */
  async status(cert: ParsedCertificate, issuer: ParsedCertificate, at: Date, crlSigner: CrlSignerCheck, dsaParamsFrom?: ParsedCertificate): Promise<CertStatus> {
    const notes: string[] = [];
    if (this.o.ocsp !== false) {
      const s = await this.ocspStatus(cert, issuer, at, notes);
      if (s) return s;
    }
    return this.crlStatus(cert, issuer, at, crlSigner, notes, dsaParamsFrom);
  }

  private async ocspStatus(cert: ParsedCertificate, issuer: ParsedCertificate, at: Date, notes: string[]): Promise<CertStatus | undefined> {
    // responses handed in first (stapled, or from a file)
    for (const [i, der] of this.givenOcsp.entries()) {
      const facts = this.givenOcspFacts.get(`${i}|${cert.id}|${issuer.id}`, () => examineOcspResponse(der, cert, issuer, this.signatures));
      const r = outcomeAt(facts, at);
      if (r.kind === 'not-for-this') continue;
      if (r.kind === 'unusable') return { status: 'undetermined', why: r.why, defect: true };
      if (r.status === 'good') return { status: 'good', source: 'ocsp', nextUpdate: r.nextUpdate };
      if (r.status === 'revoked') return { status: 'revoked', source: 'ocsp', revokedAt: r.revokedAt!, reason: REASON_NAMES[r.reason ?? 0] ?? 'unspecified' };
    }
    if (!this.fetcher) return undefined;
    const urls = this.o.ocspResponder ? [...new Set([this.o.ocspResponder, ...cert.ocspUrls])] : cert.ocspUrls;
    if (urls.length === 0) return undefined;
    const now = this.now().getTime();
    for (const url of urls) {
      const key = `${url}|${cert.fingerprint}|${issuer.fingerprint}`; // by bytes: a certificate parsed again keeps its answer
      let entry = this.ocspCache.peek(key);
      let result: CertStatus;
      if (entry && entry.until > now) result = 'error' in entry.value ? { status: 'undetermined', why: entry.value.error } : ocspCertStatus(outcomeAt(entry.value.facts, at), url);
      else {
        try {
          const facts = examineOcspResponse(await this.fetch(url, ocspRequest(cert, issuer)), cert, issuer, this.signatures);
          const r = outcomeAt(facts, at);
          result = ocspCertStatus(r, url);
          const until = result.status === 'undetermined' ? now + 30_000 : Math.min(r.kind === 'status' && r.nextUpdate ? r.nextUpdate.getTime() : now + 60_000, now + 24 * 3600_000);
          entry = { value: { facts }, until };
        } catch (e) {
          result = { status: 'undetermined', why: `OCSP ${url}: ${(e as Error).message}` };
          entry = { value: { error: result.why }, until: now + 30_000 };
        }
        this.ocspCache.set(key, entry);
      }
      if (result.status !== 'undetermined') return result;
      notes.push(result.why);
    }
    return undefined;
  }

  /** CRLs that may speak for the distribution point: the ones handed in, and those at its URLs. */
  private async crlsFor(urls: string[]): Promise<{ crls: { crl: ParsedCrl; url?: string }[]; errors: string[] }> {
    const out: { crl: ParsedCrl; url?: string }[] = this.given.map((crl) => ({ crl }));
    const errors: string[] = [];
    for (const url of urls) {
      if (!/^https?:/i.test(url)) continue;
      const c = await this.crlAt(url);
      if (c instanceof ParsedCrl) out.push({ crl: c, url });
      else errors.push(c.message);
    }
    return { crls: out, errors };
  }

  private async crlStatus(cert: ParsedCertificate, issuer: ParsedCertificate, at: Date, crlSigner: CrlSignerCheck, notes: string[], dsaParamsFrom?: ParsedCertificate): Promise<CertStatus> {
    const dps: DistributionPoint[] = cert.crlDistributionPoints ?? [{} as DistributionPoint];
    let reasonsMask = 0;
    let lastUrl: string | undefined;
    let nextUpdate: Date | undefined;
    const why: string[] = [...notes];
    for (const [index, dp] of dps.entries()) {
      if (reasonsMask === ALL_REASONS) break;
      const { dpIssuerNames, dpNames, urls } = pointNames(cert, index, dp);
      const freshestUrls = freshestUrlsOf(cert);
      const { crls, errors } = await this.crlsFor(urls);
      why.push(...errors);
      for (const { crl, url } of crls) {
        if (reasonsMask === ALL_REASONS) break;
        if (crl.isDelta) continue;
        // issuer (§6.3.3 b 1)
        if (dp.cRLIssuer) {
          if (!dpIssuerNames.includes(`dn:${crl.issuerKey}`) || !crl.idp?.indirectCRL) continue;
        } else if (crl.issuerKey !== cert.issuerKey) continue;
        // scope (b 2)
        const idp = crl.idp;
        if (idp) {
          if (idp.distributionPoint) {
            const idpNames = crlPointNames(crl, idp.distributionPoint);
            const against = dp.distributionPoint ? dpNames : dp.cRLIssuer ? dpIssuerNames : [];
            if (!idpNames.some((n) => against.includes(n))) continue;
          }
          if (idp.onlyContainsUserCerts && cert.isCa) continue;
          if (idp.onlyContainsCACerts && !cert.isCa) continue;
          if (idp.onlyContainsAttributeCerts) continue;
        }
        // currency (a)
        if (crl.nextUpdate && crl.nextUpdate < at) {
          why.push(`the CRL of ${crl.issuerText} is stale (nextUpdate ${crl.nextUpdate.toISOString()})`);
          continue;
        }
        // reasons (d)
        const dpReasons = dp.reasons ? dp.reasons.toNumber() & ALL_REASONS : ALL_REASONS;
        const idpReasons = idp?.onlySomeReasons ? idp.onlySomeReasons.toNumber() & ALL_REASONS : ALL_REASONS;
        const interim = dpReasons & idpReasons;
        if ((interim & ~reasonsMask) === 0) continue;
        if (crl.unknownCritical.length) {
          why.push(`the CRL of ${crl.issuerText} has critical extensions this verifier does not process (${crl.unknownCritical.join(', ')})`);
          continue;
        }
        // signer (f)
        const signer = await this.findSigner(crl, issuer, crlSigner, why, dsaParamsFrom);
        if (!signer) continue;
        // delta (g)
        const deltaUrls = [...freshestUrls, ...crlFreshestUrls(crl)];
        const pool = deltaUrls.length ? (await this.crlsFor(deltaUrls)).crls : crls;
        const delta = pool
          .filter((p) => p.crl.isDelta)
          .map((p) => p.crl)
          .filter(
            (d) =>
              d.isDelta &&
              d.issuerKey === crl.issuerKey &&
              d.idpKey === crl.idpKey &&
              crl.crlNumber !== undefined &&
              d.deltaBase! <= crl.crlNumber &&
              (d.crlNumber ?? 0n) > crl.crlNumber &&
              !(d.nextUpdate && d.nextUpdate < at) &&
              d.unknownCritical.length === 0 &&
              this.crlSignedBy(d, signer, dsaParamsFrom),
          )
          .sort((a, b) => Number((b.crlNumber ?? 0n) - (a.crlNumber ?? 0n)))[0];
        const entryIssuer = cert.issuerKey;
        const inDelta = delta?.entry(entryIssuer, cert.serialHex);
        const inBase = crl.entry(entryIssuer, cert.serialHex);
        const entry = inDelta ?? inBase;
        if (entry && entry.reason !== REMOVE_FROM_CRL) return { status: 'revoked', source: 'crl', url, revokedAt: entry.revokedAt, reason: REASON_NAMES[entry.reason ?? 0] ?? 'unspecified' };
        reasonsMask |= interim;
        lastUrl = url;
        if (crl.nextUpdate && (!nextUpdate || crl.nextUpdate < nextUpdate)) nextUpdate = crl.nextUpdate;
      }
    }
    if (reasonsMask === ALL_REASONS) return { status: 'good', source: 'crl', url: lastUrl, nextUpdate };
    return { status: 'undetermined', why: why.length ? [...new Set(why)].join('; ') : `no usable CRL or OCSP response for ${cert.subjectText}` };
  }

  /** `dsaParamsFrom`: where a DSA key without parameters takes them (RFC 3279 §2.3.2). */
  private crlSignedBy(crl: ParsedCrl, signer: ParsedCertificate, dsaParamsFrom?: ParsedCertificate): boolean {
    return this.crlSignatures.get(`${crl.id}|${signer.id}|${dsaParamsFrom?.id ?? ''}`, () => this.checkCrlSignature(crl, signer, dsaParamsFrom));
  }

  private checkCrlSignature(crl: ParsedCrl, signer: ParsedCertificate, dsaParamsFrom?: ParsedCertificate): boolean {
    try {
      const key = signer.hasDsaKeyWithoutParameters ? signer.publicKey(dsaParamsFrom) : signer.publicKey();
      return verifySignatureWith(crl.list.signatureAlgorithm, crl.tbs, Buffer.from(crl.list.signature), key);
    } catch {
      return false;
    }
  }

  private async findSigner(crl: ParsedCrl, issuer: ParsedCertificate, check: CrlSignerCheck, why: string[], dsaParamsFrom?: ParsedCertificate): Promise<ParsedCertificate | undefined> {
    if (issuer.subjectKey === crl.issuerKey && this.crlSignedBy(crl, issuer, dsaParamsFrom)) {
      if (maySignCrls(issuer)) return issuer;
      why.push(`the key of ${issuer.subjectText} may not sign CRLs (keyUsage lacks cRLSign)`);
      return undefined;
    }
    // another certificate of the CRL issuer (a separate CRL-signing key, an indirect CRL's issuer)
    for (const c of check.candidates(crl.issuerKey)) {
      if (c.fingerprint === issuer.fingerprint || !maySignCrls(c) || !this.crlSignedBy(crl, c)) continue;
      if (await check.trusted(c)) return c;
    }
    why.push(`the CRL of ${crl.issuerText} is not signed by a key we can trust for it`);
    return undefined;
  }
}

function maySignCrls(c: ParsedCertificate): boolean {
  return c.keyUsage === undefined || (c.keyUsage & KEY_USAGE.cRLSign) !== 0;
}

/** A fetched response's outcome as a status (`url`: where it came from). */
function ocspCertStatus(r: OcspOutcome, url: string): CertStatus {
  if (r.kind === 'status' && r.status === 'good') return { status: 'good', source: 'ocsp', url, nextUpdate: r.nextUpdate };
  if (r.kind === 'status' && r.status === 'revoked') return { status: 'revoked', source: 'ocsp', url, revokedAt: r.revokedAt!, reason: REASON_NAMES[r.reason ?? 0] ?? 'unspecified' };
  return { status: 'undetermined', why: r.kind === 'unusable' ? r.why : `OCSP ${url} does not know the certificate` };
}

/**
 * The names a certificate's distribution points and freshest-CRL pointers stand for, worked out once per
 * certificate (a function of its bytes; every verification of the bridge path asks for them again). Each is
 * computed when first reached, as before, so an unreadable pointer fails at the same step it always did.
 */
const pointNamesOf = new WeakMap<ParsedCertificate, { dps: { dpIssuerNames: string[]; dpNames: string[]; urls: string[] }[]; freshest?: string[] }>();

function pointsOf(cert: ParsedCertificate) {
  let p = pointNamesOf.get(cert);
  if (!p) pointNamesOf.set(cert, (p = { dps: [] }));
  return p;
}

function pointNames(cert: ParsedCertificate, index: number, dp: DistributionPoint) {
  const p = pointsOf(cert);
  let names = p.dps[index];
  if (!names) {
    const dpIssuerNames = dp.cRLIssuer ? generalNameKeys(dp.cRLIssuer) : [];
    const dpNames = distributionPointNames(dp.distributionPoint, dp.cRLIssuer?.find((g) => g.directoryName)?.directoryName ?? cert.issuer);
    names = p.dps[index] = { dpIssuerNames, dpNames, urls: uris(dpNames) };
  }
  return names;
}

function freshestUrlsOf(cert: ParsedCertificate): string[] {
  const p = pointsOf(cert);
  return (p.freshest ??= uris((cert.freshestCrl ?? []).flatMap((f) => distributionPointNames(f.distributionPoint, cert.issuer))));
}

/** The same for a CRL: its issuing distribution point's names and its freshest-CRL URLs. */
const crlNames = new WeakMap<ParsedCrl, { idp?: string[]; freshest?: string[] }>();
function namesOfCrl(crl: ParsedCrl) {
  let n = crlNames.get(crl);
  if (!n) crlNames.set(crl, (n = {}));
  return n;
}

function crlPointNames(crl: ParsedCrl, idp: DistributionPointName): string[] {
  const n = namesOfCrl(crl);
  return (n.idp ??= distributionPointNames(idp, crl.issuer));
}

function crlFreshestUrls(crl: ParsedCrl): string[] {
  const n = namesOfCrl(crl);
  return (n.freshest ??= uris(crl.freshest.flatMap((f) => distributionPointNames(f.distributionPoint, crl.issuer))));
}

function uris(names: string[]): string[] {
  return names.filter((n) => n.startsWith('uri:')).map((n) => n.slice(4));
}
