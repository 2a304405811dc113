import type { GeneralName, GeneralSubtree, Name } from '@peculiar/asn1-x509';
import type { ParsedCertificate } from './certificate.js';
import { attributeValues, rdnKeys } from './names.js';

/**
 * Name constraints (RFC 5280 §4.2.1.10, §6.1.3 b–c, §6.1.4 g). Instead of computing intersections we keep
 * every CA's permitted and excluded subtrees: a name must fall inside the permitted subtrees of every CA
 * that constrained its name form (the intersection) and outside all excluded subtrees (the union).
 * Forms: directoryName, rfc822Name (and emailAddress in a subject DN), dNSName, URI, iPAddress.
 */

type Form = 'dn' | 'email' | 'dns' | 'uri' | 'ip';
interface Subtree {
  form: Form;
  dn?: string[];
  text?: string;
  ip?: { addr: Buffer; mask: Buffer };
}

function subtreeOf(s: GeneralSubtree): Subtree | undefined {
  const b = s.base;
  if (b.directoryName) return { form: 'dn', dn: rdnKeys(b.directoryName) };
  if (b.rfc822Name !== undefined) return { form: 'email', text: b.rfc822Name.toLowerCase() };
  if (b.dNSName !== undefined) return { form: 'dns', text: b.dNSName.toLowerCase() };
  if (b.uniformResourceIdentifier !== undefined) return { form: 'uri', text: b.uniformResourceIdentifier.toLowerCase() };
  if (b.iPAddress !== undefined) {
    const raw = ipBytes(b.iPAddress);
    if (raw && (raw.length === 8 || raw.length === 32)) return { form: 'ip', ip: { addr: raw.subarray(0, raw.length / 2), mask: raw.subarray(raw.length / 2) } };
  }
  return undefined; // other forms are not constrained here
}

/** asn1-x509 turns iPAddress into text; constraints (address+mask) come out as hex or dotted pairs. */
function ipBytes(text: string): Buffer | undefined {
  if (/^[0-9a-f]+$/i.test(text) && text.length % 2 === 0) return Buffer.from(text, 'hex');
  const v4 = text.split('/')[0]!.split('.');
  if (v4.length === 4) return Buffer.from(v4.map(Number));
  return undefined;
}

function dnWithin(name: string[], base: string[]): boolean {
  if (base.length > name.length) return false;
  return base.every((r, i) => r === name[i]);
}

function hostWithin(host: string, base: string): boolean {
  if (base.startsWith('.')) return host.endsWith(base);
  return host === base || host.endsWith(`.${base}`);
}

function emailWithin(email: string, base: string): boolean {
  const at = email.lastIndexOf('@');
  const local = email.slice(0, at);
  const host = email.slice(at + 1).toLowerCase();
  if (base.includes('@')) return `${local}@${host}` === base || email.toLowerCase() === base;
  if (base.startsWith('.')) return host.endsWith(base);
  return host === base;
}

function uriHost(uri: string): string | undefined {
  const m = /^[a-z][a-z0-9+.-]*:\/\/(?:[^@/]*@)?(\[[^\]]*\]|[^:/?#]*)/i.exec(uri);
  return m?.[1]?.toLowerCase();
}

function within(form: Form, value: string | string[] | Buffer, s: Subtree): boolean {
  switch (form) {
    case 'dn':
      return dnWithin(value as string[], s.dn!);
    case 'email':
      return emailWithin(value as string, s.text!);
    case 'dns':
      return s.text === '' || hostWithin((value as string).toLowerCase(), s.text!.startsWith('.') ? s.text! : s.text!);
    case 'uri': {
      const host = uriHost(value as string);
      if (host === undefined) return false;
      if (s.text!.startsWith('.')) return host.endsWith(s.text!);
      return host === s.text;
    }
    case 'ip': {
      const a = value as Buffer;
      if (a.length !== s.ip!.addr.length) return false;
      for (let i = 0; i < a.length; i++) if ((a[i]! & s.ip!.mask[i]!) !== (s.ip!.addr[i]! & s.ip!.mask[i]!)) return false;
      return true;
    }
  }
}

interface ConstrainedBy {
  permitted: Subtree[];
  excluded: Subtree[];
  ca: string;
}

export class NameConstraintState {
  private readonly layers: ConstrainedBy[] = [];

  add(ca: ParsedCertificate): void {
    const nc = ca.nameConstraints;
    if (!nc) return;
    const map = (l?: GeneralSubtree[]) => (l ?? []).map(subtreeOf).filter((s): s is Subtree => s !== undefined);
    this.layers.push({ permitted: map(nc.permittedSubtrees), excluded: map(nc.excludedSubtrees), ca: ca.subjectText });
  }

  /** Why the certificate's names break a constraint, or undefined. */
  check(cert: ParsedCertificate): string | undefined {
    if (this.layers.length === 0) return undefined;
    const names: { form: Form; value: string | string[] | Buffer; text: string }[] = [];
    const subject: Name = cert.subject;
    if (subject.length > 0) names.push({ form: 'dn', value: rdnKeys(subject), text: cert.subjectText });
    const sanHasEmail = cert.subjectAltNames.some((g) => g.rfc822Name !== undefined);
    if (!sanHasEmail) for (const e of attributeValues(subject, '1.2.840.113549.1.9.1')) names.push({ form: 'email', value: e, text: e });
    for (const g of cert.subjectAltNames as GeneralName[]) {
      if (g.directoryName) names.push({ form: 'dn', value: rdnKeys(g.directoryName), text: 'a directoryName' });
      else if (g.rfc822Name !== undefined) names.push({ form: 'email', value: g.rfc822Name, text: g.rfc822Name });
      else if (g.dNSName !== undefined) names.push({ form: 'dns', value: g.dNSName, text: g.dNSName });
      else if (g.uniformResourceIdentifier !== undefined) names.push({ form: 'uri', value: g.uniformResourceIdentifier, text: g.uniformResourceIdentifier });
      else if (g.iPAddress !== undefined) {
        const b = ipBytes(g.iPAddress);
        if (b) names.push({ form: 'ip', value: b, text: g.iPAddress });
      }
    }
    for (const layer of this.layers) {
      for (const n of names) {
        const permitted = layer.permitted.filter((s) => s.form === n.form);
        if (permitted.length > 0 && !permitted.some((s) => within(n.form, n.value, s))) return `${n.text} is outside the names ${layer.ca} permits`;
        if (layer.excluded.some((s) => s.form === n.form && within(n.form, n.value, s))) return `${n.text} is among the names ${layer.ca} excludes`;
      }
    }
    return undefined;
  }
}
