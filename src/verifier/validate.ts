import { createHash } from 'node:crypto';
import type { PolicyOptions, ReasonCode } from './types.js';
import { KEY_USAGE, OID, type ParsedCertificate } from './certificate.js';
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

/** Checked signatures: certificate fingerprint + issuer key → result (a bridge path is checked once). */
export class SignatureCache {
  private readonly map = new Map<string, boolean>();
  constructor(private readonly max = 20_000) {}
  check(subject: ParsedCertificate, issuer: ParsedCertificate, inheritFrom?: ParsedCertificate): boolean {
    const issuerKeyId = issuer.fingerprint + (inheritFrom ? `+${inheritFrom.fingerprint}` : '');
    const key = `${subject.fingerprint}:${issuerKeyId}`;
    let ok = this.map.get(key);
    if (ok === undefined) {
      try {
        const pub = issuer.hasDsaKeyWithoutParameters ? issuer.publicKey(inheritFrom) : issuer.publicKey();
        ok = verifySignatureWith(subject.signatureAlgorithm, subject.tbs, subject.signatureValue, pub);
      } catch {
        ok = false;
      }
      if (this.map.size >= this.max) this.map.delete(this.map.keys().next().value!);
      this.map.set(key, ok);
    }
    return ok;
  }
}

export function keyHash(c: ParsedCertificate): string {
  return createHash('sha256').update(c.spkiDer).digest('hex');
}

export interface ValidateOptions {
  at: Date;
  policy?: PolicyOptions;
  signatures: SignatureCache;
}

export function validatePath(path: readonly ParsedCertificate[], o: ValidateOptions): PathValidation {
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
    // (a) signature, validity, name chaining
    if (!o.signatures.check(cert, issuer, issuer.hasDsaKeyWithoutParameters ? paramsFrom : undefined)) fail(i, 'signature', `the signature on the certificate of ${who} does not verify with ${issuer.subjectText}'s key`);
    if (o.at < cert.notBefore) fail(i, 'not-yet-valid', `the certificate of ${who} is not valid before ${cert.notBefore.toISOString()}`);
    if (o.at > cert.notAfter) fail(i, 'expired', `the certificate of ${who} expired on ${cert.notAfter.toISOString()}`);
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
