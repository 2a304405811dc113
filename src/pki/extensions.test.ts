/**
 * Extension builders byte for byte against @peculiar/x509 and @peculiar/asn1-x509, plus `openssl x509 -text`
 * on a certificate that carries them. The CRL-only ones (IDP, CRL number, delta indicator, reason code,
 * invalidity date) are also checked through `openssl crl -text` in crl-encoder.test.ts.
 */
import { describe, it, expect, beforeAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import * as asn1X509 from '@peculiar/asn1-x509';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import * as asn1js from 'asn1js';
import * as ext from './extensions.js';
import { readSingle, sequence, oid, boolean, octetString, NULL, integer } from './der.js';
import { isPkiError } from './errors.js';

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');

/** An Extension as asn1-x509 serializes it. */
function asnExtension(extnID: string, critical: boolean, value: object | ArrayBuffer): string {
  const extnValue = value instanceof ArrayBuffer ? value : AsnConvert.serialize(value);
  return hex(AsnConvert.serialize(new asn1X509.Extension({ extnID, critical, extnValue: new OctetString(extnValue) })));
}

const uriDp = (uri: string) =>
  new asn1X509.DistributionPoint({
    distributionPoint: new asn1X509.DistributionPointName({ fullName: [new asn1X509.GeneralName({ uniformResourceIdentifier: uri })] }),
  });

const JPKI_DP_NAME = AsnConvert.serialize(
  new asn1X509.Name(
    [
      ['2.5.4.6', 'printableString', 'JP'],
      ['2.5.4.10', 'utf8String', 'JPKI'],
      ['2.5.4.11', 'utf8String', 'CRL Distribution Points'],
      ['2.5.4.3', 'utf8String', 'Chiyoda CRLDP'],
    ].map(
      ([type, kind, v]) =>
        new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: type!, value: new asn1X509.AttributeValue({ [kind!]: v }) })]),
    ),
  ),
);

describe('extension()', () => {
  it('omits critical when false and writes TRUE when critical, as asn1-x509 does', () => {
    const value = new Uint8Array([5, 0]);
    expect(hex(ext.extension('1.3.6.1.5.5.7.48.1.5', false, value))).toBe(asnExtension('1.3.6.1.5.5.7.48.1.5', false, value.slice().buffer));
    expect(hex(ext.extension('1.3.6.1.5.5.7.48.1.5', true, value))).toBe(asnExtension('1.3.6.1.5.5.7.48.1.5', true, value.slice().buffer));
    expect(hex(ext.extension('2.5.29.19', true, sequence()))).toBe(hex(new x509.Extension('2.5.29.19', true, new Uint8Array([0x30, 0])).rawData));
    expect(hex(ext.extension('2.5.29.20', false, integer(1)))).toBe('300a0603551d1404030201' + '01');
  });
});

