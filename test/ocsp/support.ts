/**
 * Helpers for the OCSP tests: issuing leaves, building requests, and reading responses with
 * @peculiar/asn1-ocsp (an independent decoder: the responder's own encoder is not used to check itself).
 */
import { generateKeyPairSync } from 'node:crypto';
import { join } from 'node:path';
import { AsnConvert } from '@peculiar/asn1-schema';
import { BasicOCSPResponse, OCSPResponse, id_pkix_ocsp_nonce } from '@peculiar/asn1-ocsp';
import { readCertificate } from '../../src/pki/certificate-reader.js';
import { encodeCertId, encodeOcspRequest, type CertIdHash } from '../../src/ocsp/index.js';
import { openServices, type Services } from '../../src/compose/services.js';
import type { SignedCertificate } from '../../src/ca/certification-authorities.js';
import type { Clock } from '../../src/common/clock.js';
import { PostgresDatabase } from '../../src/store/postgres.js';
import { POSTGRES_URL } from '../support/system.js';
import type { TestInstallation } from '../support/installation.js';

export interface IssuerKeys {
  subject: Buffer;
  spki: Buffer;
}

export async function issuerOf(services: Services, caId: string): Promise<IssuerKeys> {
  const a = await services.ca.get(caId);
  return { subject: a.subject, spki: Buffer.from(readCertificate(a.certificate).subjectPublicKeyInfo) };
}

const leafKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });

/** A user-authentication certificate (no facts needed) under a prefecture's CA. */
export function issueLeaf(services: Services, prefecture = '13', municipality?: string): Promise<SignedCertificate> {
  return services.ca.issue({ prefecture, kind: 'auth', publicKey: { spki: leafKey }, ...(municipality ? { municipality } : {}), actor: 'test' });
}

/** A DER request for the serials (all of one issuer), SHA-1 CertIDs by default. */
export function requestFor(issuer: IssuerKeys, serials: string[], options: { hash?: CertIdHash; nonce?: Buffer } = {}): Buffer {
  return encodeOcspRequest(
    serials.map((s) => encodeCertId(options.hash ?? 'sha1', issuer, s)),
    options.nonce,
  );
}

export interface ReadSingle {
  serial: string;
  status: 'good' | 'revoked' | 'unknown';
  revokedAt?: Date;
  reason?: number;
  thisUpdate: Date;
  nextUpdate?: Date;
  hashOid: string;
}

export interface ReadResponse {
  /** OCSPResponseStatus: 0 successful, 1 malformedRequest, 2 internalError, 3 tryLater, 6 unauthorized. */
  status: number;
  responses: ReadSingle[];
  /** The echoed nonce extension's value, if any. */
  nonce?: Buffer;
  certificates: Buffer[];
  producedAt?: Date;
  responderKeyHash?: Buffer;
}

export function readOcspResponse(der: Uint8Array): ReadResponse {
  const outer = AsnConvert.parse(der, OCSPResponse);
  if (!outer.responseBytes) return { status: outer.responseStatus, responses: [], certificates: [] };
  const basic = AsnConvert.parse(outer.responseBytes.response.buffer, BasicOCSPResponse);
  const t = basic.tbsResponseData;
  const nonce = t.responseExtensions?.find((e) => e.extnID === id_pkix_ocsp_nonce);
  return {
    status: outer.responseStatus,
    producedAt: t.producedAt,
    ...(t.responderID.byKey ? { responderKeyHash: Buffer.from(t.responderID.byKey.buffer) } : {}),
    ...(nonce ? { nonce: Buffer.from(nonce.extnValue.buffer) } : {}),
    certificates: (basic.certs ?? []).map((c) => Buffer.from(AsnConvert.serialize(c))),
    responses: t.responses.map((r) => ({
      serial: Buffer.from(r.certID.serialNumber).toString('hex').replace(/^(00)+(?=.)/, ''),
      status: r.certStatus.revoked ? 'revoked' : r.certStatus.unknown !== undefined ? 'unknown' : 'good',
      ...(r.certStatus.revoked ? { revokedAt: r.certStatus.revoked.revocationTime } : {}),
      ...(r.certStatus.revoked?.revocationReason ? { reason: r.certStatus.revoked.revocationReason.reason } : {}),
      thisUpdate: r.thisUpdate,
      ...(r.nextUpdate ? { nextUpdate: r.nextUpdate } : {}),
      hashOid: r.certID.hashAlgorithm.algorithm,
    })),
  };
}

/** The database URL of a test installation (another "process" can open the same store). */
export function storeUrlOf(t: TestInstallation): string {
  const db = t.services.store.db;
  if (db instanceof PostgresDatabase) {
    const u = new URL(POSTGRES_URL);
    u.searchParams.set('schema', db.schema!);
    return u.toString();
  }
  return join(t.dir, 'jpki.sqlite');
}

/** A second, independent set of services on the same installation: what another process or node sees. */
export function openSecondServices(t: TestInstallation, clock?: Clock): Promise<Services> {
  return openServices({ dataDir: t.dir, databaseUrl: storeUrlOf(t), databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } }, clock: clock ?? t.clock });
}
