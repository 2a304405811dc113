import type { SqlExecutor } from './database.js';

export type AuthorityKind = 'prefectural' | 'jpki-bridge' | 'gpki-bridge' | 'agency';

/** A certification authority as stored: its self-signed certificate and where its key is. */
export interface AuthorityRecord {
  id: string;
  kind: AuthorityKind;
  prefecture: string | null;
  name: string;
  nameEn: string;
  subject: Buffer;
  keyId: Buffer;
  keyUri: string;
  signatureAlgorithm: string;
  certificate: Buffer;
  notBefore: number;
  notAfter: number;
  crlNumber: number;
  createdAt: number;
}

interface Row {
  id: string;
  kind: AuthorityKind;
  prefecture: string | null;
  name: string;
  name_en: string;
  subject: Buffer;
  key_id: Buffer;
  key_uri: string;
  signature_algorithm: string;
  certificate: Buffer;
  not_before: number;
  not_after: number;
  crl_number: number;
  created_at: number;
  [k: string]: unknown;
}

const fromRow = (r: Row): AuthorityRecord => ({
  id: r.id,
  kind: r.kind,
  prefecture: r.prefecture,
  name: r.name,
  nameEn: r.name_en,
  subject: r.subject,
  keyId: r.key_id,
  keyUri: r.key_uri,
  signatureAlgorithm: r.signature_algorithm,
  certificate: r.certificate,
  notBefore: r.not_before,
  notAfter: r.not_after,
  crlNumber: r.crl_number,
  createdAt: r.created_at,
});

/** Order of `jpki ca list`: bridges and agency first, then prefectures by JIS code. */
const ORDER = `ORDER BY CASE kind WHEN 'jpki-bridge' THEN 0 WHEN 'gpki-bridge' THEN 1 WHEN 'agency' THEN 2 ELSE 3 END, id`;

export class AuthorityRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(a: Omit<AuthorityRecord, 'crlNumber'>): Promise<void> {
    await this.sql.execute(
      `INSERT INTO certificate_authorities (id, kind, prefecture, name, name_en, subject, key_id, key_uri, signature_algorithm,
         certificate, not_before, not_after, crl_number, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?)`,
      [a.id, a.kind, a.prefecture, a.name, a.nameEn, a.subject, a.keyId, a.keyUri, a.signatureAlgorithm, a.certificate, a.notBefore, a.notAfter, a.createdAt],
    );
  }

  async get(id: string): Promise<AuthorityRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM certificate_authorities WHERE id = ?', [id]);
    return r && fromRow(r);
  }

  async list(): Promise<AuthorityRecord[]> {
    return (await this.sql.query<Row>(`SELECT * FROM certificate_authorities ${ORDER}`)).map(fromRow);
  }

  async byPrefecture(prefecture: string): Promise<AuthorityRecord | undefined> {
    const r = await this.sql.queryOne<Row>(`SELECT * FROM certificate_authorities WHERE kind = 'prefectural' AND prefecture = ?`, [prefecture]);
    return r && fromRow(r);
  }

  async count(): Promise<number> {
    const r = await this.sql.queryOne<{ n: number }>('SELECT COUNT(*) AS n FROM certificate_authorities');
    return Number(r?.n ?? 0);
  }

  /** Takes the next cRLNumber of a CA (inside the transaction that stores the CRL). */
  async nextCrlNumber(id: string): Promise<number> {
    await this.sql.execute('UPDATE certificate_authorities SET crl_number = crl_number + 1 WHERE id = ?', [id]);
    const r = await this.sql.queryOne<{ crl_number: number }>('SELECT crl_number FROM certificate_authorities WHERE id = ?', [id]);
    if (!r) throw new Error(`unknown CA ${id}`);
    return r.crl_number;
  }
}
