import { createHash, X509Certificate } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, AuthorityInfoAccessSyntax, Certificate, CRLDistributionPoints } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { MAX_CRL_BYTES, MAX_OCSP_RESPONSE_BYTES, readResponseBounded } from '../common/bounded-read.js';
import type { Clock } from '../common/clock.js';
import { formatJapaneseDate } from '../pki/era.js';
import { findRevoked, scanCrl, verifyCrlSignature } from '../pki/crl-scanner.js';
import { verifySignature } from '../pki/signed.js';
import { loadPublicKey } from '../pki/public-key.js';
import { OID_AD_OCSP, OID_KP_OCSP_SIGNING, OID_SHA1 } from '../pki/oids.js';

/**
 * The validity check (guide §4(9)): expiry from the certificate itself, revocation from the OCSP responder
 * its AIA names, and the CRL its CRL distribution point names when OCSP gives no usable answer. Every
 * answer is checked: the OCSP response's signature by the CA or a responder the CA delegated to, the CRL's
 * by the CA, both for freshness. One verdict comes out.
 */
export type ValidityStatus = 'valid' | 'revoked' | 'expired' | 'not-yet-valid' | 'unavailable';

export interface ValidityVerdict {
  status: ValidityStatus;
  serial: string;
  notAfter: string;
  /** How revocation was decided. */
  source?: 'ocsp' | 'crl';
  revokedAt?: string;
  reason?: string;
  /** Why the status is unavailable (each source tried). */
  problems?: string[];
  /** One line for the resident (Japanese first, English after). */
  text: string;
}

const REASONS = ['unspecified', 'keyCompromise', 'cACompromise', 'affiliationChanged', 'superseded', 'cessationOfOperation', 'certificateHold', '', 'removeFromCRL', 'privilegeWithdrawn', 'aACompromise'];
const REASONS_JA: Record<string, string> = {
  unspecified: '理由なし',
  keyCompromise: '鍵の危殆化（紛失・盗難等）',
  affiliationChanged: '記録事項の変更',
  superseded: '更新',
  cessationOfOperation: '利用の停止',
  certificateHold: '保留',
  cACompromise: '認証局の危殆化',
};

export interface CheckOptions {
  certificate: Uint8Array;
  issuer: Uint8Array;
  clock: Clock;
  /** HTTP fetch (injectable for tests); the global fetch by default. */
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** OCSP responders to ask instead of the one the certificate's AIA names (a configured local responder). */
  responders?: readonly string[];
}

export async function checkValidity(o: CheckOptions): Promise<ValidityVerdict> {
  const cert = AsnConvert.parse(o.certificate, Certificate);
  const issuer = AsnConvert.parse(o.issuer, Certificate);
  const serial = Buffer.from(cert.tbsCertificate.serialNumber).toString('hex').replace(/^(00)+(?=.)/, '');
  const notAfter = cert.tbsCertificate.validity.notAfter.getTime();
  const now = o.clock.now();
  const base = { serial, notAfter: notAfter.toISOString() };
  if (now > notAfter) return { ...base, status: 'expired', text: `有効期間満了 (expired): ${formatJapaneseDate(notAfter)} に満了しました (serial ${serial})` };
  if (now < cert.tbsCertificate.validity.notBefore.getTime())
    return { ...base, status: 'not-yet-valid', text: `有効期間前 (not yet valid) (serial ${serial})` };
  const problems: string[] = [];
  const fetcher = o.fetch ?? fetch;
  for (const url of o.responders?.length ? o.responders : urlsOf(cert, '1.3.6.1.5.5.7.1.1')) {
    try {
      const r = await ocspStatus(url, o.certificate, cert, issuer, o.issuer, now, fetcher, o.timeoutMs ?? 10_000);
      return decide(base, 'ocsp', r);
    } catch (e) {
      problems.push(`OCSP ${url}: ${(e as Error).message}`);
    }
  }
  for (const url of urlsOf(cert, '2.5.29.31')) {
    try {
      const r = await crlStatus(url, serial, o.issuer, now, fetcher, o.timeoutMs ?? 10_000);
      return decide(base, 'crl', r);
    } catch (e) {
      problems.push(`CRL ${url}: ${(e as Error).message}`);
    }
  }
  if (!problems.length) problems.push('the certificate names no OCSP responder and no CRL');
  return { ...base, status: 'unavailable', problems, text: `確認できません (status unavailable): ${problems.join('; ')}` };
}

type Status = { status: 'good' } | { status: 'revoked'; at: Date; reason: number | undefined };

function decide(base: { serial: string; notAfter: string }, source: 'ocsp' | 'crl', r: Status): ValidityVerdict {
  if (r.status === 'good') {
    return { ...base, status: 'valid', source, text: `有効 (valid): 失効していません (${source.toUpperCase()}), 有効期間の満了日 ${formatJapaneseDate(new Date(base.notAfter))} (serial ${base.serial})` };
  }
  const reason = REASONS[r.reason ?? 0] || 'unspecified';
  return {
    ...base,
    status: 'revoked',
    source,
    revokedAt: r.at.toISOString(),
    reason,
    text: `失効 (revoked): ${formatJapaneseDate(r.at)} (${r.at.toISOString()}), 理由 ${REASONS_JA[reason] ?? reason} (${reason}) (${source.toUpperCase()}, serial ${base.serial})`,
  };
}

