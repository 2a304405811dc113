import { sequence, explicit, octetString, oid, enumerated, generalizedTime, bitString, tlvOf } from '../pki/der.js';
import { keyIdentifierOf } from '../pki/extensions.js';
import { OID_PKIX_OCSP_BASIC } from '../pki/oids.js';
import { algorithmIdentifier } from '../pki/signed.js';
import type { Signer } from '../pki/signer.js';

/**
 * A lean encoder for OCSP responses (RFC 6960 §4.2.1), written with pki/der.ts because responses are built
 * on the hot path; byte for byte the same as @peculiar/asn1-ocsp (test/ocsp/response.test.ts).
 *
 *   OCSPResponse ::= SEQUENCE { responseStatus ENUMERATED, responseBytes [0] EXPLICIT ResponseBytes OPTIONAL }
 *   ResponseBytes ::= SEQUENCE { responseType OBJECT IDENTIFIER, response OCTET STRING }
 *   BasicOCSPResponse ::= SEQUENCE { tbsResponseData ResponseData, signatureAlgorithm AlgorithmIdentifier,
 *                                    signature BIT STRING, certs [0] EXPLICIT SEQUENCE OF Certificate OPTIONAL }
 *   ResponseData ::= SEQUENCE { version [0] EXPLICIT Version DEFAULT v1, responderID ResponderID,
 *                               producedAt GeneralizedTime, responses SEQUENCE OF SingleResponse,
 *                               responseExtensions [1] EXPLICIT Extensions OPTIONAL }
 *   ResponderID ::= CHOICE { byName [1] Name, byKey [2] KeyHash }
 *   SingleResponse ::= SEQUENCE { certID CertID, certStatus CertStatus, thisUpdate GeneralizedTime,
 *                                 nextUpdate [0] EXPLICIT GeneralizedTime OPTIONAL, singleExtensions [1] … OPTIONAL }
 *   CertStatus ::= CHOICE { good [0] IMPLICIT NULL, revoked [1] IMPLICIT RevokedInfo, unknown [2] IMPLICIT NULL }
 *   RevokedInfo ::= SEQUENCE { revocationTime GeneralizedTime, revocationReason [0] EXPLICIT CRLReason OPTIONAL }
 *
 * Decisions: the version is left out (DER omits DEFAULT values); the responder is named byKey (RFC 5019
 * §2.2.3 prefers it: no Name comparison); times are whole seconds (GeneralizedTime without fractions,
 * RFC 5280 §4.1.2.5.2); reason 0 (unspecified) is left out, as in our CRLs (RFC 5280 §5.3.1).
 */
export const OCSP_RESPONSE_STATUS = {
  successful: 0,
  malformedRequest: 1,
  internalError: 2,
  tryLater: 3,
  sigRequired: 5,
  unauthorized: 6,
} as const;

export type OcspResponseStatus = keyof typeof OCSP_RESPONSE_STATUS;
export type OcspErrorStatus = Exclude<OcspResponseStatus, 'successful'>;

const STATUS_ONLY = new Map<OcspErrorStatus, Buffer>(
  (Object.keys(OCSP_RESPONSE_STATUS) as OcspResponseStatus[])
    .filter((s): s is OcspErrorStatus => s !== 'successful')
    .map((s) => [s, sequence(enumerated(OCSP_RESPONSE_STATUS[s]))]),
);

/** An OCSPResponse with no responseBytes: malformedRequest, internalError, tryLater, sigRequired, unauthorized. */
export function statusResponse(status: OcspErrorStatus): Buffer {
  return STATUS_ONLY.get(status)!;
}

export type CertStatus = { type: 'good' } | { type: 'revoked'; revokedAt: Date; reason?: number | null } | { type: 'unknown' };

export interface SingleResponseInput {
  /** The request's CertID DER, echoed verbatim. */
  certId: Uint8Array;
  status: CertStatus;
  thisUpdate: Date;
  nextUpdate?: Date;
}

const GOOD = Buffer.from([0x80, 0x00]);
const UNKNOWN = Buffer.from([0x82, 0x00]);

function certStatus(s: CertStatus): Buffer {
  switch (s.type) {
    case 'good':
      return GOOD;
    case 'unknown':
      return UNKNOWN;
    case 'revoked': {
      const parts = [generalizedTime(s.revokedAt)];
      if (s.reason !== undefined && s.reason !== null && s.reason !== 0) parts.push(explicit(0, enumerated(s.reason)));
      return tlvOf(0xa1, parts);
    }
  }
}

export function encodeSingleResponse(r: SingleResponseInput): Buffer {
  const parts = [r.certId, certStatus(r.status), generalizedTime(r.thisUpdate)];
  if (r.nextUpdate) parts.push(explicit(0, generalizedTime(r.nextUpdate)));
  return tlvOf(0x30, parts);
}

export interface BasicResponseInput {
  /** SHA-1 of the responder's public key BIT STRING value (see `responderKeyHash`). */
  responderKeyHash: Uint8Array;
  producedAt: Date;
  responses: readonly SingleResponseInput[];
  /** The request's nonce Extension TLV, echoed in responseExtensions. */
  nonce?: Uint8Array;
  /** Certificates to carry: the delegated responder's, so a relying party can check who signed. */
  certificates: readonly Uint8Array[];
  signer: Signer;
}

/** The ResponseData DER (what the responder signs). */
export function encodeResponseData(p: Omit<BasicResponseInput, 'certificates' | 'signer'>): Buffer {
  const parts = [explicit(2, octetString(p.responderKeyHash)), generalizedTime(p.producedAt), tlvOf(0x30, p.responses.map(encodeSingleResponse))];
  if (p.nonce) parts.push(explicit(1, sequence(p.nonce)));
  return tlvOf(0x30, parts);
}

/** Signs a BasicOCSPResponse and wraps it in a successful OCSPResponse. */
export async function signOcspResponse(p: BasicResponseInput): Promise<Buffer> {
  const tbs = encodeResponseData(p);
  const signature = await p.signer.sign(tbs);
  const basicParts = [tbs, algorithmIdentifier(p.signer.algorithm), bitString(signature)];
  if (p.certificates.length) basicParts.push(explicit(0, tlvOf(0x30, p.certificates)));
  return sequence(enumerated(OCSP_RESPONSE_STATUS.successful), explicit(0, sequence(oid(OID_PKIX_OCSP_BASIC), octetString(tlvOf(0x30, basicParts)))));
}

/** The byKey ResponderID value of a responder: SHA-1 of its subjectPublicKey (RFC 6960 §4.2.1 KeyHash). */
export function responderKeyHash(responderSpki: Uint8Array): Buffer {
  return keyIdentifierOf(responderSpki);
}
