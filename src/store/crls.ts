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
  [k: string]: unknown;
}

/** Size of the parts a CRL is stored in (see migration 004). */
const PART_BYTES = 1 << 20;

const fromRow = (r: Row, der: Buffer): CrlRecord => ({
  caId: r.ca_id,
  scope: r.scope,
  crlNumber: r.crl_number,
  baseCrlNumber: r.base_crl_number,
  thisUpdate: r.this_update,
  nextUpdate: r.next_update,
  entries: r.entries,
  der,
});

export class CrlRepository {
  constructor(private readonly sql: SqlExecutor) {}

  /** Stores a new CRL as the current one of its scope (inside the caller's transaction). */
  async put(c: CrlRecord): Promise<void> {
    await this.sql.execute(
      `INSERT INTO crls (ca_id, scope, crl_number, base_crl_number, this_update, next_update, entries)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (ca_id, scope) DO UPDATE SET crl_number = excluded.crl_number, base_crl_number = excluded.base_crl_number,
         this_update = excluded.this_update, next_update = excluded.next_update, entries = excluded.entries`,
      [c.caId, c.scope, c.crlNumber, c.baseCrlNumber, c.thisUpdate, c.nextUpdate, c.entries],
    );
    await this.sql.execute('DELETE FROM crl_parts WHERE ca_id = ? AND scope = ?', [c.caId, c.scope]);
    for (let part = 0, o = 0; o < c.der.length || part === 0; part++, o += PART_BYTES)
      await this.sql.execute('INSERT INTO crl_parts (ca_id, scope, part, bytes) VALUES (?, ?, ?, ?)', [
        c.caId,
        c.scope,
        part,
        c.der.subarray(o, o + PART_BYTES),
      ]);
  }

  async get(caId: string, scope: string): Promise<CrlRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM crls WHERE ca_id = ? AND scope = ?', [caId, scope]);
    if (!r) return undefined;
    const parts = await this.sql.queryArrays('SELECT bytes FROM crl_parts WHERE ca_id = ? AND scope = ? ORDER BY part', [caId, scope]);
    return fromRow(r, parts.length === 1 ? (parts[0]![0] as Buffer) : Buffer.concat(parts.map((p) => p[0] as Buffer)));
  }

  /** The current CRL's number, times and size, without reading its DER (a large CRL is tens of MiB). */
  async describe(caId: string, scope: string): Promise<Omit<CrlRecord, 'der'> | undefined> {
    const r = await this.sql.queryOne<Row>(
      'SELECT ca_id, scope, crl_number, base_crl_number, this_update, next_update, entries FROM crls WHERE ca_id = ? AND scope = ?',
      [caId, scope],
    );
    if (!r) return undefined;
    const { der: _der, ...rest } = fromRow(r, Buffer.alloc(0));
    return rest;
  }

  /** Metadata of every current CRL (without the DER). */
  async list(caId?: string): Promise<Omit<CrlRecord, 'der'>[]> {
    const rows = await this.sql.query<Row>(
      `SELECT ca_id, scope, crl_number, base_crl_number, this_update, next_update, entries FROM crls ${caId ? 'WHERE ca_id = ?' : ''} ORDER BY ca_id, scope`,
      caId ? [caId] : [],
    );
    return rows.map((r) => {
      const { der: _der, ...rest } = fromRow(r, Buffer.alloc(0));
      return rest;
    });
  }
}
