import { createHash } from 'node:crypto';
import type { PolicyOptions, ReasonCode } from './types.js';
import { KEY_USAGE, OID, type ParsedCertificate } from './certificate.js';
import { BoundedMap } from './memo.js';
import { NameConstraintState } from './name-constraints.js';
import { PolicyTree } from './policy-tree.js';
import { verifySignatureWith } from './signatures.js';

/**
 * RFC 5280 §6.1 basic path validation of one candidate path (trust anchor first). The anchor is trust
 * anchor information (its name and key); its own certificate is not checked. Revocation (§6.1.3 a 3) is
 * done by the caller, after this, for the path that passes.
 */
export interface PathProblem {
  code: ReasonCode;
  message: string;
  /** Index in the path (0 = anchor). */
  index: number;
}

export interface PathValidation {
  problems: PathProblem[];
  /** §6.1.5: the authorities-constrained policy set ∩ the user's set. */
  policies: string[];
}

/** Checked signatures: certificate + issuer (+ where a DSA key takes its parameters) → result (a bridge path is checked once). */
export class SignatureCache {
  private readonly map = new BoundedMap<string, boolean>(20_000);
  check(subject: ParsedCertificate, issuer: ParsedCertificate, inheritFrom?: ParsedCertificate): boolean {
    return this.map.get(`${subject.id}:${issuer.id}:${inheritFrom?.id ?? ''}`, () => {
      try {
        const pub = issuer.hasDsaKeyWithoutParameters ? issuer.publicKey(inheritFrom) : issuer.publicKey();
        return verifySignatureWith(subject.signatureAlgorithm, subject.tbs, subject.signatureValue, pub);
      } catch {
        return false;
      }
    });
  }
}

export function keyHash(c: ParsedCertificate): string {
  return createHash('sha256').update(c.spkiDer).digest('hex');
}

export interface ValidateOptions {
  at: Date;
  policy?: PolicyOptions;
  signatures: SignatureCache;
  /** The checks that do not depend on `at`, kept per path; only for one `policy` (a verifier's). */
  memo?: PathMemo;
}

/**
 * Results of the time-independent part of §6.1 by path (its certificates, anchor first): everything but the
 * validity periods depends only on the certificates' bytes and the policy inputs, so a path seen before (a
 * resident who signs again) skips the signatures, the names and the policy tree.
 */
export class PathMemo {
  private readonly map = new BoundedMap<string, PathValidation>(2000);
  get(path: readonly ParsedCertificate[], compute: () => PathValidation): PathValidation {
    return this.map.get(path.map((c) => c.id).join(':'), compute);
  }
}

/**
 * RFC 5280 §6.1 on `path` at `o.at`. The problems come in path order; for each certificate, the signature
 * first, then its validity period (§6.1.3 a 2), then the rest — the order the steps run in.
 */
export function validatePath(path: readonly ParsedCertificate[], o: ValidateOptions): PathValidation {
  const timeless = o.memo ? o.memo.get(path, () => timelessChecks(path, o)) : timelessChecks(path, o);
  const problems: PathProblem[] = [];
  let next = 0;
  for (let i = 1; i < path.length; i++) {
    const cert = path[i]!;
    const who = cert.subjectText;
    if (timeless.problems[next]?.index === i && timeless.problems[next]!.code === 'signature') problems.push(timeless.problems[next++]!);
    if (o.at < cert.notBefore) problems.push({ index: i, code: 'not-yet-valid', message: `the certificate of ${who} is not valid before ${cert.notBeforeIso}` });
    if (o.at > cert.notAfter) problems.push({ index: i, code: 'expired', message: `the certificate of ${who} expired on ${cert.notAfterIso}` });
    while (timeless.problems[next]?.index === i) problems.push(timeless.problems[next++]!);
  }
  problems.push(...timeless.problems.slice(next)); // none but for a path of the anchor alone
  // copies: the memo's entry must not change with what a caller does to its result
  return { problems: problems.map((p) => ({ ...p })), policies: [...timeless.policies] };
}

