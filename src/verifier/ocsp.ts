import { createHash } from 'node:crypto';
import { AsnConvert, OctetString } from '@peculiar/asn1-schema';
import { AlgorithmIdentifier, Certificate } from '@peculiar/asn1-x509';
import { BasicOCSPResponse, CertID, OCSPRequest, OCSPResponse, OCSPResponseStatus, Request, TBSRequest, id_pkix_ocsp_basic } from '@peculiar/asn1-ocsp';
import { OID, parseCertificate, type ParsedCertificate } from './certificate.js';
import { nameKey } from './names.js';
import { verifySignatureWith } from './signatures.js';
import type { SignatureCache } from './validate.js';

/**
 * OCSP (RFC 6960) for the verifier: the request for one certificate, and the checks of a response — the
 * CertID names this certificate and its issuer (name and key hashes), the signer is the issuer itself or a
 * responder certificate the issuer gave id-kp-OCSPSigning, the signature verifies, and the time is inside
 * thisUpdate … nextUpdate. Parsed with @peculiar/asn1-ocsp.
 */
const HASHES: Record<string, string> = { '1.3.14.3.2.26': 'sha1', '2.16.840.1.101.3.4.2.1': 'sha256', '2.16.840.1.101.3.4.2.2': 'sha384', '2.16.840.1.101.3.4.2.3': 'sha512' };

export type OcspOutcome =
  | { kind: 'status'; status: 'good' | 'revoked' | 'unknown'; revokedAt?: Date; reason?: number; thisUpdate: Date; nextUpdate?: Date }
  | { kind: 'unusable'; why: string }
  /** A response about another certificate (not an error: a pre-supplied response for someone else). */
  | { kind: 'not-for-this' };

function issuerNameDer(cert: ParsedCertificate): Buffer {
  return Buffer.from(AsnConvert.serialize(cert.cert.tbsCertificate.issuer));
}

function keyBits(c: ParsedCertificate): Buffer {
  return Buffer.from(c.spki.subjectPublicKey);
}

export function ocspRequest(cert: ParsedCertificate, issuer: ParsedCertificate): Buffer {
  const certId = new CertID({
    hashAlgorithm: new AlgorithmIdentifier({ algorithm: '1.3.14.3.2.26', parameters: null }),
    issuerNameHash: new OctetString(createHash('sha1').update(issuerNameDer(cert)).digest()),
    issuerKeyHash: new OctetString(createHash('sha1').update(keyBits(issuer)).digest()),
    serialNumber: cert.serialBytes.buffer.slice(cert.serialBytes.byteOffset, cert.serialBytes.byteOffset + cert.serialBytes.byteLength) as ArrayBuffer,
  });
  return Buffer.from(AsnConvert.serialize(new OCSPRequest({ tbsRequest: new TBSRequest({ requestList: [new Request({ reqCert: certId })] }) })));
}

/** Parses the outer response; throws on anything that is not a successful basic response. */
export function parseBasicResponse(der: Uint8Array): BasicOCSPResponse {
  const r = AsnConvert.parse(der, OCSPResponse);
  if (r.responseStatus !== OCSPResponseStatus.successful) throw new Error(`the responder answered ${OCSPResponseStatus[r.responseStatus] ?? r.responseStatus}`);
  if (!r.responseBytes || r.responseBytes.responseType !== id_pkix_ocsp_basic) throw new Error('not a basic OCSP response');
  return AsnConvert.parse(r.responseBytes.response.buffer, BasicOCSPResponse);
}

function matchesCertId(id: CertID, cert: ParsedCertificate, issuer: ParsedCertificate): 'yes' | 'no' | 'other-cert' {
  const hash = HASHES[id.hashAlgorithm.algorithm];
  if (!Buffer.from(id.serialNumber).equals(cert.serialBytes)) return 'other-cert';
  if (!hash) return 'no';
  const nameHash = createHash(hash).update(issuerNameDer(cert)).digest();
  const keyHash = createHash(hash).update(keyBits(issuer)).digest();
  return Buffer.from(id.issuerNameHash.buffer).equals(nameHash) && Buffer.from(id.issuerKeyHash.buffer).equals(keyHash) ? 'yes' : 'no';
}

function responderIs(basic: BasicOCSPResponse, c: ParsedCertificate): boolean {
  const rid = basic.tbsResponseData.responderID;
  if (rid.byName) return nameKey(rid.byName) === c.subjectKey;
  if (rid.byKey) return Buffer.from(rid.byKey.buffer).equals(createHash('sha1').update(keyBits(c)).digest());
  return false;
}

/**
 * What one response says about one certificate, with every check that does not depend on the time done: a
 * function of the response's bytes and the two certificates, so it can be kept while the bytes are (the
 * verifier's revocation cache), and `outcomeAt` applies the time checks on every use.
 */
