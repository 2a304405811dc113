import { sequence, explicit, octetString, oid, readSingle, readTlv, childList, bytesOf, contentOf, TAG, DerError, type Tlv } from '../pki/der.js';
import { readExtensions, type ExtensionView } from '../pki/extensions.js';
import { OID_PKIX_OCSP_NONCE } from '../pki/oids.js';
import { readCertId, type CertId } from './cert-id.js';
import { malformedRequest, OcspError } from './errors.js';

/**
 *   OCSPRequest ::= SEQUENCE { tbsRequest TBSRequest, optionalSignature [0] EXPLICIT Signature OPTIONAL }
 *   TBSRequest  ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, requestorName [1] EXPLICIT GeneralName OPTIONAL,
 *                              requestList SEQUENCE OF Request, requestExtensions [2] EXPLICIT Extensions OPTIONAL }
 *   Request     ::= SEQUENCE { reqCert CertID, singleRequestExtensions [0] EXPLICIT Extensions OPTIONAL }
 *                                                                                          (RFC 6960 §4.1.1)
 */
export interface OcspRequest {
  certIds: CertId[];
  /** The nonce Extension TLV exactly as received, to be echoed in the response (RFC 8954). */
  nonce?: Uint8Array;
  /** Whether the request carried a signature (accepted, not required, not checked: RFC 5019 §2.1.1). */
  signed: boolean;
}

/** Certificates one request may ask about; more is refused as malformed (each costs a lookup). */
export const MAX_CERT_IDS = 50;
/** The largest nonce extension value accepted (RFC 8954 allows 32 octets of nonce; room for its OCTET STRING wrapping). */
export const MAX_NONCE_VALUE = 64;
/** The largest request accepted at all. */
export const MAX_REQUEST_BYTES = 64 * 1024;

/**
 * Parses a DER OCSPRequest. Every defect — bad framing, wrong tags, trailing bytes, an empty request list,
 * a bad CertID, an oversized nonce — throws OcspError OCSP_MALFORMED_REQUEST; nothing else escapes.
 */
export function parseOcspRequest(der: Uint8Array): OcspRequest {
  if (der.length > MAX_REQUEST_BYTES) throw malformedRequest(`${der.length} bytes is more than the ${MAX_REQUEST_BYTES} accepted`);
  try {
    return parse(der);
  } catch (e) {
    if (e instanceof OcspError) throw e;
    if (e instanceof DerError) throw malformedRequest(e.message, e);
    // the DER helpers only throw DerError; anything else is a bug in them, still the client's bytes' fault
    throw malformedRequest((e as Error).message ?? 'unreadable', e);
  }
}

