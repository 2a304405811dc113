import { createHash } from 'node:crypto';
import * as asn1js from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import {
  CertificateIssuer,
  CertificateList,
  CRLReason,
  FreshestCRL,
  IssuingDistributionPoint,
  Name,
  RelativeDistinguishedName,
  type DistributionPoint,
  type DistributionPointName,
  type GeneralName,
} from '@peculiar/asn1-x509';
import { formatName, nameKey } from './names.js';

/**
 * A CRL as the verifier uses it (RFC 5280 §5), parsed with the typed @peculiar/asn1-x509 schema; the TBS
 * bytes kept as read for the signature. Entries are indexed by (certificate issuer, serial): an indirect
 * CRL's certificateIssuer entry extension switches the issuer for the entries after it (§5.3.3).
 */
export const CRL_OID = {
  crlNumber: '2.5.29.20',
  deltaCrlIndicator: '2.5.29.27',
  issuingDistributionPoint: '2.5.29.28',
  authorityKeyIdentifier: '2.5.29.35',
  issuerAltName: '2.5.29.18',
  freshestCrl: '2.5.29.46',
  reasonCode: '2.5.29.21',
  invalidityDate: '2.5.29.24',
  certificateIssuer: '2.5.29.29',
  holdInstructionCode: '2.5.29.23',
};
const KNOWN_CRL_EXTENSIONS = new Set([CRL_OID.crlNumber, CRL_OID.deltaCrlIndicator, CRL_OID.issuingDistributionPoint, CRL_OID.authorityKeyIdentifier, CRL_OID.issuerAltName, CRL_OID.freshestCrl]);
const KNOWN_ENTRY_EXTENSIONS = new Set([CRL_OID.reasonCode, CRL_OID.invalidityDate, CRL_OID.certificateIssuer, CRL_OID.holdInstructionCode]);

export const REASON_NAMES = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', 'unused7', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];
export const REMOVE_FROM_CRL = 8;

export interface CrlEntry {
  revokedAt: Date;
  reason: number | undefined;
}

export class MalformedCrl extends Error {}

function integerOf(value: ArrayBuffer | Uint8Array): bigint {
  const parsed = asn1js.fromBER(value instanceof Uint8Array ? value.slice().buffer : value);
  if (parsed.offset === -1 || !(parsed.result instanceof asn1js.Integer)) throw new Error('not an INTEGER');
  const hex = Buffer.from(parsed.result.valueBlock.valueHexView).toString('hex');
  return BigInt(`0x${hex || '0'}`);
}

/** Names a distribution point can be matched by: `dn:<name key>` or `uri:<uri>`. */
export function distributionPointNames(dp: DistributionPointName | undefined, relativeTo: Name): string[] {
  if (!dp) return [];
  if (dp.fullName) return generalNameKeys(dp.fullName);
  if (dp.nameRelativeToCRLIssuer) {
    const full = new Name([...relativeTo, dp.nameRelativeToCRLIssuer as RelativeDistinguishedName]);
    return [`dn:${nameKey(full)}`];
  }
  return [];
}

export function generalNameKeys(names: readonly GeneralName[]): string[] {
  const out: string[] = [];
  for (const g of names) {
    if (g.directoryName) out.push(`dn:${nameKey(g.directoryName)}`);
    else if (g.uniformResourceIdentifier) out.push(`uri:${g.uniformResourceIdentifier}`);
  }
  return out;
}

let crlsParsed = 0;

export class ParsedCrl {
  /** Unique to this object in the process: a short key for the verifier's memos (its DER never changes). */
  readonly id = ++crlsParsed;
  readonly der: Buffer;
  readonly list: CertificateList;
  readonly tbs: Buffer;
  readonly issuer: Name;
  readonly issuerKey: string;
  readonly thisUpdate: Date;
  readonly nextUpdate: Date | undefined;
  readonly crlNumber: bigint | undefined;
  /** For a delta CRL: the BaseCRLNumber. */
  readonly deltaBase: bigint | undefined;
  readonly idp: IssuingDistributionPoint | undefined;
  /** DER of the IDP extension value ('' when absent): a delta applies to a base of the same scope. */
  readonly idpKey: string;
  readonly freshest: DistributionPoint[];
  readonly unknownCritical: string[];
  readonly fingerprint: string;
  /** By certificate issuer (name key), then serial: both strings a certificate already holds, so no key is built per lookup. */
  private readonly entries = new Map<string, Map<string, CrlEntry>>();

