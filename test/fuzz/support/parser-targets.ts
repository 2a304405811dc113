/**
 * The parsers of untrusted bytes: certificates, CSRs, public keys, CRLs, OCSP requests, the register CSV.
 * Each must return or throw a JpkiError with a code. Where a fast path of ours reads what a library also
 * reads (the DER certificate reader, the CRL scanner, the CMS reader), whatever ours accepts the library must accept and
 * read the same way — the fast path is fuzzed against the typed schemas (differential).
 */
import { AsnConvert } from '@peculiar/asn1-schema';
import { Certificate, CertificateList } from '@peculiar/asn1-x509';
import { readCertificate } from '../../../src/pki/certificate-reader.js';
import { readSignedData } from '../../../src/pki/cms-reader.js';
import { cmsDifferences } from './cms-reference.js';
import { parseCsr, verifyCsr, checkKeyStrength, parsePublicKey, describePublicKey } from '../../../src/pki/csr.js';
import { scanCrl, findRevoked, buildRevocationIndex } from '../../../src/pki/crl-scanner.js';
import { parseOcspRequest } from '../../../src/ocsp/request.js';
import { residentsFromCsv } from '../../../src/register/csv.js';
import { encodeCommandApdu, MAX_EXTENDED_LE, parseCommandApdu, type CommandFields } from '../../../src/card/apdu.js';
import { SW } from '../../../src/card/status-words.js';
import fc from 'fast-check';
import { expectPrecise, hostileBytes, readCorpus, type FuzzTarget } from './fuzz.js';

function seedsOf(name: string): Uint8Array[] {
  return readCorpus({ name, kind: 'bytes' } as FuzzTarget<Uint8Array>)
    .filter((c) => c.file.startsWith('seed-'))
    .map((c) => c.input);
}

const hex = (b: Uint8Array | ArrayBuffer) => Buffer.from(b instanceof ArrayBuffer ? new Uint8Array(b) : b).toString('hex');
/** An INTEGER's content as the minimal unsigned hex our readers report (leading zero bytes dropped). */
const unsignedHex = (b: ArrayBuffer) => hex(b).replace(/^(00)+(?=.)/, '');

function bytesTarget(name: string, description: string, testRuns: number, check: (b: Uint8Array) => Promise<void> | void): FuzzTarget<Uint8Array> {
  return {
    name,
    description,
    testRuns,
    kind: 'bytes',
    async open() {
      return { arbitrary: hostileBytes(seedsOf(name)), check, close: async () => undefined };
    },
  };
}

export const derCertificate = bytesTarget(
  'der-certificate',
  'X.509 certificates through the DER certificate reader (src/pki/certificate-reader.ts), differential against @peculiar/asn1-x509',
  400,
  async (b) => {
    const r = await expectPrecise('readCertificate', () => readCertificate(b));
    if (r !== 'ok') return;
    const view = readCertificate(b);
    let lib: Certificate;
    try {
      lib = AsnConvert.parse(b, Certificate);
    } catch (e) {
      throw new Error(`readCertificate accepted what @peculiar/asn1-x509 refuses (${(e as Error).message})`);
    }
    const serial = unsignedHex(lib.tbsCertificate.serialNumber);
    const ours = Buffer.from(view.serial).toString('hex').replace(/^(00)+(?=.)/, '');
    if (ours !== serial) throw new Error(`serial ${ours} read, the library reads ${serial}`);
  },
);

export const derCsr = bytesTarget('der-csr', 'PKCS#10 CSRs: parse, self-signature, key policy (src/pki/csr.ts)', 300, async (b) => {
  const parsed = await expectPrecise('parseCsr', () => parseCsr(b));
  if (parsed !== 'ok') return;
  const verified = await expectPrecise('verifyCsr', () => verifyCsr(b));
  if (verified !== 'ok') return;
  await expectPrecise('checkKeyStrength', () => checkKeyStrength(verifyCsr(b).subjectPublicKeyInfo, { minRsaBits: 2048 }));
});

export const derPublicKey = bytesTarget('der-public-key', 'bare SubjectPublicKeyInfo (DER or PEM) for `ca issue --public-key`', 300, async (b) => {
  const r = await expectPrecise('parsePublicKey', () => parsePublicKey(b));
  if (r !== 'ok') return;
  const spki = parsePublicKey(b);
  await expectPrecise('describePublicKey', () => describePublicKey(spki));
  await expectPrecise('checkKeyStrength', () => checkKeyStrength(spki, { minRsaBits: 2048 }));
});