function parse(der: Uint8Array): OcspRequest {
  const outer = readSingle(der);
  if (outer.tag !== TAG.SEQUENCE) throw new DerError('OCSPRequest is not a SEQUENCE', 0);
  const tbs = readTlv(der, outer.contentStart, outer.end);
  if (tbs.tag !== TAG.SEQUENCE) throw new DerError('tbsRequest is not a SEQUENCE', outer.contentStart);
  let signed = false;
  if (tbs.end < outer.end) {
    const signature = readTlv(der, tbs.end, outer.end);
    if (signature.tag !== 0xa0 || signature.end !== outer.end) throw new DerError('unexpected field after tbsRequest', signature.start);
    signed = true;
  }

  // tbsRequest: [0] version, [1] requestorName, requestList, [2] requestExtensions — read in one walk
  let o = tbs.contentStart;
  let f = o < tbs.end ? readTlv(der, o, tbs.end) : undefined;
  if (f?.tag === 0xa0) {
    const v = readTlv(der, f.contentStart, f.end);
    if (v.end !== f.end || v.tag !== TAG.INTEGER || v.end - v.contentStart !== 1 || der[v.contentStart] !== 0) throw new DerError('only version v1 (0) exists', f.start);
    f = f.end < tbs.end ? readTlv(der, f.end, tbs.end) : undefined;
  }
  if (f?.tag === 0xa1) f = f.end < tbs.end ? readTlv(der, f.end, tbs.end) : undefined; // requestorName: informational only
  const list = f;
  if (!list || list.tag !== TAG.SEQUENCE) throw new DerError('requestList is not a SEQUENCE', list?.start ?? tbs.contentStart);
  let nonce: Uint8Array | undefined;
  o = list.end;
  if (o < tbs.end) {
    const exts = readTlv(der, o, tbs.end);
    if (exts.tag !== 0xa2) throw new DerError('unexpected field in tbsRequest', exts.start);
    nonce = nonceOf(der, exts);
    if (exts.end !== tbs.end) throw new DerError('unexpected field in tbsRequest', exts.end);
  }

  const certIds: CertId[] = [];
  for (o = list.contentStart; o < list.end; ) {
    const req = readTlv(der, o, list.end);
    if (req.tag !== TAG.SEQUENCE) throw new DerError('Request is not a SEQUENCE', req.start);
    if (req.contentStart >= req.end) throw new DerError('Request without a CertID', req.start);
    const certId = readTlv(der, req.contentStart, req.end);
    if (certId.end < req.end) {
      const exts = readTlv(der, certId.end, req.end);
      if (exts.tag !== 0xa0 || exts.end !== req.end) throw new DerError('unexpected field in Request', exts.start);
      explicitExtensions(der, exts);
    }
    certIds.push(readCertId(der, certId));
    if (certIds.length > MAX_CERT_IDS) throw malformedRequest(`more than ${MAX_CERT_IDS} certificates in one request`);
    o = req.end;
  }
  if (certIds.length === 0) throw malformedRequest('the request list is empty');
  return nonce ? { certIds, nonce, signed } : { certIds, signed };
}

/** `[n] EXPLICIT Extensions`: reads them (well-formed, no duplicates). */
function explicitExtensions(der: Uint8Array, wrapper: Tlv): { seq: Tlv; list: ExtensionView[] } {
  const [seq, extra] = childList(der, wrapper);
  if (!seq || extra) throw new DerError('malformed extensions wrapper', wrapper.start);
  return { seq, list: readExtensions(der, seq) };
}

/** The nonce Extension TLV among the request extensions, if there is one; other extensions are ignored. */
function nonceOf(der: Uint8Array, wrapper: Tlv): Uint8Array | undefined {
  const { seq, list } = explicitExtensions(der, wrapper);
  for (const e of list) {
    if (e.oid !== OID_PKIX_OCSP_NONCE) continue;
    if (e.value.length === 0 || e.value.length > MAX_NONCE_VALUE) throw malformedRequest(`a nonce of ${e.value.length} bytes (1 to ${MAX_NONCE_VALUE} accepted)`);
    return bytesOf(der, readTlv(der, e.start, seq.end));
  }
  return undefined;
}

/**
 * An unsigned OCSPRequest for the given CertIDs (DER), with a nonce when `nonce` is given: the nonce value
 * goes inside an OCTET STRING, as OpenSSL and RFC 8954 write it. Used by tests, benchmarks and clients.
 */
export function encodeOcspRequest(certIds: readonly Uint8Array[], nonce?: Uint8Array): Buffer {
  const requestList = sequence(...certIds.map((c) => sequence(c)));
  const parts: Uint8Array[] = [requestList];
  if (nonce) parts.push(explicit(2, sequence(sequence(oid(OID_PKIX_OCSP_NONCE), octetString(octetString(nonce))))));
  return sequence(sequence(...parts));
}

/** The content of a nonce Extension TLV's value (for tests comparing echoes). */
export function nonceValue(nonceExtension: Uint8Array): Uint8Array {
  const t = readSingle(nonceExtension);
  const kids = childList(nonceExtension, t);
  return contentOf(nonceExtension, kids[kids.length - 1]!);
}