  constructor(der: Uint8Array) {
    this.der = Buffer.from(der);
    try {
      this.list = AsnConvert.parse(this.der, CertificateList);
      if (!this.list.tbsCertListRaw) throw new Error('no TBS');
      this.tbs = Buffer.from(this.list.tbsCertListRaw);
      const t = this.list.tbsCertList;
      this.issuer = t.issuer;
      this.issuerKey = nameKey(t.issuer);
      this.thisUpdate = t.thisUpdate.getTime();
      this.nextUpdate = t.nextUpdate?.getTime();
      const unknown: string[] = [];
      let crlNumber: bigint | undefined;
      let deltaBase: bigint | undefined;
      let idp: IssuingDistributionPoint | undefined;
      let idpKey = '';
      let freshest: DistributionPoint[] = [];
      for (const e of t.crlExtensions ?? []) {
        const v = Buffer.from(e.extnValue.buffer);
        if (e.extnID === CRL_OID.crlNumber) crlNumber = integerOf(v);
        else if (e.extnID === CRL_OID.deltaCrlIndicator) deltaBase = integerOf(v);
        else if (e.extnID === CRL_OID.issuingDistributionPoint) {
          idp = AsnConvert.parse(v, IssuingDistributionPoint);
          idpKey = v.toString('hex');
        } else if (e.extnID === CRL_OID.freshestCrl) freshest = AsnConvert.parse(v, FreshestCRL);
        else if (e.critical && !KNOWN_CRL_EXTENSIONS.has(e.extnID)) unknown.push(e.extnID);
      }
      let entryIssuer = this.issuerKey;
      for (const r of t.revokedCertificates ?? []) {
        let reason: number | undefined;
        for (const e of r.crlEntryExtensions ?? []) {
          const v = Buffer.from(e.extnValue.buffer);
          if (e.extnID === CRL_OID.reasonCode) reason = AsnConvert.parse(v, CRLReason).reason;
          else if (e.extnID === CRL_OID.certificateIssuer) {
            const dn = AsnConvert.parse(v, CertificateIssuer).find((g) => g.directoryName);
            if (dn?.directoryName) entryIssuer = nameKey(dn.directoryName);
          } else if (e.critical && !KNOWN_ENTRY_EXTENSIONS.has(e.extnID)) unknown.push(`entry ${e.extnID}`);
        }
        let byIssuer = this.entries.get(entryIssuer);
        if (!byIssuer) this.entries.set(entryIssuer, (byIssuer = new Map()));
        byIssuer.set(Buffer.from(r.userCertificate).toString('hex').toUpperCase(), { revokedAt: r.revocationDate.getTime(), reason });
      }
      this.crlNumber = crlNumber;
      this.deltaBase = deltaBase;
      this.idp = idp;
      this.idpKey = idpKey;
      this.freshest = freshest;
      this.unknownCritical = unknown;
    } catch (e) {
      if (e instanceof MalformedCrl) throw e;
      throw new MalformedCrl(`not an X.509 CRL: ${(e as Error).message}`);
    }
    this.fingerprint = createHash('sha256').update(this.der).digest('hex');
  }

  get issuerText(): string {
    return formatName(this.issuer);
  }
  get isDelta(): boolean {
    return this.deltaBase !== undefined;
  }

  /** The entry for a certificate (by its issuer's name key and serial hex). */
  entry(certIssuerKey: string, serialHex: string): CrlEntry | undefined {
    return this.entries.get(certIssuerKey)?.get(serialHex);
  }
}
