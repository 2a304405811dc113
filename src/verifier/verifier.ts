import { decodeResidentFactsSan } from '../pki/resident-facts.js';
import { formatDateOfBirth } from '../pki/era.js';
import { MalformedCertificate, OID, parseCertificate, type ParsedCertificate } from './certificate.js';
import { checkCms, MalformedCms } from './cms.js';
import { AnchorSet, FirstPathMemo, IndexedPool, searchPaths, type CertificatePool } from './path-search.js';
import { RevocationChecker, type CertStatus } from './revocation.js';
import type { PathElement, PathReport, PolicyOptions, Reason, RevocationStatus, SignerFacts, SignerInfoReport, Verdict, VerificationReport, VerifierConfig, VerifyRequest } from './types.js';
import { PathMemo, SignatureCache, validatePath } from './validate.js';

export interface Verifier {
  /** Verifies a CMS SignedData (detached with `content`, or enveloping). Never throws. */
  verify(request: VerifyRequest): Promise<VerificationReport>;
  /** Path search + RFC 5280 validation + revocation for one certificate (DER), with extra untrusted certificates. */
  validateCertificate(certificate: Uint8Array, options?: { at?: Date; untrusted?: readonly Uint8Array[] }): Promise<PathReport>;
}

/** Candidate paths validated before giving up (each failing for its own reason). */
const MAX_CANDIDATES = 64;

interface PathOutcome {
  verdict: Verdict;
  reasons: Reason[];
  path: ParsedCertificate[];
  statuses: (CertStatus | null)[];
}

function iso(d: Date): string {
  return d.toISOString();
}

/** ISO forms of the dates revocation data carries (nextUpdate, revocation dates): the same Date objects, cached with that data, appear in every report. */
const isoForms = new WeakMap<Date, { time: number; iso: string }>();
function isoCached(d: Date): string {
  let f = isoForms.get(d);
  if (f === undefined || f.time !== d.getTime()) isoForms.set(d, (f = { time: d.getTime(), iso: d.toISOString() }));
  return f.iso;
}

function element(c: ParsedCertificate, anchor: boolean, s: CertStatus | null | undefined): PathElement {
  let revocation: RevocationStatus;
  if (anchor) revocation = { status: 'not-checked', source: 'anchor' };
  else if (!s) revocation = { status: 'not-checked', source: 'none' };
  else if (s.status === 'good') revocation = { status: 'good', source: s.source, ...(s.url ? { url: s.url } : {}), ...(s.nextUpdate ? { nextUpdate: isoCached(s.nextUpdate) } : {}) };
  else if (s.status === 'revoked') revocation = { status: 'revoked', source: s.source, ...(s.url ? { url: s.url } : {}), revokedAt: isoCached(s.revokedAt), revocationReason: s.reason };
  else revocation = { status: 'unknown', source: 'none' };
  return { subject: c.subjectText, issuer: c.issuerText, serial: c.serialHex, fingerprint: c.fingerprint, notBefore: c.notBeforeIso, notAfter: c.notAfterIso, anchor, revocation };
}

/** Facts and base64 of each signer certificate, decoded once (a resident signs many applications). */
const signerParts = new WeakMap<ParsedCertificate, { facts: SignerFacts | null; base64: string }>();

/** The resident's facts from a JPKI signing certificate's subjectAltName (the existing decoder), or null. */
function factsOf(c: ParsedCertificate): SignerFacts | null {
  const san = c.extensions.get(OID.subjectAltName);
  if (!san) return null;
  try {
    const f = decodeResidentFactsSan(san.value);
    return {
      name: f.name,
      dateOfBirth: f.dateOfBirth,
      dateOfBirthEra: formatDateOfBirth(f.dateOfBirthCode) ?? f.dateOfBirth,
      sex: f.sex,
      address: f.address,
      nameSubstitute: f.nameSubstitute,
      addressSubstitute: f.addressSubstitute,
    };
  } catch {
    return null;
  }
}

function signerReport(c: ParsedCertificate): SignerInfoReport {
  let parts = signerParts.get(c);
  if (!parts) signerParts.set(c, (parts = { facts: factsOf(c), base64: c.der.toString('base64') }));
  // a copy of the facts: the report is the caller's to change
  return { subject: c.subjectText, issuer: c.issuerText, serial: c.serialHex, notBefore: c.notBeforeIso, notAfter: c.notAfterIso, certificate: parts.base64, facts: parts.facts && { ...parts.facts } };
}

