import type { SqlExecutor } from './database.js';
import { rowsPlaceholders } from './database.js';

export type CertificateKind = 'sign' | 'auth' | 'cross' | 'ocsp';

/** One certificate a CA issued, with its revocation state. */
export interface CertificateRecord {
  id: number;
  caId: string;
  /** Lower-case hex of the positive serial number, no leading zero bytes. */
  serial: string;
  kind: CertificateKind;
  subjectCaId: string | null;
  residentId: string | null;
  cardId: string | null;
  crlPartition: string | null;
  notBefore: number;
  notAfter: number;
  issuedAt: number;
  der: Buffer;
  revokedAt: number | null;
  revocationReason: number | null;
}

export type NewCertificate = Omit<CertificateRecord, 'id' | 'revokedAt' | 'revocationReason'>;

/** A revoked entry as CRLs need it (no DER, so millions can be streamed cheaply). */
export interface RevokedEntry {
  id: number;
  serial: string;
  revokedAt: number;
  reason: number | null;
}

interface Row {
  id: number;
  ca_id: string;
  serial: string;
  kind: CertificateKind;
  subject_ca_id: string | null;
  resident_id: string | null;
  card_id: string | null;
  crl_partition: string | null;
  not_before: number;
  not_after: number;
  issued_at: number;
  der: Buffer;
  revoked_at: number | null;
  revocation_reason: number | null;
  [k: string]: unknown;
}

const fromRow = (r: Row): CertificateRecord => ({
  id: Number(r.id),
  caId: r.ca_id,
  serial: r.serial,
  kind: r.kind,
  subjectCaId: r.subject_ca_id,
  residentId: r.resident_id,
  cardId: r.card_id,
  crlPartition: r.crl_partition,
  notBefore: r.not_before,
  notAfter: r.not_after,
  issuedAt: r.issued_at,
  der: r.der,
  revokedAt: r.revoked_at,
  revocationReason: r.revocation_reason,
});

export interface RevokedFilter {
  caId: string;
  /** Only this CRL partition (municipality). */
  partition?: string;
  /** Only certificates of these kinds (the bridge's ARL: cross). */
  kinds?: CertificateKind[];
  /** Only revocations at or after this time (delta CRLs). */
  revokedSince?: number;
  /** Leave out certificates that expired before this time (RFC 5280 §3.3: expired entries may be removed). */
  notExpiredAt?: number;
}

