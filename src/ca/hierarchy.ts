import { encodeName, formatName, type NameAttribute } from '../pki/names.js';
import {
  OID_GPKI_POLICY_AUTH,
  OID_GPKI_POLICY_SIGN,
  OID_JPKI_BRIDGE_POLICY_AUTH,
  OID_JPKI_BRIDGE_POLICY_SIGN,
  OID_JPKI_POLICY_AUTH,
  OID_JPKI_POLICY_SIGN,
} from '../pki/oids.js';
import { PREFECTURES, type Prefecture } from '../pki/prefectures.js';
import type { PolicyMapping } from '../pki/jpki-profile.js';
import type { AuthorityKind } from '../store/index.js';

/**
 * The shape of the service's PKI (ARCHITECTURE.md, jpki-profile.md §2.2):
 *
 *   agency CA (総務省) ⇄ GPKI bridge ⇄ JPKI bridge ⇄ 47 prefectural CAs → residents
 *
 * Every CA is a self-signed root; the arrows are pairs of cross-certificates. The 2004 DNs are not public,
 * so the names below are OUR OWN design in the J-LIS style (C=JP, O=JPKI, OU=…, UTF8String except C).
 * Policies: each domain has its own policy OIDs, and every cross-certificate maps the issuer's domain onto
 * the subject's, so a path validates with explicit policy from any anchor.
 */
export interface AuthorityDefinition {
  id: string;
  kind: AuthorityKind;
  prefecture: Prefecture | null;
  /** Display name (the CA as residents know it). */
  name: string;
  nameEn: string;
  subject: NameAttribute[];
  /** Name for issuerAltName in the certificates it issues to residents. */
  altName?: NameAttribute[];
  /** The policy OIDs of this CA's domain: [signing, authentication]. */
  policies: [string, string];
}

export const JPKI_BRIDGE_ID = 'jpki-bridge';
export const GPKI_BRIDGE_ID = 'gpki-bridge';
export const AGENCY_ID = 'agency-mic';

export function prefecturalCaId(code: string): string {
  return `pref-${code}`;
}

export function prefecturalCa(p: Prefecture): AuthorityDefinition {
  return {
    id: prefecturalCaId(p.code),
    kind: 'prefectural',
    prefecture: p,
    name: p.governor,
    nameEn: `Governor of ${p.romaji} (prefecture ${p.code})`,
    subject: [{ C: 'JP' }, { O: 'JPKI' }, { OU: 'Prefectural Governor CA' }, { L: p.romaji }, { CN: p.governor }],
    altName: [{ C: 'JP' }, { O: '公的個人認証サービス' }, { OU: p.governor }],
    policies: [OID_JPKI_POLICY_SIGN, OID_JPKI_POLICY_AUTH],
  };
}

export const JPKI_BRIDGE: AuthorityDefinition = {
  id: JPKI_BRIDGE_ID,
  kind: 'jpki-bridge',
  prefecture: null,
  name: '公的個人認証サービスブリッジ認証局',
  nameEn: 'JPKI Bridge CA',
  subject: [{ C: 'JP' }, { O: 'JPKI' }, { OU: 'JPKI Bridge CA' }, { CN: '公的個人認証サービスブリッジ認証局' }],
  policies: [OID_JPKI_BRIDGE_POLICY_SIGN, OID_JPKI_BRIDGE_POLICY_AUTH],
};

export const GPKI_BRIDGE: AuthorityDefinition = {
  id: GPKI_BRIDGE_ID,
  kind: 'gpki-bridge',
  prefecture: null,
  name: '政府認証基盤ブリッジ認証局',
  nameEn: 'GPKI Bridge CA (government side)',
  subject: [{ C: 'JP' }, { O: 'Japanese Government' }, { OU: 'GPKI' }, { CN: '政府認証基盤ブリッジ認証局' }],
  policies: [OID_GPKI_POLICY_SIGN, OID_GPKI_POLICY_AUTH],
};

export const AGENCY: AuthorityDefinition = {
  id: AGENCY_ID,
  kind: 'agency',
  prefecture: null,
  name: '総務省認証局',
  nameEn: 'Ministry of Internal Affairs and Communications CA (agency)',
  subject: [{ C: 'JP' }, { O: 'Japanese Government' }, { OU: 'MIC' }, { CN: '総務省認証局' }],
  // The agency lives in the GPKI policy domain.
  policies: [OID_GPKI_POLICY_SIGN, OID_GPKI_POLICY_AUTH],
};

/** Every CA of a full installation, bridges and agency first. */
export function allAuthorities(prefectures: readonly Prefecture[] = PREFECTURES): AuthorityDefinition[] {
  return [JPKI_BRIDGE, GPKI_BRIDGE, AGENCY, ...prefectures.map(prefecturalCa)];
}

/** One cross-certificate: `issuer` certifies `subject`, vouching for its own policies mapped onto the subject's. */
export interface CrossLink {
  issuer: AuthorityDefinition;
  subject: AuthorityDefinition;
  policies: string[];
  mappings: PolicyMapping[];
}

function link(issuer: AuthorityDefinition, subject: AuthorityDefinition): CrossLink {
  const mappings: PolicyMapping[] = [];
  for (let i = 0; i < 2; i++)
    if (issuer.policies[i] !== subject.policies[i])
      mappings.push({ issuerDomainPolicy: issuer.policies[i]!, subjectDomainPolicy: subject.policies[i]! });
  return { issuer, subject, policies: [...issuer.policies], mappings };
}

/** Both directions of one edge. */
function pair(a: AuthorityDefinition, b: AuthorityDefinition): CrossLink[] {
  return [link(a, b), link(b, a)];
}

/** The pair of cross-certificates between the JPKI bridge and one prefectural CA. */
export function prefectureLinks(prefectural: AuthorityDefinition): CrossLink[] {
  return pair(JPKI_BRIDGE, prefectural);
}

/** The cross-certificate pairs: both directions on every edge of the hierarchy. */
export function crossLinks(authorities: readonly AuthorityDefinition[]): CrossLink[] {
  return [...authorities.filter((a) => a.kind === 'prefectural').flatMap(prefectureLinks), ...pair(GPKI_BRIDGE, JPKI_BRIDGE), ...pair(AGENCY, GPKI_BRIDGE)];
}

export function subjectDer(a: AuthorityDefinition): Buffer {
  return encodeName(a.subject);
}

export function subjectText(a: AuthorityDefinition): string {
  return formatName(a.subject);
}