export type OcspFacts =
  /** Unreadable, about another certificate, or refused whatever the time. */
  | { kind: 'settled'; outcome: OcspOutcome }
  | {
      kind: 'signed';
      /** A delegated responder's certificate: valid at the time, or the response is unusable. */
      responder?: ParsedCertificate;
      /** Why the response is refused once the responder passes (its signature, its data). */
      refused?: string;
      status: 'good' | 'revoked' | 'unknown';
      revokedAt?: Date;
      reason?: number;
      thisUpdate: Date;
      nextUpdate?: Date;
    };

/** The checks of one response about `cert` (issued by `issuer`) that hold at any time; `outcomeAt` does the rest. */
export function examineOcspResponse(der: Uint8Array, cert: ParsedCertificate, issuer: ParsedCertificate, signatures: SignatureCache): OcspFacts {
  const settle = (outcome: OcspOutcome): OcspFacts => ({ kind: 'settled', outcome });
  let basic: BasicOCSPResponse;
  try {
    basic = parseBasicResponse(der);
  } catch (e) {
    return settle({ kind: 'unusable', why: `the OCSP response cannot be used: ${(e as Error).message}` });
  }
  let single;
  let otherOnly = true;
  for (const s of basic.tbsResponseData.responses) {
    const m = matchesCertId(s.certID, cert, issuer);
    if (m === 'yes') {
      single = s;
      break;
    }
    if (m === 'no') otherOnly = false;
  }
  if (!single) return settle(otherOnly ? { kind: 'not-for-this' } : { kind: 'unusable', why: 'the OCSP response names another issuer (issuer name or key hash)' });
  // the signer: the issuer, or a delegated responder certificate from the issuer
  let signer: ParsedCertificate | undefined;
  let responder: ParsedCertificate | undefined;
  if (responderIs(basic, issuer)) signer = issuer;
  else {
    for (const c of basic.certs ?? []) {
      let rc: ParsedCertificate;
      try {
        rc = parseCertificate(new Uint8Array(AsnConvert.serialize(c as Certificate)));
      } catch {
        continue;
      }
      if (!responderIs(basic, rc)) continue;
      if (rc.issuerKey !== issuer.subjectKey || !signatures.check(rc, issuer)) return settle({ kind: 'unusable', why: `the OCSP responder certificate ${rc.subjectText} is not signed by ${issuer.subjectText}` });
      if (!(rc.extKeyUsage ?? []).includes(OID.kpOcspSigning)) return settle({ kind: 'unusable', why: `the OCSP responder certificate ${rc.subjectText} lacks id-kp-OCSPSigning` });
      signer = responder = rc;
      break;
    }
  }
  if (!signer) return settle({ kind: 'unusable', why: 'the OCSP response is signed by neither the issuer nor a responder it authorised (responderID)' });
  const st = single.certStatus;
  const facts: OcspFacts = {
    kind: 'signed',
    ...(responder ? { responder } : {}),
    status: st.revoked ? 'revoked' : st.good !== undefined ? 'good' : 'unknown',
    ...(st.revoked ? { revokedAt: st.revoked.revocationTime, reason: st.revoked.revocationReason?.reason } : {}),
    thisUpdate: single.thisUpdate,
    ...(single.nextUpdate ? { nextUpdate: single.nextUpdate } : {}),
  };
  if (!basic.tbsResponseDataRaw) return { ...facts, refused: 'the OCSP response has no data' };
  let key;
  try {
    key = signer.publicKey();
  } catch (e) {
    return { ...facts, refused: (e as Error).message };
  }
  if (!verifySignatureWith(basic.signatureAlgorithm, Buffer.from(basic.tbsResponseDataRaw), Buffer.from(basic.signature), key)) return { ...facts, refused: 'the signature on the OCSP response does not verify' };
  return facts;
}

/** The time checks (the responder's validity, thisUpdate, nextUpdate) at `at`, then the status. */
export function outcomeAt(f: OcspFacts, at: Date): OcspOutcome {
  if (f.kind === 'settled') return f.outcome;
  const rc = f.responder;
  if (rc && (at < rc.notBefore || at > rc.notAfter)) return { kind: 'unusable', why: `the OCSP responder certificate ${rc.subjectText} is not valid at the time` };
  if (f.refused) return { kind: 'unusable', why: f.refused };
  const { thisUpdate, nextUpdate } = f;
  if (thisUpdate.getTime() > at.getTime() + 5 * 60_000) return { kind: 'unusable', why: `the OCSP response is from after the validation time (thisUpdate ${thisUpdate.toISOString()})` };
  if (nextUpdate && nextUpdate < at) return { kind: 'unusable', why: `the OCSP response is stale (nextUpdate ${nextUpdate.toISOString()})` };
  if (f.status === 'revoked') return { kind: 'status', status: 'revoked', revokedAt: f.revokedAt, reason: f.reason, thisUpdate, nextUpdate };
  return { kind: 'status', status: f.status, thisUpdate, nextUpdate };
}