export class CertificateRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(c: NewCertificate): Promise<number> {
    const params = [
      c.caId,
      c.serial,
      c.kind,
      c.subjectCaId,
      c.residentId,
      c.cardId,
      c.crlPartition,
      c.notBefore,
      c.notAfter,
      c.issuedAt,
      c.der,
    ];
    const sql = `INSERT INTO certificates (ca_id, serial, kind, subject_ca_id, resident_id, card_id, crl_partition, not_before, not_after, issued_at, der)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;
    const r = await this.sql.queryOne<{ id: number }>(sql, params);
    return Number(r!.id);
  }

  /** Inserts several certificates with one statement per 400 (the CA's batched issuance). */
  async insertAll(certs: readonly NewCertificate[]): Promise<void> {
    for (let i = 0; i < certs.length; i += 400) {
      const chunk = certs.slice(i, i + 400);
      await this.sql.execute(
        `INSERT INTO certificates (ca_id, serial, kind, subject_ca_id, resident_id, card_id, crl_partition, not_before, not_after, issued_at, der) VALUES ${rowsPlaceholders(chunk.length, 11)}`,
        chunk.flatMap((c) => [c.caId, c.serial, c.kind, c.subjectCaId, c.residentId, c.cardId, c.crlPartition, c.notBefore, c.notAfter, c.issuedAt, c.der]),
      );
    }
  }

  async serialExists(caId: string, serial: string): Promise<boolean> {
    return !!(await this.sql.queryOne('SELECT 1 AS x FROM certificates WHERE ca_id = ? AND serial = ?', [caId, serial]));
  }

  async get(caId: string, serial: string): Promise<CertificateRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM certificates WHERE ca_id = ? AND serial = ?', [caId, serial]);
    return r && fromRow(r);
  }

  /** Every certificate with this serial, across CAs (a serial is only unique per CA). */
  async findBySerial(serial: string): Promise<CertificateRecord[]> {
    return (await this.sql.query<Row>('SELECT * FROM certificates WHERE serial = ? ORDER BY id', [serial])).map(fromRow);
  }

  async byResident(residentId: string): Promise<CertificateRecord[]> {
    return (await this.sql.query<Row>('SELECT * FROM certificates WHERE resident_id = ? ORDER BY id', [residentId])).map(fromRow);
  }

  async list(filter: { caId?: string; kind?: CertificateKind; subjectCaId?: string; limit?: number } = {}): Promise<CertificateRecord[]> {
    const where: string[] = [];
    const params: (string | number)[] = [];
    if (filter.caId) (where.push('ca_id = ?'), params.push(filter.caId));
    if (filter.kind) (where.push('kind = ?'), params.push(filter.kind));
    if (filter.subjectCaId) (where.push('subject_ca_id = ?'), params.push(filter.subjectCaId));
    const rows = await this.sql.query<Row>(
      `SELECT * FROM certificates ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id LIMIT ?`,
      [...params, filter.limit ?? 1_000_000],
    );
    return rows.map(fromRow);
  }

  /**
   * Marks a certificate revoked. Returns false when it was already revoked (the row is left as it was), so
   * the caller can report "already revoked" without a race between check and update.
   */
  async revoke(caId: string, serial: string, at: number, reason: number): Promise<boolean> {
    const n = await this.sql.execute(
      'UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE ca_id = ? AND serial = ? AND revoked_at IS NULL',
      [at, reason, caId, serial],
    );
    return n === 1;
  }

  /**
   * Revoked entries in revocation order, one batch at a time (keyset pagination on (revoked_at, id), the
   * order of the revoked-at indexes, so each batch is one index range — no sort of everything revoked per
   * batch): a CRL of millions of entries is streamed from the database without ever holding the list.
   */
  async *revokedBatches(filter: RevokedFilter, batchSize = 10_000): AsyncGenerator<RevokedEntry[]> {
    const { where, params } = revokedWhere(filter);
    where.push('(revoked_at, id) > (?, ?)');
    // rows as arrays: the driver's per-row objects cost more than the query at a million rows
    const sql = `SELECT id, serial, revoked_at, revocation_reason FROM certificates WHERE ${where.join(' AND ')} ORDER BY revoked_at, id LIMIT ?`;
    let afterAt = -Number.MAX_SAFE_INTEGER;
    let afterId = 0;
    for (;;) {
      const rows = await this.sql.queryArrays(sql, [...params, afterAt, afterId, batchSize]);
      const batch: RevokedEntry[] = rows.map((r) => ({ id: Number(r[0]), serial: r[1] as string, revokedAt: Number(r[2]), reason: r[3] as number | null }));
      if (batch.length) yield batch;
      if (batch.length < batchSize) return;
      const last = batch[batch.length - 1]!;
      afterAt = last.revokedAt;
      afterId = last.id;
    }
  }

  /** The same entries one by one. */
  async *revoked(filter: RevokedFilter, batchSize = 10_000): AsyncGenerator<RevokedEntry> {
    for await (const batch of this.revokedBatches(filter, batchSize)) yield* batch;
  }

  /** How many revoked entries a filter selects (the size of a CRL before it is made). */
  async countRevoked(filter: RevokedFilter | string): Promise<number> {
    const { where, params } = revokedWhere(typeof filter === 'string' ? { caId: filter } : filter);
    const r = await this.sql.queryOne<{ n: number }>(`SELECT COUNT(*) AS n FROM certificates WHERE ${where.join(' AND ')}`, params);
    return Number(r?.n ?? 0);
  }

  /** Just the revocation state of one certificate (no DER): what an OCSP response says. */
  async status(caId: string, serial: string): Promise<CertificateStatus | undefined> {
    const r = await this.sql.queryOne<{ revoked_at: number | null; revocation_reason: number | null; not_after: number }>(
      'SELECT revoked_at, revocation_reason, not_after FROM certificates WHERE ca_id = ? AND serial = ?',
      [caId, serial],
    );
    return r && { revokedAt: r.revoked_at === null ? null : Number(r.revoked_at), reason: r.revocation_reason, notAfter: Number(r.not_after) };
  }

  /** Live (unrevoked, unexpired) resident certificates held by a card: who the card belongs to. */
  async liveOnCard(cardId: string, now: number): Promise<CertificateRecord[]> {
    const rows = await this.sql.query<Row>(
      `SELECT * FROM certificates WHERE card_id = ? AND revoked_at IS NULL AND not_after > ? AND kind IN ('sign', 'auth') ORDER BY id`,
      [cardId, now],
    );
    return rows.map(fromRow);
  }

  /** Every certificate's identity and state, in id order, a batch at a time (no DER): the audit cross-check. */
  async *census(batchSize = 10_000): AsyncGenerator<{ caId: string; serial: string; kind: CertificateKind; revokedAt: number | null }[]> {
    let afterId = 0;
    for (;;) {
      const rows = await this.sql.queryArrays('SELECT id, ca_id, serial, kind, revoked_at FROM certificates WHERE id > ? ORDER BY id LIMIT ?', [afterId, batchSize]);
      if (rows.length === 0) return;
      yield rows.map((r) => ({ caId: r[1] as string, serial: r[2] as string, kind: r[3] as CertificateKind, revokedAt: r[4] === null ? null : Number(r[4]) }));
      afterId = Number(rows[rows.length - 1]![0]);
    }
  }

  /** The CRL partitions (municipality codes) a CA has issued certificates in. */
  async partitions(caId: string): Promise<string[]> {
    const rows = await this.sql.query<{ crl_partition: string }>(
      'SELECT DISTINCT crl_partition FROM certificates WHERE ca_id = ? AND crl_partition IS NOT NULL ORDER BY crl_partition',
      [caId],
    );
    return rows.map((r) => r.crl_partition);
  }
}

/** The WHERE clause (and its parameters) selecting the revoked entries of a filter. */
function revokedWhere(filter: RevokedFilter): { where: string[]; params: (string | number)[] } {
  const where = ['ca_id = ?', 'revoked_at IS NOT NULL'];
  const params: (string | number)[] = [filter.caId];
  if (filter.partition !== undefined) (where.push('crl_partition = ?'), params.push(filter.partition));
  if (filter.kinds?.length) (where.push(`kind IN (${filter.kinds.map(() => '?').join(', ')})`), params.push(...filter.kinds));
  if (filter.revokedSince !== undefined) (where.push('revoked_at >= ?'), params.push(filter.revokedSince));
  if (filter.notExpiredAt !== undefined) (where.push('not_after >= ?'), params.push(filter.notExpiredAt));
  return { where, params };
}

/** The revocation state of a certificate. */
export interface CertificateStatus {
  revokedAt: number | null;
  reason: number | null;
  notAfter: number;
}