export const derCrl = bytesTarget(
  'der-crl',
  'CRLs through the streaming CRL scanner (src/pki/crl-scanner.ts): scan, walk every entry, look up, index; differential against @peculiar/asn1-x509',
  400,
  async (b) => {
    const r = await expectPrecise('scanCrl', () => {
      const info = scanCrl(b);
      const serials: string[] = [];
      for (const e of info.entries()) serials.push(e.serialHex);
      findRevoked(info, '1234');
      buildRevocationIndex(info);
      return serials;
    });
    if (r !== 'ok') return;
    const info = scanCrl(b);
    let lib: CertificateList;
    try {
      lib = AsnConvert.parse(b, CertificateList);
    } catch (e) {
      throw new Error(`scanCrl accepted what @peculiar/asn1-x509 refuses (${(e as Error).message})`);
    }
    const libSerials = (lib.tbsCertList.revokedCertificates ?? []).map((e) => unsignedHex(e.userCertificate));
    const ours = [...info.entries()].map((e) => e.serialHex.replace(/^(00)+(?=.)/, ''));
    if (ours.length !== libSerials.length || ours.some((s, i) => s !== libSerials[i]))
      throw new Error(`entries ${ours.join(',')} read, the library reads ${libSerials.join(',')}`);
  },
);

export const derCms = bytesTarget(
  'der-cms',
  'CMS SignedData through the fast envelope reader of the verifier (src/pki/cms-reader.ts), differential against @peculiar/asn1-cms field for field',
  400,
  async (b) => {
    const r = await expectPrecise('readSignedData', () => readSignedData(b));
    if (r !== 'ok') return;
    const view = readSignedData(b);
    let differences: string[];
    try {
      differences = cmsDifferences(b, view);
    } catch (e) {
      throw new Error(`readSignedData accepted what @peculiar/asn1-cms refuses (${(e as Error).message})`);
    }
    if (differences.length) throw new Error(`readSignedData and @peculiar/asn1-cms read differently: ${differences.join('; ')}`);
  },
);

export const derOcspRequest = bytesTarget('der-ocsp-request', 'OCSP requests (RFC 6960) through the request parser (src/ocsp/request.ts)', 400, async (b) => {
  await expectPrecise('parseOcspRequest', () => parseOcspRequest(b));
});

export const registerCsv: FuzzTarget<Uint8Array> = {
  ...bytesTarget('register-csv', 'the register CSV of `jpki register import` (src/register/csv.ts), as UTF-8 bytes', 400, async (b) => {
    await expectPrecise('residentsFromCsv', () => residentsFromCsv(Buffer.from(b).toString('utf8')));
  }),
  async open() {
    const seeds = seedsOf('register-csv').map((s) => Buffer.from(s).toString('utf8'));
    const line = fc.array(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('"', '""', ',', '\r', '\n', '公的 一郎', '1977-11-07', '13103', '1', '2', '東京都港区虎ノ門5丁目')), { maxLength: 8 }).map((p) => p.join(''));
    const text = fc.oneof(
      fc.constantFrom(...seeds),
      fc.tuple(fc.constantFrom(...seeds), fc.array(line, { maxLength: 4 })).map(([s, extra]) => `${s}${extra.join('\n')}`),
      fc.tuple(fc.constantFrom(...seeds), fc.nat(), fc.string({ maxLength: 8 })).map(([s, at, ins]) => s.slice(0, at % (s.length + 1)) + ins + s.slice(at % (s.length + 1))),
      fc.string({ unit: 'binary', maxLength: 200 }),
    );
    return {
      arbitrary: fc.oneof(text.map((s) => new Uint8Array(Buffer.from(s, 'utf8'))), hostileBytes(seedsOf('register-csv'))),
      check: async (b: Uint8Array) => void (await expectPrecise('residentsFromCsv', () => residentsFromCsv(Buffer.from(b).toString('utf8')))),
      close: async () => undefined,
    };
  },
};

const KNOWN_SW = new Set<number>(Object.values(SW));

export const apduParser = bytesTarget('apdu-parse', 'command APDUs as the card receives them (src/card/apdu.ts): parsed, or a status word', 500, (b) => {
  const r = parseCommandApdu(b);
  if (!r.ok && !KNOWN_SW.has(r.sw)) throw new Error(`unknown status word ${r.sw.toString(16)}`);
  if (!r.ok) return;
  const c = r.command;
  const [maxData, maxLe] = c.extended ? [65535, MAX_EXTENDED_LE] : [255, 256];
  if (c.data.length > maxData || (c.le !== null && (c.le < 1 || c.le > maxLe))) throw new Error(`a parsed ${c.extended ? 'extended' : 'short'} APDU out of its form`);
  // what the card parsed is what the host meant: encoding it again gives the same bytes
  const fields: CommandFields = { cla: c.cla, ins: c.ins, p1: c.p1, p2: c.p2, data: c.data, extended: c.extended };
  if (c.le !== null) fields.le = c.le;
  const again = encodeCommandApdu(fields);
  if (!again.equals(Buffer.from(b))) throw new Error(`parsed then encoded again differs: ${Buffer.from(b).toString('hex')} → ${again.toString('hex')}`);
});

export const PARSER_TARGETS = [derCertificate, derCsr, derPublicKey, derCrl, derCms, derOcspRequest, registerCsv, apduParser];
