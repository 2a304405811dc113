import type { SqlExecutor } from './database.js';

/** The current CRL of one scope of one CA ('full', 'delta', 'arl', 'm:<municipality>' …). */
export interface CrlRecord {
  caId: string;
  scope: string;
  crlNumber: number;
  baseCrlNumber: number | null;
  thisUpdate: number;
  nextUpdate: number;
  entries: number;
  der: Buffer;
}

interface Row {
  ca_id: string;
  scope: string;
  crl_number: number;
  base_crl_number: number | null;
  this_update: number;
  next_update: number;
  entries: number;
  der: Buffer;
  [k: string]: unknown;
}

const fromRow = (r: Row): CrlRecord => ({
  caId: r.ca_id,
  scope: r.scope,
  crlNumber: r.crl_number,
  baseCrlNumber: r.base_crl_number,
  thisUpdate: r.this_update,
  nextUpdate: r.next_update,
  entries: r.entries,
  der: r.der,
});

export class CrlRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Stores a new CRL as the current one of its scope. */
  async put(c: CrlRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO crls (ca_id, scope, crl_number, base_crl_number, this_update, next_update, entries, der)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ca_id, scope) DO UPDATE SET crl_number = excluded.crl_number, base_crl_number = excluded.base_crl_number,
         this_update = excluded.this_update, next_update = excluded.next_update, entries = excluded.entries, der = excluded.der`,
      [c.caId, c.scope, c.crlNumber, c.baseCrlNumber, c.thisUpdate, c.nextUpdate, c.entries, c.der],
    );
  }

  async get(caId: string, scope: string): Promise<CrlRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM crls WHERE ca_id = ? AND scope = ?', [caId, scope]);
    return r && fromRow(r);
  }

  /** Metadata of every current CRL (without the DER). */
  async list(caId?: string): Promise<Omit<CrlRecord, 'der'>[]> {
    const rows = await this.sql.query<Row>(
      `SELECT ca_id, scope, crl_number, base_crl_number, this_update, next_update, entries FROM crls ${caId ? 'WHERE ca_id = ?' : ''} ORDER BY ca_id, scope`,
      caId ? [caId] : [],
    );
    return rows.map((r) => {
      const { der: _der, ...rest } = fromRow({ ...r, der: Buffer.alloc(0) });
      return rest;
    });
  }
}
