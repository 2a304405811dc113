import { sequence, setOf, oid, printableString, utf8String } from './der.js';
import { OID_AT_COMMON_NAME, OID_AT_COUNTRY, OID_AT_LOCALITY, OID_AT_ORGANIZATION, OID_AT_ORGANIZATIONAL_UNIT } from './oids.js';

/** One attribute of a distinguished name, in DER order (most significant first). */
export type NameAttribute = { C: string } | { O: string } | { OU: string } | { L: string } | { CN: string };

const TYPES: Record<string, string> = {
  C: OID_AT_COUNTRY,
  O: OID_AT_ORGANIZATION,
  OU: OID_AT_ORGANIZATIONAL_UNIT,
  L: OID_AT_LOCALITY,
  CN: OID_AT_COMMON_NAME,
};

/**
 * DER Name, one attribute per RDN, as the JPKI certificates write them (jpki-profile.md §1.2): C is a
 * PrintableString, every other attribute a UTF8String.
 */
export function encodeName(attributes: readonly NameAttribute[]): Buffer {
  return sequence(
    ...attributes.map((a) => {
      const [key, value] = Object.entries(a)[0] as [string, string];
      const type = TYPES[key];
      if (!type) throw new Error(`unsupported name attribute ${key}`);
      const v = key === 'C' ? printableString(value) : utf8String(value);
      return setOf([sequence(oid(type), v)]);
    }),
  );
}

/** RFC 4514-style one-line form of name attributes, most significant first (C=JP, O=JPKI, …) for display. */
export function formatName(attributes: readonly NameAttribute[]): string {
  return attributes.map((a) => Object.entries(a)[0]!.join('=')).join(', ');
}