/** Everything of §6.1 but the validity periods: a function of the certificates and the policy inputs alone. */
function timelessChecks(path: readonly ParsedCertificate[], o: Omit<ValidateOptions, 'at'>): PathValidation {
  const problems: PathProblem[] = [];
  const fail = (index: number, code: ReasonCode, message: string) => problems.push({ index, code, message });
  const anchor = path[0]!;
  const n = path.length - 1;
  const p = o.policy ?? {};
  const userSet = p.initialPolicySet && p.initialPolicySet.length ? p.initialPolicySet : [OID.anyPolicy];
  const tree = new PolicyTree();
  let explicitPolicy = p.initialExplicitPolicy ? 0 : n + 1;
  let inhibitAnyPolicy = p.initialAnyPolicyInhibit ? 0 : n + 1;
  let policyMapping = p.initialPolicyMappingInhibit ? 0 : n + 1;
  let maxPathLength = n;
  const names = new NameConstraintState();
  // working_public_key: the issuer whose key signs the next certificate (and, for DSA, whose parameters apply)
  let issuer = anchor;
  let paramsFrom: ParsedCertificate | undefined = anchor.hasDsaKeyWithoutParameters ? undefined : anchor;
  let workingIssuerName = anchor.subjectKey;
  let policyFailed = false;

  for (let i = 1; i <= n; i++) {
    const cert = path[i]!;
    const who = cert.subjectText;
    // (a) signature, name chaining (the validity period: validatePath, at the time asked)
    if (!o.signatures.check(cert, issuer, issuer.hasDsaKeyWithoutParameters ? paramsFrom : undefined)) fail(i, 'signature', `the signature on the certificate of ${who} does not verify with ${issuer.subjectText}'s key`);
    if (cert.issuerKey !== workingIssuerName) fail(i, 'no-path', `the issuer of ${who} is not ${issuer.subjectText}`);
    // (b)(c) name constraints (self-issued intermediates are exempt)
    if (i === n || !cert.selfIssued) {
      const nc = names.check(cert);
      if (nc) fail(i, 'name-constraints', nc);
    }
    // (d)(e)(f) policies
    tree.processCertificate(cert, i, n, inhibitAnyPolicy);
    if (!policyFailed && explicitPolicy <= 0 && tree.isNull) {
      fail(i, 'policy', `no acceptable certificate policy remains at ${who} (an explicit policy is required)`);
      policyFailed = true;
    }
    if (i === n) break;

    // §6.1.4 preparation for certificate i+1
    const pm = cert.policyMappings;
    if (pm && pm.some((m) => m.issuerDomainPolicy === OID.anyPolicy || m.subjectDomainPolicy === OID.anyPolicy)) {
      fail(i, 'policy', `${who} maps to or from anyPolicy`);
      policyFailed = true;
    }
    tree.applyMappings(cert, i, policyMapping);
    workingIssuerName = cert.subjectKey;
    if (cert.hasDsaKeyWithoutParameters) {
      /* keep paramsFrom */
    } else paramsFrom = cert;
    issuer = cert;
    names.add(cert);
    if (!cert.selfIssued) {
      if (explicitPolicy > 0) explicitPolicy--;
      if (policyMapping > 0) policyMapping--;
      if (inhibitAnyPolicy > 0) inhibitAnyPolicy--;
    }
    const pc = cert.policyConstraints;
    if (pc?.requireExplicitPolicy !== undefined && pc.requireExplicitPolicy < explicitPolicy) explicitPolicy = pc.requireExplicitPolicy;
    if (pc?.inhibitPolicyMapping !== undefined && pc.inhibitPolicyMapping < policyMapping) policyMapping = pc.inhibitPolicyMapping;
    const iap = cert.inhibitAnyPolicy;
    if (iap !== undefined && iap < inhibitAnyPolicy) inhibitAnyPolicy = iap;
    // (k) a CA certificate
    if (cert.version < 2 || !cert.isCa) fail(i, 'basic-constraints', `${who} is not a CA certificate (basicConstraints cA) but issues one on the path`);
    // (l)(m) path length
    if (!cert.selfIssued) {
      if (maxPathLength <= 0) fail(i, 'basic-constraints', `the path is longer than a CA above ${who} allows (pathLenConstraint)`);
      maxPathLength--;
    }
    const pl = cert.basicConstraints?.pathLenConstraint;
    if (pl !== undefined && pl < maxPathLength) maxPathLength = pl;
    // (n) key usage
    const ku = cert.keyUsage;
    if (ku !== undefined && !(ku & KEY_USAGE.keyCertSign)) fail(i, 'key-usage', `the key of ${who} may not sign certificates (keyUsage lacks keyCertSign)`);
    // (o) critical extensions
    const unknown = cert.unknownCriticalExtensions();
    if (unknown.length) fail(i, 'critical-extension', `${who} has critical extensions this verifier does not process: ${unknown.join(', ')}`);
  }

  // §6.1.5 wrap-up
  const leaf = path[n]!;
  if (explicitPolicy > 0) explicitPolicy--;
  if (leaf.policyConstraints?.requireExplicitPolicy === 0) explicitPolicy = 0;
  const unknown = n > 0 ? leaf.unknownCriticalExtensions() : [];
  if (unknown.length) fail(n, 'critical-extension', `${leaf.subjectText} has critical extensions this verifier does not process: ${unknown.join(', ')}`);
  const policies = tree.intersect(userSet, n);
  if (!policyFailed && explicitPolicy <= 0 && policies.length === 0) fail(n, 'policy', `the path is not valid for any of the acceptable policies (${userSet.join(', ')})`);
  return { problems, policies };
}