/** http(s) URLs of the AIA OCSP entries ('1.3.6.1.5.5.7.1.1') or the CRL distribution points ('2.5.29.31'). */
function urlsOf(cert: Certificate, extension: string): string[] {
  const ext = cert.tbsCertificate.extensions?.find((e) => e.extnID === extension);
  if (!ext) return [];
  const value = new Uint8Array(ext.extnValue.buffer);
  const names =
    extension === '1.3.6.1.5.5.7.1.1'
      ? AsnConvert.parse(value, AuthorityInfoAccessSyntax).filter((a) => a.accessMethod === OID_AD_OCSP).map((a) => a.accessLocation)
      : AsnConvert.parse(value, CRLDistributionPoints).flatMap((d) => d.distributionPoint?.fullName ?? []);
  return names.map((n) => n.uniformResourceIdentifier).filter((u): u is string => !!u && /^https?:\/\//.test(u));
}

async function httpBytes(url: string, init: RequestInit, fetcher: typeof fetch, timeoutMs: number): Promise<Buffer> {
  const response = await fetcher(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }).catch((e: Error) => {
    throw new Error(`no answer (${e.message})`);
  });
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return readResponseBounded(response, init.method === 'POST' ? MAX_OCSP_RESPONSE_BYTES : MAX_CRL_BYTES);
}

async function ocspStatus(url: string, certDer: Uint8Array, cert: Certificate, issuer: Certificate, issuerDer: Uint8Array, now: Date, fetcher: typeof fetch, timeoutMs: number): Promise<Status> {
  const issuerSpkiKey = Buffer.from(issuer.tbsCertificate.subjectPublicKeyInfo.subjectPublicKey);
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: OID_SHA1, parameters: null }),
    issuerNameHash: new OctetString(createHash('sha1').update(Buffer.from(AsnConvert.serialize(issuer.tbsCertificate.subject))).digest()),
    issuerKeyHash: new OctetString(createHash('sha1').update(issuerSpkiKey).digest()),
    serialNumber: cert.tbsCertificate.serialNumber,
  });
  const request = new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) });
  const body = await httpBytes(url, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body: new Uint8Array(AsnConvert.serialize(request)) }, fetcher, timeoutMs);
  const response = AsnConvert.parse(body, OCSPResponse);
  if (response.responseStatus !== OCSPResponseStatus.successful) throw new Error(`the responder answered ${OCSPResponseStatus[response.responseStatus]}`);
  if (!response.responseBytes || response.responseBytes.responseType !== id_pkix_ocsp_basic) throw new Error('not a basic OCSP response');
  const basicDer = new Uint8Array(response.responseBytes.response.buffer);
  const basic = AsnConvert.parse(basicDer, BasicOCSPResponse);
  const tbs = new Uint8Array(basic.tbsResponseDataRaw ?? AsnConvert.serialize(basic.tbsResponseData));
  // The signer: the CA itself, or a responder certificate the CA issued for OCSP signing (RFC 6960 §4.2.2.2).
  const issuerX = new X509Certificate(Buffer.from(issuerDer));
  const candidates = [issuerX, ...(basic.certs ?? []).map((c) => new X509Certificate(Buffer.from(AsnConvert.serialize(c))))];
  const signer = candidates.find((c) => verifySignature(basic.signatureAlgorithm.algorithm, tbs, new Uint8Array(basic.signature), c.publicKey));
  if (!signer) throw new Error('the response is not signed by the CA or its responder');
  if (signer !== issuerX) {
    if (!signer.verify(issuerX.publicKey)) throw new Error('the responder certificate was not issued by the CA');
    if (!(signer.keyUsage ?? []).includes(OID_KP_OCSP_SIGNING)) throw new Error('the responder certificate is not for OCSP signing');
    if (new Date(signer.validTo) < now || new Date(signer.validFrom) > now) throw new Error('the responder certificate is not valid now');
  }
  const serialHex = Buffer.from(cert.tbsCertificate.serialNumber).toString('hex');
  const single = basic.tbsResponseData.responses.find((s) => Buffer.from(s.certID.serialNumber).toString('hex') === serialHex);
  if (!single) throw new Error('the response does not speak of this certificate');
  const skew = 5 * 60_000;
  if (single.thisUpdate.getTime() > now.getTime() + skew) throw new Error('the response is from the future');
  if (single.nextUpdate && single.nextUpdate.getTime() < now.getTime() - skew) throw new Error('the response is stale');
  if (single.certStatus.revoked) return { status: 'revoked', at: single.certStatus.revoked.revocationTime, reason: single.certStatus.revoked.revocationReason?.reason };
  if (single.certStatus.good !== undefined) return { status: 'good' };
  throw new Error('the responder does not know this certificate');
}

async function crlStatus(url: string, serialHex: string, issuerDer: Uint8Array, now: Date, fetcher: typeof fetch, timeoutMs: number): Promise<Status> {
  const der = await httpBytes(url, {}, fetcher, timeoutMs);
  const crl = scanCrl(der);
  const issuerX = new X509Certificate(Buffer.from(issuerDer));
  if (!verifyCrlSignature(crl, loadPublicKey(issuerX.publicKey.export({ type: 'spki', format: 'der' })))) throw new Error('the CRL is not signed by the CA');
  if (crl.nextUpdate && crl.nextUpdate.getTime() < now.getTime()) throw new Error('the CRL is out of date');
  const entry = findRevoked(crl, serialHex);
  return entry ? { status: 'revoked', at: entry.revocationDate, reason: entry.reason } : { status: 'good' };
}
