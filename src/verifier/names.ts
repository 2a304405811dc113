import type { Name } from '@peculiar/asn1-x509';

/**
 * Distinguished names as the verifier compares and shows them. Comparison follows RFC 5280 §7.1 (the
 * LDAP StringPrep subset PKITS 4.3 exercises): attribute values of the directory-string types compare after
 * case folding and whitespace compression, whatever string type encodes them (PrintableString vs
 * UTF8String); other values compare as their encoding. Multi-valued RDNs compare as sets.
 */

const SHORT: Record<string, string> = {
  '2.5.4.6': 'C',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '2.5.4.3': 'CN',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.5': 'serialNumber',
  '2.5.4.9': 'street',
  '2.5.4.12': 'title',
  '2.5.4.46': 'dnQualifier',
  '0.9.2342.19200300.100.1.25': 'DC',
  '0.9.2342.19200300.100.1.1': 'UID',
  '1.2.840.113549.1.9.1': 'emailAddress',
};

function valueText(v: { toString(): string; anyValue?: ArrayBuffer }): { text: string; string: boolean } {
  if (v.anyValue) return { text: `#${Buffer.from(v.anyValue).toString('hex')}`, string: false };
  return { text: v.toString(), string: true };
}

function fold(s: string): string {
  return s.normalize('NFKC').toLowerCase().trim().replace(/\s+/g, ' ');
}

/** One RDN as a comparable key (its attributes sorted, so SET order does not matter). */
export function rdnKeys(name: Name): string[] {
  return name.map((rdn) =>
    rdn
      .map((atv) => {
        const v = valueText(atv.value);
        return `${atv.type}=${v.string ? fold(v.text) : v.text}`;
      })
      .sort()
      .join('+'),
  );
}

/** The comparison key of a whole name (RFC 5280 §7.1). */
export function nameKey(name: Name): string {
  return rdnKeys(name).join('/');
}

/** The name for people: `C=JP, O=JPKI, OU=…, CN=…` in encoding order. */
export function formatName(name: Name): string {
  return name
    .map((rdn) =>
      rdn
        .map((atv) => `${SHORT[atv.type] ?? atv.type}=${valueText(atv.value).text}`)
        .join(' + '),
    )
    .join(', ');
}

/** Values of one attribute type in a name (e.g. emailAddress for name constraints). */
export function attributeValues(name: Name, type: string): string[] {
  const out: string[] = [];
  for (const rdn of name) for (const atv of rdn) if (atv.type === type) out.push(valueText(atv.value).text);
  return out;
}
