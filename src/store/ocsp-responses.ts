import type { SqlExecutor } from './database.js';

/** A signed OCSP response for one certificate and one CertID hash algorithm, as stored. */
export interface StoredOcspResponse {
  caId: string;
  serial: string;
  /** 'sha1', 'sha256', … — the CertID's hash algorithm. */
  hashAlgorithm: string;
  /** The CertID DER the response answers. */
  certId: Buffer;
  certStatus: 'good' | 'revoked';
  thisUpdate: number;
  nextUpdate: number;
  /** The complete DER OCSPResponse. */
  der: Buffer;
}

/** A stored response together with the certificate's status now (Boulder's "checked" source). */
export interface CheckedOcspResponse extends StoredOcspResponse {
  /** Whether the certificate is revoked now; a stored 'good' for a revoked certificate is stale. */
  revokedNow: boolean;
}

/** A certificate that needs a (fresh) pre-signed response. */
export interface PresignCandidate {
  id: number;
  caId: string;
  serial: string;
  revokedAt: number | null;
  reason: number | null;
}

interface Row {
  ca_id: string;
  serial: string;
  hash_algorithm: string;
  cert_id: Buffer;
  cert_status: 'good' | 'revoked';
  this_update: number;
  next_update: number;
  der: Buffer;
  [k: string]: unknown;
}

const fromRow = (r: Row): StoredOcspResponse => ({
  caId: r.ca_id,
  serial: r.serial,
  hashAlgorithm: r.hash_algorithm,
  certId: r.cert_id,
  certStatus: r.cert_status,
  thisUpdate: Number(r.this_update),
  nextUpdate: Number(r.next_update),
  der: r.der,
});

/**
 * The storage of pre-signed OCSP responses. Responses are never trusted blindly: `getChecked` joins the
 * certificate so the responder can see a 'good' response that a revocation (from any process) made stale.
 */
export class OcspResponseRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Inserts or replaces responses (one statement each; call inside a transaction to batch them). */
  async put(r: StoredOcspResponse): Promise<void> {
    await this.sql.execute(
      `INSERT INTO ocsp_responses (ca_id, serial, hash_algorithm, cert_id, cert_status, this_update, next_update, der)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ca_id, serial, hash_algorithm) DO UPDATE SET cert_id = excluded.cert_id, cert_status = excluded.cert_status,
         this_update = excluded.this_update, next_update = excluded.next_update, der = excluded.der
       WHERE excluded.this_update >= ocsp_responses.this_update`,
      [r.caId, r.serial, r.hashAlgorithm, r.certId, r.certStatus, r.thisUpdate, r.nextUpdate, r.der],
    );
  }

  async get(caId: string, serial: string, hashAlgorithm: string): Promise<StoredOcspResponse | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM ocsp_responses WHERE ca_id = ? AND serial = ? AND hash_algorithm = ?', [caId, serial, hashAlgorithm]);
    return r && fromRow(r);
  }

  /** The stored response with the certificate's current revocation state. */
  async getChecked(caId: string, serial: string, hashAlgorithm: string): Promise<CheckedOcspResponse | undefined> {
    const r = await this.sql.queryOne<Row & { revoked_at: number | null }>(
      `SELECT r.*, c.revoked_at FROM ocsp_responses r JOIN certificates c ON c.ca_id = r.ca_id AND c.serial = r.serial
       WHERE r.ca_id = ? AND r.serial = ? AND r.hash_algorithm = ?`,
      [caId, serial, hashAlgorithm],
    );
    return r && { ...fromRow(r), revokedNow: r.revoked_at !== null };
  }

  /**
   * Certificates of a CA, unexpired at `now`, whose `hashAlgorithm` response is missing, due for refresh
   * (next_update before `refreshBefore`) or stale (stored good, revoked now): the pre-signing job's work
   * list, in id order from `afterId` (keyset pagination).
   */
  async presignCandidates(caId: string, hashAlgorithm: string, now: number, refreshBefore: number, afterId: number, limit: number): Promise<PresignCandidate[]> {
    const rows = await this.sql.query<{ id: number; ca_id: string; serial: string; revoked_at: number | null; revocation_reason: number | null }>(
      `SELECT c.id, c.ca_id, c.serial, c.revoked_at, c.revocation_reason FROM certificates c
       LEFT JOIN ocsp_responses r ON r.ca_id = c.ca_id AND r.serial = c.serial AND r.hash_algorithm = ?
       WHERE c.ca_id = ? AND c.id > ? AND c.not_after >= ? AND c.kind IN ('sign', 'auth', 'cross')
         AND (r.serial IS NULL OR r.next_update < ? OR (r.cert_status = 'good' AND c.revoked_at IS NOT NULL))
       ORDER BY c.id LIMIT ?`,
      [hashAlgorithm, caId, afterId, now, refreshBefore, limit],
    );
    return rows.map((r) => ({ id: Number(r.id), caId: r.ca_id, serial: r.serial, revokedAt: r.revoked_at === null ? null : Number(r.revoked_at), reason: r.revocation_reason }));
  }

  /** Deletes responses that expired before `before` (ms). */
  async pruneExpired(before: number): Promise<number> {
    return this.sql.execute('DELETE FROM ocsp_responses WHERE next_update < ?', [before]);
  }

  async count(caId?: string): Promise<number> {
    const r = await this.sql.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM ocsp_responses ${caId ? 'WHERE ca_id = ?' : ''}`, caId ? [caId] : []);
    return Number(r?.n ?? 0);
  }
}