describe('CRL extensions', () => {
  it.each([0n, 1n, 127n, 128n, 65535n, 2n ** 31n])('crlNumber(%s) as asn1-x509 CRLNumber', (n) => {
    expect(hex(ext.crlNumber(n))).toBe(asnExtension('2.5.29.20', false, new asn1X509.CRLNumber(Number(n))));
  });

  it('crlNumber takes 20-octet numbers and refuses 21 octets and negatives', () => {
    const max = 2n ** 159n - 1n;
    expect(hex(ext.crlNumber(max))).toBe(asnExtension('2.5.29.20', false, asn1js.Integer.fromBigInt(max).toBER()));
    expect(() => ext.crlNumber(2n ** 159n)).toThrow(/longer than 20 octets/);
    expect(() => ext.crlNumber(-1n)).toThrow(/non-negative/);
    try {
      ext.crlNumber(-1n);
    } catch (e) {
      expect(isPkiError(e, 'EXTENSION_INPUT_INVALID')).toBe(true);
    }
  });

  it('deltaCrlIndicator is critical and carries the base CRL number, as asn1-x509 BaseCRLNumber', () => {
    expect(hex(ext.deltaCrlIndicator(41n))).toBe(asnExtension('2.5.29.27', true, new asn1X509.BaseCRLNumber(41)));
  });

  it('issuingDistributionPoint with a URI and onlyContainsUserCerts, as asn1-x509 IssuingDistributionPoint', () => {
    const uri = 'http://crl.jpki.example/sign/13101.crl';
    const ref = new asn1X509.IssuingDistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({ fullName: [new asn1X509.GeneralName({ uniformResourceIdentifier: uri })] }),
      onlyContainsUserCerts: true,
    });
    expect(hex(ext.issuingDistributionPoint({ fullNameUris: [uri], onlyContainsUserCerts: true }))).toBe(asnExtension('2.5.29.28', true, ref));
  });

  it('issuingDistributionPoint with a directory name, CA-only, indirect and reason partition', () => {
    const ref = new asn1X509.IssuingDistributionPoint({
      distributionPoint: new asn1X509.DistributionPointName({
        fullName: [
          new asn1X509.GeneralName({ uniformResourceIdentifier: 'ldap://dir.example/' }),
          new asn1X509.GeneralName({ directoryName: AsnConvert.parse(JPKI_DP_NAME, asn1X509.Name) }),
        ],
      }),
      onlyContainsCACerts: true,
      onlySomeReasons: new asn1X509.Reason(asn1X509.ReasonFlags.keyCompromise | asn1X509.ReasonFlags.cACompromise),
      indirectCRL: true,
    });
    const mine = ext.issuingDistributionPoint({
      fullNameUris: ['ldap://dir.example/'],
      fullName: [{ directoryName: new Uint8Array(JPKI_DP_NAME) }],
      onlyContainsCACerts: true,
      onlySomeReasons: [ext.REASON_FLAG.keyCompromise, ext.REASON_FLAG.cACompromise],
      indirect: true,
    });
    expect(hex(mine)).toBe(asnExtension('2.5.29.28', true, ref));
    // and the decoder reads every field back
    const view = ext.readExtension(mine, readSingle(mine));
    expect(view).toMatchObject({ oid: '2.5.29.28', critical: true });
    const idp = ext.decodeIssuingDistributionPoint(view.value);
    expect(idp.uris).toEqual(['ldap://dir.example/']);
    expect(idp.fullName).toHaveLength(2);
    expect(hex((idp.fullName[1] as { directoryName: Uint8Array }).directoryName)).toBe(hex(JPKI_DP_NAME));
    expect(idp).toMatchObject({ onlyContainsUserCerts: false, onlyContainsCACerts: true, indirectCrl: true, onlySomeReasons: [1, 2], onlyContainsAttributeCerts: false });
  });

  it('issuingDistributionPoint refuses an empty IDP and contradictory flags', () => {
    expect(() => ext.issuingDistributionPoint({})).toThrow(/empty SEQUENCE/);
    expect(() => ext.issuingDistributionPoint({ onlyContainsCACerts: true, onlyContainsUserCerts: true })).toThrow(/both/);
    expect(() => ext.issuingDistributionPoint({ onlySomeReasons: [0] })).toThrow(/ReasonFlags bit/);
    expect(() => ext.issuingDistributionPoint({ fullNameUris: ['http://例え.jp/'] })).toThrow(/not ASCII/);
    expect(() => ext.issuingDistributionPoint({ fullName: [{ directoryName: new Uint8Array([4, 0]) }] })).toThrow(/Name/);
  });

  it('crlDistributionPoints writes one DistributionPoint per URI, as @peculiar/x509 does', () => {
    const uris = ['http://crl.jpki.example/sign.crl', 'ldap://dir.jpki.example/cn=CRL'];
    expect(hex(ext.crlDistributionPoints(uris))).toBe(hex(new x509.CRLDistributionPointsExtension(uris).rawData));
    expect(hex(ext.crlDistributionPoints([{ uri: uris[0]! }]))).toBe(hex(new x509.CRLDistributionPointsExtension([uris[0]!]).rawData));
  });

  it('crlDistributionPoints with a JPKI-style directory name, as asn1-x509 writes it', () => {
    const ref = new asn1X509.CRLDistributionPoints([
      new asn1X509.DistributionPoint({
        distributionPoint: new asn1X509.DistributionPointName({
          fullName: [new asn1X509.GeneralName({ directoryName: AsnConvert.parse(JPKI_DP_NAME, asn1X509.Name) })],
        }),
      }),
    ]);
    expect(hex(ext.crlDistributionPoints([{ directoryName: new Uint8Array(JPKI_DP_NAME) }]))).toBe(asnExtension('2.5.29.31', false, ref));
    expect(() => ext.crlDistributionPoints([])).toThrow(/at least one/);
  });

  it('freshestCrl as asn1-x509 FreshestCRL, non-critical', () => {
    const uri = 'http://crl.jpki.example/sign-delta.crl';
    expect(hex(ext.freshestCrl([uri]))).toBe(asnExtension('2.5.29.46', false, new asn1X509.FreshestCRL([uriDp(uri)])));
  });
});