function verdictOf(reasons: readonly Reason[]): Verdict {
  if (reasons.length === 0) return 'valid';
  return reasons.every((r) => r.code === 'revocation-unavailable') ? 'indeterminate' : 'invalid';
}

/** Rank of an outcome when no path is valid: the report shows the path that got furthest. */
function rank(o: PathOutcome): number {
  if (o.verdict === 'indeterminate') return 3;
  if (o.reasons.some((r) => r.code === 'revoked')) return 2;
  return 1;
}

class Engine implements Verifier {
  private readonly anchors: ParsedCertificate[] = [];
  private readonly anchorSet: AnchorSet;
  private readonly pool: IndexedPool;
  private readonly signatures = new SignatureCache();
  private readonly paths = new PathMemo();
  private readonly firstPaths = new FirstPathMemo();
  /** The policy inputs as given at construction: the path memo's results hold for these alone. */
  private readonly policy: PolicyOptions | undefined;
  private readonly revocation: RevocationChecker;
  private readonly now: () => Date;
  private readonly configProblems: string[] = [];

  constructor(private readonly config: VerifierConfig) {
    this.now = () => (config.clock ? config.clock.now() : new Date());
    const p = config.policy;
    this.policy = p && { ...p, ...(p.initialPolicySet ? { initialPolicySet: [...p.initialPolicySet] } : {}) };
    for (const der of config.anchors) {
      try {
        this.anchors.push(parseCertificate(der));
      } catch (e) {
        this.configProblems.push(`a trust anchor cannot be read: ${(e as Error).message}`);
      }
    }
    this.anchorSet = new AnchorSet(this.anchors);
    this.pool = new IndexedPool();
    for (const der of config.intermediates ?? []) {
      try {
        this.pool.add(parseCertificate(der));
      } catch {
        /* an unreadable pool certificate is skipped */
      }
    }
    this.revocation = new RevocationChecker(config.revocation ?? {}, this.now, this.signatures);
  }

  async verify(request: VerifyRequest): Promise<VerificationReport> {
    const at = request.at ?? this.now();
    const report: VerificationReport = { verdict: 'invalid', reasons: [], validatedAt: iso(at), signingTime: null, mode: null, signatureAlgorithm: null, signer: null, path: [] };
    try {
      const cms = checkCms(request.signature, request.content);
      report.mode = cms.mode;
      report.signatureAlgorithm = cms.algorithm;
      report.signingTime = cms.signingTime ? iso(cms.signingTime) : null;
      report.signer = cms.signer ? signerReport(cms.signer) : null;
      report.reasons.push(...cms.problems.map((p) => ({ ...p, ...(cms.signer ? { subject: cms.signer.subjectText } : {}) })));
      if (cms.signer) {
        const outcome = await this.validate(cms.signer, at, cms.certificates, new Set());
        report.path = outcome.path.map((c, i) => element(c, i === 0, outcome.statuses[i]));
        report.reasons.push(...outcome.reasons);
      }
    } catch (e) {
      if (e instanceof MalformedCms || e instanceof MalformedCertificate) report.reasons.push({ code: 'malformed', message: e.message });
      else report.reasons.push({ code: 'malformed', message: `the signature cannot be processed: ${(e as Error).message}` });
    }
    report.verdict = verdictOf(report.reasons);
    return report;
  }

  async validateCertificate(certificate: Uint8Array, options: { at?: Date; untrusted?: readonly Uint8Array[] } = {}): Promise<PathReport> {
    const at = options.at ?? this.now();
    try {
      const target = parseCertificate(certificate);
      const extra: ParsedCertificate[] = [];
      for (const der of options.untrusted ?? []) {
        try {
          extra.push(parseCertificate(der));
        } catch {
          /* skipped */
        }
      }
      const o = await this.validate(target, at, extra, new Set());
      return { verdict: o.verdict, reasons: o.reasons, path: o.path.map((c, i) => element(c, i === 0, o.statuses[i])), validatedAt: iso(at) };
    } catch (e) {
      return { verdict: 'invalid', reasons: [{ code: 'malformed', message: (e as Error).message }], path: [], validatedAt: iso(at) };
    }
  }

