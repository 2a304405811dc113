import type { ParsedCertificate } from './certificate.js';
import { OID } from './certificate.js';

/**
 * The valid_policy_tree of RFC 5280 §6.1.2 (a), processed by §6.1.3 (d)–(f), §6.1.4 (a)–(b) and
 * §6.1.5 (g). Qualifiers are not kept (nothing here shows user notices).
 */
interface Node {
  policy: string;
  expected: Set<string>;
  parent: Node | null;
  children: Node[];
  depth: number;
}

const ANY = OID.anyPolicy;

export class PolicyTree {
  private root: Node | null = { policy: ANY, expected: new Set([ANY]), parent: null, children: [], depth: 0 };

  get isNull(): boolean {
    return this.root === null;
  }

  private nodesAt(depth: number): Node[] {
    const out: Node[] = [];
    const walk = (n: Node) => {
      if (n.depth === depth) out.push(n);
      else for (const c of n.children) walk(c);
    };
    if (this.root) walk(this.root);
    return out;
  }

  private remove(n: Node): void {
    if (!n.parent) this.root = null;
    else n.parent.children = n.parent.children.filter((c) => c !== n);
  }

  /** Deletes nodes above `depth` that have no children, bottom-up; the tree becomes null if the root goes. */
  private prune(depth: number): void {
    for (let d = depth - 1; d >= 0; d--) for (const n of this.nodesAt(d)) if (n.children.length === 0) this.remove(n);
  }

  /** §6.1.3 (d) and (e) for certificate i. */
  processCertificate(cert: ParsedCertificate, i: number, n: number, inhibitAnyPolicy: number): void {
    if (!this.root) return;
    const cp = cert.policies;
    if (!cp) {
      this.root = null; // (e)
      return;
    }
    const parents = this.nodesAt(i - 1);
    let anyInCert = false;
    for (const pi of cp) {
      const p = pi.policyIdentifier;
      if (p === ANY) {
        anyInCert = true;
        continue;
      }
      let matched = false;
      for (const node of parents)
        if (node.expected.has(p)) {
          node.children.push({ policy: p, expected: new Set([p]), parent: node, children: [], depth: i });
          matched = true;
        }
      if (!matched)
        for (const node of parents)
          if (node.policy === ANY) node.children.push({ policy: p, expected: new Set([p]), parent: node, children: [], depth: i });
    }
    if (anyInCert && (inhibitAnyPolicy > 0 || (i < n && cert.selfIssued))) {
      for (const node of parents)
        for (const e of node.expected)
          if (!node.children.some((c) => c.policy === e)) node.children.push({ policy: e, expected: new Set([e]), parent: node, children: [], depth: i });
    }
    this.prune(i);
    if (this.root && this.nodesAt(i).length === 0) this.root = null;
  }

  /** §6.1.4 (b): policy mappings of certificate i. */
  applyMappings(cert: ParsedCertificate, i: number, policyMapping: number): void {
    const pm = cert.policyMappings;
    if (!pm || !this.root) return;
    const map = new Map<string, Set<string>>();
    for (const m of pm) {
      const s = map.get(m.issuerDomainPolicy) ?? new Set<string>();
      s.add(m.subjectDomainPolicy);
      map.set(m.issuerDomainPolicy, s);
    }
    const nodes = this.nodesAt(i);
    for (const [idp, subjects] of map) {
      const withP = nodes.filter((nd) => nd.policy === idp);
      if (policyMapping > 0) {
        if (withP.length > 0) for (const nd of withP) nd.expected = new Set(subjects);
        else {
          const any = nodes.find((nd) => nd.policy === ANY);
          if (any && any.parent) any.parent.children.push({ policy: idp, expected: new Set(subjects), parent: any.parent, children: [], depth: i });
        }
      } else {
        for (const nd of withP) this.remove(nd);
      }
    }
    if (policyMapping === 0) {
      this.prune(i);
      if (this.root && this.nodesAt(i).length === 0) this.root = null;
    }
  }

  /** §6.1.5 (g): the intersection with user-initial-policy-set; returns the authorities-constrained policies. */
  intersect(userSet: readonly string[], n: number): string[] {
    if (!this.root) return [];
    if (!userSet.includes(ANY)) {
      const user = new Set(userSet);
      const validNodeSet: Node[] = [];
      const walk = (nd: Node) => {
        for (const c of nd.children) {
          if (nd.policy === ANY) validNodeSet.push(c);
          if (nd.policy === ANY) walk(c);
        }
      };
      walk(this.root);
      for (const nd of validNodeSet) if (nd.policy !== ANY && !user.has(nd.policy)) this.remove(nd);
      const leafAny = this.nodesAt(n).find((nd) => nd.policy === ANY);
      if (leafAny) {
        const present = new Set(validNodeSet.filter((v) => v.policy !== ANY).map((v) => v.policy));
        for (const p of user) if (!present.has(p)) leafAny.parent?.children.push({ policy: p, expected: new Set([p]), parent: leafAny.parent, children: [], depth: n });
        this.remove(leafAny);
      }
      this.prune(n);
    }
    if (!this.root) return [];
    return [...new Set(this.nodesAt(n).map((nd) => nd.policy))];
  }
}