describe('key identifiers and AIA', () => {
  const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const spki = publicKey.export({ format: 'der', type: 'spki' });

  it('keyIdentifierOf is the SHA-1 of the subjectPublicKey bits, as @peculiar/x509 computes it', async () => {
    const cryptoKey = await webcrypto.subtle.importKey('spki', spki, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const id = ext.keyIdentifierOf(spki);
    expect(id).toHaveLength(20);
    const ski = await x509.SubjectKeyIdentifierExtension.create(cryptoKey);
    expect(hex(ext.subjectKeyIdentifier(id))).toBe(hex(ski.rawData));
    const aki = await x509.AuthorityKeyIdentifierExtension.create(cryptoKey);
    expect(hex(ext.authorityKeyIdentifier(id))).toBe(hex(aki.rawData));
    expect(hex(ext.authorityKeyIdentifier(Buffer.from('0102', 'hex')))).toBe(hex(new x509.AuthorityKeyIdentifierExtension('0102').rawData));
    expect(() => ext.keyIdentifierOf(Buffer.from('3000', 'hex'))).toThrow(/SubjectPublicKeyInfo/);
    expect(() => ext.authorityKeyIdentifier(new Uint8Array(0))).toThrow(/non-empty/);
  });

  it('authorityInfoAccess as @peculiar/x509 writes it (OCSP first, then caIssuers)', () => {
    const p = { ocsp: ['http://ocsp.jpki.example/'], caIssuers: ['http://www.jpki.example/ca.cer', 'ldap://dir/cn=ca'] };
    expect(hex(ext.authorityInfoAccess(p))).toBe(hex(new x509.AuthorityInfoAccessExtension(p).rawData));
    expect(hex(ext.authorityInfoAccess({ ocsp: ['http://o/'] }))).toBe(hex(new x509.AuthorityInfoAccessExtension({ ocsp: ['http://o/'] }).rawData));
    expect(() => ext.authorityInfoAccess({})).toThrow(/at least one/);
  });

  it('decodeAuthorityKeyIdentifier reads the key id', () => {
    const aki = ext.authorityKeyIdentifier(Buffer.from('a1b2', 'hex'));
    const v = ext.readExtension(aki, readSingle(aki));
    expect(hex(ext.decodeAuthorityKeyIdentifier(v.value).keyId!)).toBe('a1b2');
  });
});

describe('CRL entry extensions', () => {
  it.each([0, 1, 2, 3, 4, 5, 6, 8, 9, 10])('reasonCode(%i) as asn1-x509 CRLReason', (code) => {
    expect(hex(ext.reasonCode(code))).toBe(asnExtension('2.5.29.21', false, new asn1X509.CRLReason(code)));
  });

  it('reasonCode refuses 7, 11 and non-integers', () => {
    for (const bad of [7, 11, -1, 1.5]) expect(() => ext.reasonCode(bad)).toThrow(/not a CRLReason/);
  });

  it('invalidityDate is a GeneralizedTime even before 2050, as asn1-x509 InvalidityDate', () => {
    const d = new Date('2026-04-01T00:00:00Z');
    expect(hex(ext.invalidityDate(d))).toBe(asnExtension('2.5.29.24', false, new asn1X509.InvalidityDate(d)));
    expect(hex(ext.invalidityDate(new Date('2026-04-01T00:00:00.250Z')))).toBe(hex(ext.invalidityDate(d)));
    expect(() => ext.invalidityDate(new Date(NaN))).toThrow(/invalid date/);
  });
});

describe('readers', () => {
  it('readExtensions refuses duplicates and empty lists, tolerates an explicit FALSE', () => {
    const a = ext.crlNumber(1n);
    const dup = sequence(a, a);
    expect(() => ext.readExtensions(dup, readSingle(dup))).toThrow(/appears twice/);
    const empty = sequence();
    expect(() => ext.readExtensions(empty, readSingle(empty))).toThrow(/empty Extensions/);
    const explicitFalse = sequence(oid('2.5.29.20'), boolean(false), octetString(integer(3)));
    const v = ext.readExtension(explicitFalse, readSingle(explicitFalse));
    expect(v.critical).toBe(false);
    expect(ext.decodeCrlNumber(v.value)).toBe(3n);
    const noValue = sequence(oid('2.5.29.20'), boolean(true));
    expect(() => ext.readExtension(noValue, readSingle(noValue))).toThrow(/extnValue/);
    const extra = sequence(oid('2.5.29.20'), octetString(integer(3)), NULL);
    expect(() => ext.readExtension(extra, readSingle(extra))).toThrow(/extnValue/);
    expect(() => ext.decodeCrlNumber(integer(-5))).toThrow(/non-negative/);
  });
});

describe('openssl x509 -text shows them on a certificate', () => {
  let text = '';
  beforeAll(async () => {
    const alg = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', publicExponent: new Uint8Array([1, 0, 1]), modulusLength: 2048 };
    const keys = await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify']);
    const spki = new Uint8Array(await webcrypto.subtle.exportKey('spki', keys.publicKey));
    const id = ext.keyIdentifierOf(spki);
    const raw = [
      ext.subjectKeyIdentifier(id),
      ext.authorityKeyIdentifier(id),
      ext.crlDistributionPoints(['http://crl.jpki.example/sign.crl', { directoryName: new Uint8Array(JPKI_DP_NAME) }]),
      ext.freshestCrl(['http://crl.jpki.example/delta.crl']),
      ext.authorityInfoAccess({ ocsp: ['http://ocsp.jpki.example/'], caIssuers: ['http://www.jpki.example/ca.cer'] }),
    ];
    const cert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: '01',
      name: 'CN=Extensions Test, O=JPKI, C=JP',
      notBefore: new Date('2026-01-01T00:00:00Z'),
      notAfter: new Date('2036-01-01T00:00:00Z'),
      keys,
      signingAlgorithm: alg,
      extensions: raw.map((r) => new x509.Extension(new Uint8Array(r))),
    });
    text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: cert.toString('pem') }).toString();
  });

  it('lists every extension with its values', () => {
    expect(text).toMatch(/X509v3 Subject Key Identifier:\s+([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    expect(text).toMatch(/X509v3 Authority Key Identifier:\s+(keyid:)?([0-9A-F]{2}:){19}[0-9A-F]{2}/);
    expect(text).toMatch(/X509v3 CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/crl\.jpki\.example\/sign\.crl\s+Full Name:\s+DirName:C = JP, O = JPKI, OU = CRL Distribution Points, CN = Chiyoda CRLDP/);
    expect(text).toMatch(/X509v3 Freshest CRL:\s+Full Name:\s+URI:http:\/\/crl\.jpki\.example\/delta\.crl/);
    expect(text).toMatch(/Authority Information Access:\s+OCSP - URI:http:\/\/ocsp\.jpki\.example\/\s+CA Issuers - URI:http:\/\/www\.jpki\.example\/ca\.cer/);
  });
});