  /** Search, validate, check revocation; backtrack to the next candidate path on any failure. */
  private async validate(target: ParsedCertificate, at: Date, extra: readonly ParsedCertificate[] | CertificatePool, inProgress: Set<string>): Promise<PathOutcome> {
    if (this.configProblems.length) return { verdict: 'invalid', reasons: this.configProblems.map((m) => ({ code: 'malformed' as const, message: m })), path: [], statuses: [] };
    const pool = !Array.isArray(extra) ? (extra as CertificatePool) : extra.length ? this.pool.with(extra) : this.pool;
    const search = { at, maxDepth: this.config.maxDepth ?? 8 };
    // a search over the verifier's pool plus a message's certificates is remembered; one inside a CRL signer's check is not
    const paths = Array.isArray(extra)
      ? this.firstPaths.paths(target, this.anchorSet, pool, (extra as readonly ParsedCertificate[]).map((c) => c.id).join(','), search)
      : searchPaths(target, this.anchorSet, pool, search);
    let best: PathOutcome | undefined;
    let tried = 0;
    inProgress.add(target.fingerprint);
    try {
      for (const path of paths) {
        if (++tried > MAX_CANDIDATES) break;
        const outcome = await this.tryPath(path, at, pool, inProgress);
        if (outcome.verdict === 'valid') return outcome;
        if (!best || rank(outcome) > rank(best)) best = outcome;
      }
    } catch (e) {
      if (e instanceof MalformedCertificate) return { verdict: 'invalid', reasons: [{ code: 'malformed', message: e.message }], path: best?.path ?? [], statuses: [] };
      throw e;
    } finally {
      inProgress.delete(target.fingerprint);
    }
    if (best) return best;
    return {
      verdict: 'invalid',
      reasons: [{ code: 'no-path', message: `no certification path from ${target.subjectText} (issued by ${target.issuerText}) to a trusted anchor`, subject: target.subjectText }],
      path: [],
      statuses: [],
    };
  }

  private async tryPath(path: ParsedCertificate[], at: Date, pool: CertificatePool, inProgress: Set<string>): Promise<PathOutcome> {
    const v = validatePath(path, { at, policy: this.policy, signatures: this.signatures, memo: this.paths });
    const reasons: Reason[] = v.problems.map((p) => ({ code: p.code, message: p.message, subject: path[p.index]!.subjectText }));
    const statuses: (CertStatus | null)[] = path.map(() => null);
    if (reasons.length) return { verdict: verdictOf(reasons), reasons, path, statuses };
    if (this.revocation.mode === 'off') return { verdict: 'valid', reasons, path, statuses };
    const signerCheck = {
      candidates: (k: string) => [...this.anchors.filter((a) => a.subjectKey === k), ...pool.bySubject(k)],
      trusted: async (c: ParsedCertificate) => {
        if (path.some((p) => p.fingerprint === c.fingerprint) || this.anchors.some((a) => a.fingerprint === c.fingerprint)) return true;
        if (inProgress.has(c.fingerprint)) return true; // its status is being established further up (a CRL issuer on its own CRL)
        const o = await this.validate(c, at, pool, inProgress);
        return o.verdict === 'valid';
      },
    };
    for (let i = path.length - 1; i >= 1; i--) {
      const cert = path[i]!;
      if (cert.extensions.has(OID.ocspNoCheck) && cert.extKeyUsage?.includes(OID.kpOcspSigning)) continue;
      let paramsFrom = i - 1;
      while (paramsFrom > 0 && path[paramsFrom]!.hasDsaKeyWithoutParameters) paramsFrom--;
      const s = await this.revocation.status(cert, path[i - 1]!, at, signerCheck, path[paramsFrom]);
      statuses[i] = s;
      if (s.status === 'revoked') {
        const effective = s.revokedAt <= at || s.reason === 'keyCompromise' || s.reason === 'cACompromise';
        if (effective)
          reasons.push({ code: 'revoked', message: `the certificate of ${cert.subjectText} was revoked on ${iso(s.revokedAt)} (${s.reason})`, subject: cert.subjectText, revokedAt: iso(s.revokedAt), revocationReason: s.reason });
      } else if (s.status === 'undetermined' && (this.revocation.mode === 'require' || s.defect)) {
        reasons.push({ code: 'revocation-unavailable', message: `the revocation status of ${cert.subjectText} cannot be established: ${s.why}`, subject: cert.subjectText });
      }
    }
    return { verdict: verdictOf(reasons), reasons, path, statuses };
  }
}

export function createVerifier(config: VerifierConfig): Verifier {
  return new Engine(config);
}

export async function verifySignedData(request: VerifyRequest, config: VerifierConfig): Promise<VerificationReport> {
  return createVerifier(config).verify(request);
}
