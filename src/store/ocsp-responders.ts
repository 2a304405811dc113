import type { SqlExecutor } from './database.js';

/** A CA's delegated OCSP responder: its certificate (kind 'ocsp' in certificates) and where its key is. */
export interface OcspResponderRecord {
  caId: string;
  serial: string;
  keyUri: string;
  notBefore: number;
  notAfter: number;
  createdAt: number;
}

interface Row {
  ca_id: string;
  serial: string;
  key_uri: string;
  not_before: number;
  not_after: number;
  created_at: number;
  [k: string]: unknown;
}

const fromRow = (r: Row): OcspResponderRecord => ({
  caId: r.ca_id,
  serial: r.serial,
  keyUri: r.key_uri,
  notBefore: Number(r.not_before),
  notAfter: Number(r.not_after),
  createdAt: Number(r.created_at),
});

export class OcspResponderRepository {
  constructor(private readonly sql: SqlExecutor) {}

  async insert(r: OcspResponderRecord): Promise<void> {
    await this.sql.execute('INSERT INTO ocsp_responders (ca_id, serial, key_uri, not_before, not_after, created_at) VALUES (?, ?, ?, ?, ?, ?)', [
      r.caId,
      r.serial,
      r.keyUri,
      r.notBefore,
      r.notAfter,
      r.createdAt,
    ]);
  }

  /** The responder of a CA that stays valid longest (the newest one), if any. */
  async latest(caId: string): Promise<OcspResponderRecord | undefined> {
    const r = await this.sql.queryOne<Row>('SELECT * FROM ocsp_responders WHERE ca_id = ? ORDER BY not_after DESC, created_at DESC LIMIT 1', [caId]);
    return r && fromRow(r);
  }

  async list(caId: string): Promise<OcspResponderRecord[]> {
    return (await this.sql.query<Row>('SELECT * FROM ocsp_responders WHERE ca_id = ? ORDER BY not_after', [caId])).map(fromRow);
  }
}
