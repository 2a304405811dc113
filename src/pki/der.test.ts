/**
 * The DER module byte for byte against independent encoders: asn1js (which @peculiar/asn1-schema builds on),
 * @peculiar/asn1-x509 structures, and OpenSSL's `asn1parse -genconf` where asn1js is wrong or silent
 * (negative INTEGERs of the form -2^(8k-1), SET OF ordering).
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as asn1js from 'asn1js';
import { AsnConvert } from '@peculiar/asn1-schema';
import * as asn1X509 from '@peculiar/asn1-x509';
import * as der from './der.js';
import { splitSigned } from './signed.js';

const hex = (b: ArrayBuffer | Uint8Array) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
const h = (s: string) => Buffer.from(s.replace(/\s+/g, ''), 'hex');

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-der-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** DER produced by `openssl asn1parse -genconf` from an ASN1_generate_nconf configuration. */
function openssl(conf: string): Buffer {
  const cnf = join(dir, 'gen.cnf');
  const out = join(dir, 'gen.der');
  writeFileSync(cnf, conf);
  execFileSync('openssl', ['asn1parse', '-genconf', cnf, '-out', out, '-noout']);
  return readFileSync(out);
}

describe('DER writer', () => {
  describe('lengths', () => {
    it.each([0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0xffffff, 0x1000000])(
      'frames a %i-byte content exactly as asn1js does',
      (len) => {
        const content = Buffer.alloc(len, 0xab);
        const mine = der.tlv(der.TAG.OCTET_STRING, content);
        const theirs = Buffer.from(new asn1js.OctetString({ valueHex: content }).toBER());
        expect(mine.length).toBe(theirs.length);
        expect(mine.equals(theirs)).toBe(true);
        expect(der.headerLength(len)).toBe(mine.length - len);
        expect(der.encodeLength(len).equals(mine.subarray(1, der.headerLength(len)))).toBe(true);
      },
    );

    it('writes the long forms with the minimal number of length octets', () => {
      expect(hex(der.encodeLength(0x80))).toBe('8180');
      expect(hex(der.encodeLength(0xff))).toBe('81ff');
      expect(hex(der.encodeLength(0x100))).toBe('820100');
      expect(hex(der.encodeLength(0x10000))).toBe('83010000');
      expect(hex(der.encodeLength(0x1000000))).toBe('8401000000');
      const buf = Buffer.alloc(6);
      expect(der.writeLengthAt(buf, 1, 0x1000000)).toBe(5);
      expect(hex(buf)).toBe('008401000000');
    });

    it('tlvOf concatenates its parts without changing them', () => {
      const parts = [Buffer.from('0101ff', 'hex'), Buffer.alloc(0x100, 1), Buffer.from('0500', 'hex')];
      expect(der.tlvOf(0x30, parts).equals(der.tlv(0x30, Buffer.concat(parts)))).toBe(true);
    });
  });

  describe('INTEGER', () => {
    const values = [0n, 1n, 127n, 128n, 255n, 256n, 32767n, 32768n, 65535n, 2n ** 63n, 2n ** 64n, 2n ** 159n - 1n, 2n ** 160n];
    it.each(values)('encodes %s as asn1js does', (v) => {
      expect(hex(der.integer(v))).toBe(hex(asn1js.Integer.fromBigInt(v).toBER()));
    });

    it('encodes negatives as OpenSSL does (asn1js pads -128 with a needless FF)', () => {
      const negatives = [-1n, -127n, -128n, -129n, -255n, -256n, -257n, -32768n, -32769n, -(2n ** 63n), -(2n ** 64n)];
      const conf = `asn1=SEQUENCE:s\n[s]\n${negatives.map((v, i) => `i${i}=INTEGER:${v}`).join('\n')}\n`;
      expect(hex(der.sequence(...negatives.map((v) => der.integer(v))))).toBe(hex(openssl(conf)));
      expect(hex(der.integer(-128))).toBe('020180');
      expect(hex(der.integer(-129))).toBe('0202ff7f');
    });

    it('accepts JS numbers', () => {
      expect(hex(der.integer(0))).toBe('020100');
      expect(hex(der.integer(128))).toBe('02020080');
      expect(hex(der.integer(-1))).toBe('0201ff');
    });

    it('unsignedInteger strips leading zeros and adds a sign byte before a high bit', () => {
      expect(hex(der.unsignedInteger(h('00000001')))).toBe('020101');
      expect(hex(der.unsignedInteger(h('80')))).toBe('02020080');
      expect(hex(der.unsignedInteger(h('0080')))).toBe('02020080');
      expect(hex(der.unsignedInteger(h('00')))).toBe('020100');
      expect(hex(der.unsignedInteger(h('0000')))).toBe('020100');
      expect(hex(der.unsignedInteger(new Uint8Array(0)))).toBe('020100');
      const serial = h('ff'.repeat(19));
      expect(hex(der.unsignedInteger(serial))).toBe(hex(der.integer(BigInt('0x' + 'ff'.repeat(19)))));
    });

    it('ENUMERATED as asn1js writes it', () => {
      for (const v of [0, 1, 6, 10, 127, 128]) expect(hex(der.enumerated(v))).toBe(hex(new asn1js.Enumerated({ value: v }).toBER()));
    });
  });

  describe('OBJECT IDENTIFIER', () => {
    it.each([
      '0.0',
      '0.39',
      '1.0',
      '1.39',
      '2.0',
      '2.40',
      '2.47',
      '2.48',
      '2.999',
      '2.999.1',
      '2.999.392.1.1.20',
      '1.2.840.113549.1.1.11',
      '1.2.392.200149.8.5.5.1',
      '2.5.29.21',
      '2.16.840.1.101.3.4.2.1',
      '2.25.340282366920938463463374607431768211455',
      '1.3.6.1.4.1.4294967296.1',
      // around the reader's switch from numbers to BigInt (arcs of 2^45 and more)
      '1.2.35184372088831',
      '1.2.35184372088832',
      '2.35184372088751',
      '2.35184372088752',
    ])('encodes %s as asn1js does and reads it back', (o) => {
      const enc = der.oid(o);
      expect(hex(enc)).toBe(hex(new asn1js.ObjectIdentifier({ value: o }).toBER()));
      expect(der.readOid(enc, der.readSingle(enc))).toBe(o);
    });

    it('reads arcs past 2^53 exactly, in any position (asn1js cannot encode them)', () => {
      for (const o of ['1.2.9007199254740993.7', '2.9007199254741073', '1.3.6.1.4.1.18446744073709551617.1']) {
        const enc = der.oid(o);
        expect(der.readOid(enc, der.readSingle(enc))).toBe(o);
      }
    });

    it('matches OpenSSL for large first arcs and large arcs', () => {
      const oids = ['2.999.1', '2.25.340282366920938463463374607431768211455', '1.2.392.200149.8.5.1.1.20'];
      const conf = `asn1=SEQUENCE:s\n[s]\n${oids.map((o, i) => `o${i}=OID:${o}`).join('\n')}\n`;
      expect(hex(der.sequence(...oids.map((o) => der.oid(o))))).toBe(hex(openssl(conf)));
      expect(hex(der.oid('2.999.1'))).toBe('0603883701');
    });

    it.each(['', '1', '3.1', '1.40', '0.40', '1..2', '1.2.', '1.02', '1.2.-3', 'a.b', '1.2.3 '])('rejects %j', (o) => {
      expect(() => der.oid(o)).toThrow(/invalid OID/);
    });
  });

  describe('strings and simple types', () => {
    it('UTF8String, PrintableString, IA5String, OCTET STRING, BOOLEAN, NULL as asn1js writes them', () => {
      for (const s of ['', 'JP', '山田 太郎', '東京都千代田区霞が関2-1-2'])
        expect(hex(der.utf8String(s))).toBe(hex(new asn1js.Utf8String({ value: s }).toBER()));
      for (const s of ['JP', "Test CA (1) +,-./:=? 'x'", ''])
        expect(hex(der.printableString(s))).toBe(hex(new asn1js.PrintableString({ value: s }).toBER()));
      for (const s of ['http://crl.jpki.example/sign.crl', 'ldap://x/cn=a?b'])
        expect(hex(der.ia5String(s))).toBe(hex(new asn1js.IA5String({ value: s }).toBER()));
      const bytes = Buffer.from('00ff10', 'hex');
      expect(hex(der.octetString(bytes))).toBe(hex(new asn1js.OctetString({ valueHex: bytes }).toBER()));
      expect(hex(der.boolean(true))).toBe(hex(new asn1js.Boolean({ value: true }).toBER()));
      expect(hex(der.boolean(true))).toBe('0101ff');
      expect(hex(der.boolean(false))).toBe('010100');
      expect(hex(der.NULL)).toBe(hex(new asn1js.Null().toBER()));
    });

    it('refuses characters a PrintableString or IA5String cannot hold', () => {
      for (const s of ['a@b', 'x*', 'a_b', 'é', '山']) expect(() => der.printableString(s)).toThrow(/PrintableString/);
      expect(() => der.ia5String('é')).toThrow(/IA5String/);
    });

    it('BIT STRING with unused bits as asn1js writes it', () => {
      expect(hex(der.bitString(h('c0'), 6))).toBe(hex(new asn1js.BitString({ valueHex: h('c0'), unusedBits: 6 }).toBER()));
      expect(hex(der.bitString(h('0102')))).toBe('0303000102');
    });
  });

  describe('named bit strings', () => {
    const { KeyUsage, KeyUsageFlags: F } = asn1X509;
    it.each([
      ['digitalSignature + nonRepudiation', [0, 1], F.digitalSignature | F.nonRepudiation, '030206c0'],
      ['digitalSignature', [0], F.digitalSignature, '03020780'],
      ['keyCertSign + cRLSign', [5, 6], F.keyCertSign | F.cRLSign, '03020106'],
      ['digitalSignature + keyCertSign + cRLSign', [0, 5, 6], F.digitalSignature | F.keyCertSign | F.cRLSign, '03020186'],
      ['encipherOnly (bit 7)', [7], F.encipherOnly, '03020001'],
      ['decipherOnly (bit 8)', [8], F.decipherOnly, '0303070080'],
    ] as const)('KeyUsage %s matches asn1-x509 and X.690 §11.2.2', (_name, bits, flags, expected) => {
      const mine = der.namedBitString(bits);
      expect(hex(mine)).toBe(expected);
      expect(hex(mine)).toBe(hex(AsnConvert.serialize(new KeyUsage(flags))));
    });

    it('an empty named bit string is 03 01 00', () => {
      expect(hex(der.namedBitString([]))).toBe('030100');
    });
  });

  describe('times', () => {
    const at = (iso: string) => new Date(iso);
    it.each([
      ['1950-01-01T00:00:00Z', '170d3530303130313030303030305a'],
      ['2000-02-29T12:34:56Z', '170d3030303232393132333435365a'],
      ['2049-12-31T23:59:59Z', '170d3439313233313233353935395a'],
      ['2050-01-01T00:00:00Z', '180f32303530303130313030303030305a'],
      ['1949-12-31T23:59:59Z', '180f31393439313233313233353935395a'],
      ['9999-12-31T23:59:59Z', '180f39393939313233313233353935395a'],
    ])('time(%s) is the RFC 5280 choice, as asn1-x509 Time and OpenSSL write it', (iso, expected) => {
      const mine = der.time(at(iso));
      expect(hex(mine)).toBe(expected);
      const text = Buffer.from(mine.subarray(2)).toString('latin1');
      const ref = openssl(`asn1=${mine[0] === 0x17 ? 'UTCTIME' : 'GENTIME'}:${text}\n`);
      expect(hex(mine)).toBe(hex(ref));
      if (at(iso).getUTCFullYear() >= 1950) expect(hex(mine)).toBe(hex(AsnConvert.serialize(new asn1X509.Time(at(iso)))));
    });

    it('drops milliseconds: whole seconds only (RFC 5280 §4.1.2.5)', () => {
      const d = at('2049-12-31T23:59:59.999Z');
      expect(hex(der.utcTime(d))).toBe('170d3439313233313233353935395a');
      expect(hex(der.generalizedTime(d))).toBe(hex(AsnConvert.serialize(new asn1X509.Time({ generalTime: new Date('2049-12-31T23:59:59Z') }))));
      expect(hex(der.generalizedTime(d))).toBe('180f32303439313233313233353935395a');
    });

    it('UTCTime refuses years outside 1950–2049; invalid dates are refused', () => {
      expect(() => der.utcTime(at('2050-01-01T00:00:00Z'))).toThrow(/UTCTime/);
      expect(() => der.utcTime(at('1949-12-31T23:59:59Z'))).toThrow(/UTCTime/);
      expect(() => der.time(new Date(NaN))).toThrow(/invalid date/);
      expect(() => der.generalizedTime(new Date(Date.UTC(10000, 0, 1)))).toThrow(/out of range/);
    });
  });

  describe('constructed values', () => {
    it('SEQUENCE, EXPLICIT and IMPLICIT as asn1-x509 writes an AlgorithmIdentifier, a version and a URI', () => {
      const alg = new asn1X509.AlgorithmIdentifier({ algorithm: '1.2.840.113549.1.1.11', parameters: new Uint8Array([5, 0]).buffer });
      expect(hex(der.sequence(der.oid('1.2.840.113549.1.1.11'), der.NULL))).toBe(hex(AsnConvert.serialize(alg)));
      expect(hex(der.explicit(0, der.integer(2)))).toBe('a003020102');
      const uri = 'http://crl.example/a.crl';
      const gn = new asn1X509.GeneralName({ uniformResourceIdentifier: uri });
      expect(hex(der.implicit(6, Buffer.from(uri)))).toBe(hex(AsnConvert.serialize(gn)));
      const dn = AsnConvert.serialize(new asn1X509.Name([new asn1X509.RelativeDistinguishedName([new asn1X509.AttributeTypeAndValue({ type: '2.5.4.6', value: new asn1X509.AttributeValue({ printableString: 'JP' }) })])]));
      const dirName = new asn1X509.GeneralName({ directoryName: AsnConvert.parse(dn, asn1X509.Name) });
      expect(hex(der.explicit(4, new Uint8Array(dn)))).toBe(hex(AsnConvert.serialize(dirName)));
      expect(hex(der.implicit(0, der.sequence(der.integer(1)).subarray(2), true))).toBe('a003020101');
      expect(hex(der.set(der.integer(2), der.integer(1)))).toBe('3106020102020101');
    });

    it('refuses context tags that need the high-tag-number form', () => {
      expect(() => der.explicit(31, der.NULL)).toThrow(/high-tag/);
      expect(() => der.implicit(-1, Buffer.alloc(0))).toThrow(/high-tag/);
      expect(hex(der.implicit(30, Buffer.alloc(0)))).toBe('9e00');
    });

    it('SET OF sorts its elements by encoding exactly as OpenSSL does', () => {
      const conf = `asn1=SET:s\n[s]\na=INTEGER:256\nb=INTEGER:1\nc=FORMAT:HEX,OCTETSTRING:aa\nd=BOOLEAN:TRUE\ne=UTF8:JP\nf=UTF8:J\ng=INTEGER:-1\n`;
      const elements = [der.integer(256), der.integer(1), der.octetString(h('aa')), der.boolean(true), der.utf8String('JP'), der.utf8String('J'), der.integer(-1)];
      const ref = openssl(conf);
      expect(hex(der.setOf(elements))).toBe(hex(ref));
      expect(hex(der.setOf([...elements].reverse()))).toBe(hex(ref));
      // the input array is left as it was
      expect(hex(elements[0]!)).toBe('02020100');
    });

    it('SET OF puts a prefix before its extensions', () => {
      const a = Buffer.from('0c024a50', 'hex');
      const b = Buffer.from('0c034a5000', 'hex'); // not real DER lengths, only the ordering rule
      expect(hex(der.setOf([b, a]))).toBe(hex(Buffer.concat([Buffer.from([0x31, 9]), a, b])));
    });
  });
});

describe('DER reader', () => {
  it('round-trips every writer', () => {
    const samples = [
      der.integer(-129n),
      der.integer(2n ** 100n),
      der.oid('2.999.1'),
      der.utf8String('山田'),
      der.octetString(Buffer.alloc(0x10000)),
      der.sequence(der.integer(1), der.sequence(der.NULL)),
      der.namedBitString([0, 1]),
      der.time(new Date('2050-06-01T00:00:00Z')),
    ];
    for (const s of samples) {
      const t = der.readSingle(s);
      expect(t.start).toBe(0);
      expect(t.end).toBe(s.length);
      expect(t.tag).toBe(s[0]);
      expect(t.contentStart).toBe(der.headerLength(t.end - t.contentStart));
    }
    const seq = der.sequence(der.integer(1), der.sequence(der.NULL), der.utf8String('x'));
    const kids = der.childList(seq, der.readSingle(seq));
    expect(kids.map((k) => k.tag)).toEqual([0x02, 0x30, 0x0c]);
    expect(hex(der.bytesOf(seq, kids[1]!))).toBe('30020500');
    expect(hex(der.contentOf(seq, kids[2]!))).toBe('78');
    expect(() => der.expectTlv(seq, kids[0]!.start, der.TAG.SEQUENCE, seq.length, 'a SEQUENCE')).toThrow(/expected a SEQUENCE \(tag 0x30\), found tag 0x2 at byte 2/);
    expect(() => [...der.children(seq, kids[0]!)]).toThrow(/not a constructed value/);
    expect(() => der.childList(seq, kids[0]!)).toThrow(/not a constructed value at byte 2/);
  });

  it('childList reads what the children generator yields', () => {
    const values = [der.sequence(), der.sequence(der.integer(1)), der.set(der.NULL, der.oid('1.2.3'), der.sequence(der.utf8String('x'))), der.sequence(der.octetString(Buffer.alloc(300)), der.integer(7))];
    for (const v of values) {
      const t = der.readSingle(v);
      expect(der.childList(v, t)).toEqual([...der.children(v, t)]);
    }
  });

  describe('checkName', () => {
    const atv = (...parts: Buffer[]) => der.sequence(...parts);
    const name = (...rdns: Buffer[]) => der.sequence(...rdns);
    const check = (n: Buffer) => der.checkName(n, der.readSingle(n), 'subject');
    it('accepts a Name, also an empty one and one of several attributes per RDN', () => {
      expect(() => check(name())).not.toThrow();
      expect(() => check(name(der.set(atv(der.oid('2.5.4.6'), der.printableString('JP'))), der.set(atv(der.oid('2.5.4.3'), der.utf8String('x')), atv(der.oid('2.5.4.7'), der.utf8String('y')))))).not.toThrow();
    });
    it.each([
      ['an RDN that is not a SET', name(der.sequence(atv(der.oid('2.5.4.6'), der.printableString('JP')))), /RelativeDistinguishedName that is not a non-empty SET/],
      ['an empty RDN', name(der.set()), /RelativeDistinguishedName that is not a non-empty SET/],
      ['an attribute that is not a SEQUENCE', name(der.set(der.set(der.oid('2.5.4.6'), der.printableString('JP')))), /attribute that is not a SEQUENCE/],
      ['an attribute of one field', name(der.set(atv(der.oid('2.5.4.6')))), /attribute that is not \{ type, value \}/],
      ['an empty attribute', name(der.set(atv())), /attribute that is not \{ type, value \}/],
      ['an attribute of three fields', name(der.set(atv(der.oid('2.5.4.6'), der.printableString('JP'), der.NULL))), /attribute that is not \{ type, value \}/],
      ['a type that is not an OID', name(der.set(atv(der.integer(6), der.printableString('JP')))), /expected an OBJECT IDENTIFIER/],
      ['a Name that is not a SEQUENCE', der.set(der.set(atv(der.oid('2.5.4.6'), der.printableString('JP')))), /subject is not a SEQUENCE/],
    ])('refuses %s', (_what, n, msg) => {
      expect(() => check(n)).toThrow(msg);
    });
  });

  it('reads long lengths back: 0x80, 0xFF, 0x100, 0x10000, 0x1000000', () => {
    for (const len of [0x80, 0xff, 0x100, 0x10000, 0x1000000]) {
      const enc = der.octetString(Buffer.alloc(len));
      const t = der.readSingle(enc);
      expect(t.end - t.contentStart).toBe(len);
    }
  });

  describe('rejects what is not DER, with the offset', () => {
    it.each([
      ['empty input', '', /\(expected a tag\) at byte 0/],
      ['a tag without a length', '30', /\(expected a length\) at byte 1/],
      ['a truncated value', '300502010102', /runs past the end of its container at byte 0/],
      ['a truncated long length', '3082 01', /\(truncated length\) at byte 1/],
      ['an indefinite length', '3080 0201 01 0000', /indefinite length is not DER at byte 1/],
      ['a long form for a short length', '0481 05 0102030405', /not minimally encoded at byte 1/],
      ['a leading zero length octet', '0482 0080' + '00'.repeat(128), /not minimally encoded at byte 1/],
      ['a two-octet length that fits in one', '0482 00ff' + '00'.repeat(255), /not minimally encoded at byte 1/],
      ['five length octets', '0485 0000000001 00', /length of 5 octets is too long at byte 1/],
      ['the high-tag-number form', '1f2001 00', /high-tag-number form is not supported at byte 0/],
      ['a context high tag', 'bf1f00', /high-tag-number form/],
      ['end-of-contents octets', '0000', /end-of-contents/],
      ['trailing bytes', '020101 00', /1 trailing bytes after the value at byte 3/],
    ])('%s', (_name, input, message) => {
      expect(() => der.readSingle(h(input))).toThrow(message);
      try {
        der.readSingle(h(input));
      } catch (e) {
        expect(e).toBeInstanceOf(der.DerError);
        expect(typeof (e as der.DerError).offset).toBe('number');
      }
    });

    it('a child whose length runs past its container', () => {
      const buf = h('3004 0205 0102030405');
      const outer = der.readTlv(buf, 0);
      expect(outer.end).toBe(6);
      expect(() => der.childList(buf, outer)).toThrow(/runs past the end of its container at byte 2/);
    });

    it('a value longer than the configured limit', () => {
      expect(() => der.readSingle(der.octetString(Buffer.alloc(300)), { maxLength: 256 })).toThrow(/exceeds the limit 256/);
    });
  });

  describe('OBJECT IDENTIFIER', () => {
    it('rejects a leading 0x80 in an arc, a truncated arc, an empty OID and a wrong tag', () => {
      expect(() => der.readOid(h('0603 2a8001'), der.readSingle(h('0603 2a8001')))).toThrow(/leading 0x80/);
      expect(() => der.readOid(h('0602 2a86'), der.readSingle(h('0602 2a86')))).toThrow(/truncated OBJECT IDENTIFIER/);
      expect(() => der.readOid(h('0600'), der.readSingle(h('0600')))).toThrow(/truncated OBJECT IDENTIFIER/);
      expect(() => der.readOid(h('020101'), der.readSingle(h('020101')))).toThrow(/expected an OBJECT IDENTIFIER/);
    });
  });

  describe('INTEGER', () => {
    it('reads back every sign and size', () => {
      for (const v of [0n, 1n, -1n, 127n, 128n, -128n, -129n, 255n, 256n, 2n ** 160n, -(2n ** 64n)]) {
        const enc = der.integer(v);
        expect(der.readInteger(enc, der.readSingle(enc))).toBe(v);
      }
      const e = der.enumerated(6);
      expect(der.readInteger(e, der.readSingle(e))).toBe(6n);
    });

    it('rejects non-minimal and empty INTEGERs (X.690 §8.3.2)', () => {
      for (const bad of ['0202007f', '0202ff80', '0203007fff', '0203ffffff', '0200']) {
        const b = h(bad);
        expect(() => der.readInteger(b, der.readSingle(b))).toThrow(/minimally|empty/);
      }
    });

    it('readUnsignedInteger gives the magnitude and refuses negatives and padding', () => {
      const enc = der.unsignedInteger(h('80ff'));
      expect(hex(der.readUnsignedInteger(enc, der.readSingle(enc)))).toBe('80ff');
      const zero = der.integer(0);
      expect(hex(der.readUnsignedInteger(zero, der.readSingle(zero)))).toBe('00');
      for (const [bad, msg] of [
        ['0201ff', /negative/],
        ['0202007f', /minimally/],
        ['0200', /empty/],
        ['0401ff', /expected an INTEGER/],
      ] as const) {
        const b = h(bad);
        expect(() => der.readUnsignedInteger(b, der.readSingle(b))).toThrow(msg);
      }
    });
  });

  describe('times', () => {
    const read = (tag: number, s: string) => {
      const enc = der.tlv(tag, Buffer.from(s, 'latin1'));
      return der.readTime(enc, der.readSingle(enc));
    };
    it('reads UTCTime with the RFC 5280 century rule and GeneralizedTime', () => {
      expect(read(0x17, '500101000000Z').toISOString()).toBe('1950-01-01T00:00:00.000Z');
      expect(read(0x17, '491231235959Z').toISOString()).toBe('2049-12-31T23:59:59.000Z');
      expect(read(0x17, '240229120000Z').toISOString()).toBe('2024-02-29T12:00:00.000Z');
      expect(read(0x18, '20500101000000Z').toISOString()).toBe('2050-01-01T00:00:00.000Z');
      expect(read(0x18, '20000229000000Z').toISOString()).toBe('2000-02-29T00:00:00.000Z');
      expect(read(0x18, '20240101000000.5Z').toISOString()).toBe('2024-01-01T00:00:00.500Z');
      expect(read(0x18, '00500101000000Z').getUTCFullYear()).toBe(50);
    });

    it('reads back every whole-second time the writer makes, UTCTime and GeneralizedTime (the byte path)', () => {
      const at = (y: number, mo: number, d: number, h: number, mi: number, se: number) => new Date(Date.UTC(y, mo, d, h, mi, se));
      for (let i = 0; i < 2000; i++) {
        const t = at(1950 + ((i * 7) % 150), i % 12, 1 + ((i * 13) % 28), (i * 5) % 24, (i * 11) % 60, (i * 17) % 60);
        const enc = der.time(t);
        expect(der.readTime(enc, der.readSingle(enc)).getTime()).toBe(t.getTime());
      }
    });

    it('round-trips the writer on both sides of 2050', () => {
      for (const iso of ['1950-01-01T00:00:00.000Z', '2049-12-31T23:59:59.000Z', '2050-01-01T00:00:00.000Z', '2100-03-01T00:00:00.000Z']) {
        const enc = der.time(new Date(iso));
        expect(der.readTime(enc, der.readSingle(enc)).toISOString()).toBe(iso);
      }
    });

    it.each([
      [0x17, '230230000000Z', /not a real date/],
      [0x17, '230229000000Z', /not a real date/],
      [0x18, '21000229000000Z', /not a real date/],
      [0x17, '231301000000Z', /not a real date/],
      [0x17, '230001000000Z', /not a real date/],
      [0x17, '230100000000Z', /not a real date/],
      [0x17, '230101240000Z', /not a real date/],
      [0x17, '230101236000Z', /not a real date/],
      [0x17, '230101235960Z', /not a real date/],
      [0x17, '2301012359Z', /malformed UTCTime/],
      [0x17, '230101235959', /malformed UTCTime/],
      [0x17, '230101235959+0900', /malformed UTCTime/],
      [0x18, '20230101235959', /malformed GeneralizedTime/],
      [0x18, '20230101235959.50Z', /malformed GeneralizedTime/],
      [0x18, '20230101235959.Z', /malformed GeneralizedTime/],
      [0x18, '202301012359Z', /malformed GeneralizedTime/],
      [0x04, '230101235959Z', /expected a UTCTime or GeneralizedTime/],
      // the right length for the quick path, but not all digits: the general path refuses them
      [0x17, '2301012359 9Z', /malformed UTCTime/],
      [0x17, '-30101235959Z', /malformed UTCTime/],
      [0x17, '2301012359590', /malformed UTCTime/],
      [0x18, '2023010123595xZ', /malformed GeneralizedTime/],
      [0x18, '/0230101235959Z', /malformed GeneralizedTime/],
    ])('tag %i %j is refused', (tag, s, msg) => {
      expect(() => read(tag, s)).toThrow(msg);
    });
  });

  it('reads strings and refuses a BMPString of odd length', () => {
    const read = (enc: Buffer) => der.readString(enc, der.readSingle(enc));
    expect(read(der.utf8String('山田 太郎'))).toBe('山田 太郎');
    expect(read(der.printableString('JP'))).toBe('JP');
    expect(read(der.ia5String('http://x/'))).toBe('http://x/');
    expect(read(Buffer.from(new asn1js.BmpString({ value: '公的' }).toBER()))).toBe('公的');
    expect(() => read(h('1e03 516c00'))).toThrow(/odd number of bytes/);
    expect(() => read(der.integer(1))).toThrow(/expected a string/);
  });
});

describe('splitSigned', () => {
  const tbs = der.sequence(der.integer(1));
  const alg = der.sequence(der.oid('1.2.840.113549.1.1.11'), der.NULL);
  it('splits SIGNED{…} into views', () => {
    const signed = der.sequence(tbs, alg, der.bitString(h('0102')));
    const parts = splitSigned(signed);
    expect(hex(parts.tbs)).toBe(hex(tbs));
    expect(parts.algorithmOid).toBe('1.2.840.113549.1.1.11');
    expect(hex(parts.signature)).toBe('0102');
  });
  it('refuses a fourth element, unused signature bits and an empty BIT STRING', () => {
    expect(() => splitSigned(der.sequence(tbs, alg, der.bitString(h('01')), der.NULL))).toThrow(/tbs, algorithm, signature/);
    expect(() => splitSigned(der.sequence(tbs, alg, der.bitString(h('01'), 1)))).toThrow(/unused bits/);
    expect(() => splitSigned(der.sequence(tbs, alg, h('0300')))).toThrow(/empty BIT STRING/);
  });
});
