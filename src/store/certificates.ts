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

/** A revoked entry as CRLs need it (no DER). */
export interface RevokedEntry {
  serial: string;
  revokedAt: number;
  reason: number | null;
}

/**
 * A page of revoked entries in columns, with no object per entry: how a CRL of millions is read
 * (pki/crl-encoder.ts takes it as it is, as `CrlEntryColumns`). Entry i has the serial bytes
 * `serials[serialEnds[i − 1] (0 for the first) … serialEnds[i]]`, was revoked at `revokedAt[i]` (ms) for the
 * reason `reasons[i]` (0 when none was given). The arrays are refilled for the next page: use a page before
 * asking for the next one. Only the first `count` entries are the page's.
 */
export interface RevokedColumns {
  count: number;
  serials: Uint8Array;
  serialEnds: Uint32Array;
  revokedAt: Float64Array;
  reasons: Uint8Array;
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
   * Revoked entries in revocation order, a page at a time in columns (RevokedColumns): a CRL of millions of
   * entries is streamed from the database without an object, or even a driver row, per entry.
   *
   * - Keyset pagination on (revoked_at, id), the order of the CRL index (migration 070: the revoked rows only,
   *   with every column a CRL needs), so a page is one range of that index, read without the table.
   * - The database joins a page into one text (`revokedPageQuery`): one value for the driver per page instead
   *   of a row object and four values per entry, which cost more than the query. One pass over its characters
   *   fills the columns, the hex serials becoming bytes on the way, and checks the order, so a page out of
   *   order fails loudly instead of skipping or repeating entries.
   * - On PostgreSQL the pages are read in one snapshot (`readSession`), with sorting switched off: whatever
   *   the statistics say (a table just loaded has none), a page is read in index order and never by sorting
   *   every revoked entry after the key — which made each page cost as much as the whole CRL.
   * - The next page is asked for before this one is parsed and handed on: on PostgreSQL the server reads it
   *   while the caller encodes this one.
   * - On PostgreSQL, once a CRL proves larger than one page, the read takes two more connections in its
   *   snapshot (`ReadSession.share`), when the pool can spare them: a scout that finds where each next page
   *   starts (the key a page's length on, from the index alone: a few ms a page), and a second reader, so
   *   that the server builds two page texts at once, on the other core, while this one is parsed and
   *   encoded. Pages are still handed on strictly in order, each checked to start where the one before ends.
   */
  async *revokedPages(filter: RevokedFilter, pageSize = 20_000): AsyncGenerator<RevokedColumns> {
    const { sql, boundarySql, params } = revokedPageQuery(filter);
    const session = await this.sql.readSession?.({ enable_sort: 'off' });
    const readers = [session?.sql ?? this.sql];
    let scout: SqlExecutor | undefined;
    let sharing: Promise<(SqlExecutor | undefined)[]> | undefined;
    // page i starts after starts[i] (undefined: there is no page i) and is asked for once; pages are
    // forgotten once read, their texts being large
    const starts: Promise<PageKey | undefined>[] = [Promise.resolve({ revokedAt: -Number.MAX_SAFE_INTEGER, id: 0 })];
    const pages = new Map<number, Promise<[number, string]>>();
    const ask = (i: number) => {
      if (pages.has(i)) return;
      const page = starts[i]!.then(async (after): Promise<[number, string]> => {
        if (!after) return [0, ''];
        const [row] = await readers[(i + 1) % readers.length]!.queryArrays(sql, [...params, after.revokedAt, after.id, pageSize]);
        return [Number(row?.[0] ?? 0), (row?.[1] as string | null) ?? ''];
      });
      page.catch(() => undefined); // awaited in turn, or in `finally` when the caller stops first
      pages.set(i, page);
    };
    // the scout's way to the start of page i: from page i - 1's start, the key a page's length on
    const start = (i: number): Promise<PageKey | undefined> =>
      (starts[i] ??= start(i - 1).then(async (after) => {
        if (!after) return undefined;
        const [row] = await scout!.queryArrays(boundarySql, [...params, after.revokedAt, after.id, pageSize - 1]);
        return row && { revokedAt: Number(row[0]), id: Number(row[1]) };
      }));
    // sized by the first page: an empty CRL (most at first start: 150 of them) allocates nothing
    let columns: ColumnsReader | undefined;
    let key = (await starts[0])!;
    ask(0);
    try {
      for (let i = 0; ; i++) {
        const [count, text] = await pages.get(i)!;
        pages.delete(i);
        if (count === 0) return;
        const last = lastKey(text);
        if (count === pageSize) {
          if (i === 0 && session) {
            // asked for before the next page, so that the snapshot is exported ahead of it on this connection
            sharing = Promise.all([session.share(), session.share()]);
            sharing.catch(() => undefined); // awaited with the next page, or in `finally`
          } else if (sharing) {
            const [s, r] = await sharing;
            sharing = undefined;
            if (s && r) (scout = s), readers.push(r);
          }
          starts[i + 1] ??= Promise.resolve(last);
          ask(i + 1);
          if (scout) {
            // the scout's keys cost little: it runs a few pages ahead, so that no page waits for its start
            for (let j = i + 2; j <= i + 6; j++) void start(j).catch(() => undefined);
            ask(i + 2);
          }
          // the scout found where the next page starts on its own: it must be where this one ends
          const next = await starts[i + 1]!;
          if (next?.revokedAt !== last.revokedAt || next.id !== last.id) throw new Error(`page ${i + 1} of the revoked entries was to start after ${JSON.stringify(next)}, not ${JSON.stringify(last)}`);
        }
        columns ??= new ColumnsReader(count);
        columns.read(text, key);
        if (columns.count !== count) throw new Error(`a page of ${count} revoked entries was read as ${columns.count}`);
        key = last;
        yield columns;
        if (count < pageSize) return;
      }
    } finally {
      // when the caller stopped early, the pages and keys asked for ahead are not wanted, nor their failures
      await Promise.allSettled([...pages.values(), ...starts, sharing]);
      await session?.end();
    }
  }

  /** The same entries one by one (tests, small lists). */
  async *revoked(filter: RevokedFilter, pageSize = 10_000): AsyncGenerator<RevokedEntry> {
    for await (const page of this.revokedPages(filter, pageSize)) {
      let from = 0;
      for (let i = 0; i < page.count; i++) {
        const to = page.serialEnds[i]!;
        yield { serial: Buffer.from(page.serials.subarray(from, to)).toString('hex'), revokedAt: page.revokedAt[i]!, reason: page.reasons[i] || null };
        from = to;
      }
    }
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

/**
 * The statement that reads one page of `revokedPages` (exported for the query-plan tests): its parameters are
 * `params`, then the key the page starts after (revoked_at, id) and the page size. One row: the page's count
 * and its entries as `serial revoked_at reason id` texts joined by commas. `boundarySql`, the scout's (same
 * parameters, the page size less one last): where the page after that one starts.
 */
export function revokedPageQuery(filter: RevokedFilter): { sql: string; boundarySql: string; params: (string | number)[] } {
  const { where, params } = revokedWhere(filter);
  where.push('(revoked_at, id) > (?, ?)');
  const entry = `serial || ' ' || revoked_at || ' ' || COALESCE(revocation_reason, 0) || ' ' || id`;
  return {
    sql: `SELECT count(*), string_agg(e, ',') FROM (SELECT ${entry} AS e FROM certificates WHERE ${where.join(' AND ')} ORDER BY revoked_at, id LIMIT ?) page`,
    // the (revoked_at, id) of the entry `?` on from the key (the last of a page of `?` + 1), or no row
    boundarySql: `SELECT revoked_at, id FROM certificates WHERE ${where.join(' AND ')} ORDER BY revoked_at, id LIMIT 1 OFFSET ?`,
    params,
  };
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

interface PageKey {
  revokedAt: number;
  id: number;
}

const HEX = new Int8Array(128).fill(-1);
for (let i = 0; i < 10; i++) HEX[48 + i] = i;
for (let i = 0; i < 6; i++) HEX[97 + i] = HEX[65 + i] = 10 + i;

const SPACE = 0x20;
const COMMA = 0x2c;
const MINUS = 0x2d;

/** The (revoked_at, id) of the last entry of a page text. */
function lastKey(text: string): PageKey {
  const fields = text.slice(text.lastIndexOf(',') + 1).split(' ');
  const revokedAt = Number(fields[1]);
  const id = Number(fields[3]);
  if (fields.length !== 4 || !Number.isSafeInteger(revokedAt) || !Number.isSafeInteger(id)) throw new Error(`a revoked entry read as ${JSON.stringify(fields.join(' '))}`);
  return { revokedAt, id };
}

/** Fills RevokedColumns from a page text (`serial revoked_at reason id`, entries joined by commas), reusing its arrays. */
class ColumnsReader implements RevokedColumns {
  count = 0;
  serials: Uint8Array;
  serialEnds: Uint32Array;
  revokedAt: Float64Array;
  reasons: Uint8Array;

  constructor(pageSize: number) {
    this.serials = new Uint8Array(pageSize * 16);
    this.serialEnds = new Uint32Array(pageSize);
    this.revokedAt = new Float64Array(pageSize);
    this.reasons = new Uint8Array(pageSize);
  }

  /** Reads the entries of a page text, which must follow `after` in (revoked_at, id) order. */
  read(text: string, after: PageKey): void {
    let n = 0;
    let out = 0;
    let prevAt = after.revokedAt;
    let prevId = after.id;
    const len = text.length;
    let i = 0;
    while (i < len) {
      if (n === this.serialEnds.length) this.grow(n * 2, out);
      // serial: hex digits, an even number of them or one more (then a leading zero is implied)
      const end = text.indexOf(' ', i);
      if (end < 0) break;
      const digits = end - i;
      if (digits === 0 || digits > 128) break;
      if (out + 64 > this.serials.length) this.grow(this.serialEnds.length, out, this.serials.length * 2);
      const serials = this.serials;
      if (digits & 1) {
        const v = HEX[text.charCodeAt(i)] ?? -1;
        if (v < 0) break;
        serials[out++] = v;
        i++;
      }
      let bad = false;
      for (; i < end; i += 2) {
        const hi = HEX[text.charCodeAt(i)] ?? -1;
        const lo = HEX[text.charCodeAt(i + 1)] ?? -1;
        if (hi < 0 || lo < 0) bad = true;
        serials[out++] = (hi << 4) | lo;
      }
      if (bad) break;
      this.serialEnds[n] = out;
      // revoked_at, reason, id: decimal integers
      i = end + 1;
      let negative = false;
      if (text.charCodeAt(i) === MINUS) (negative = true), i++;
      let at = 0;
      let c = text.charCodeAt(i);
      const atStart = i;
      while (c >= 48 && c <= 57) (at = at * 10 + c - 48), (c = text.charCodeAt(++i));
      if (c !== SPACE || i === atStart) break;
      if (negative) at = -at;
      let reason = 0;
      c = text.charCodeAt(++i);
      const reasonStart = i;
      while (c >= 48 && c <= 57) (reason = reason * 10 + c - 48), (c = text.charCodeAt(++i));
      if (c !== SPACE || i === reasonStart || reason > 255) break;
      let id = 0;
      c = text.charCodeAt(++i);
      const idStart = i;
      while (c >= 48 && c <= 57) (id = id * 10 + c - 48), (c = text.charCodeAt(++i));
      if (i === idStart || (i < len && c !== COMMA)) break;
      if (at < prevAt || (at === prevAt && id <= prevId)) throw new Error(`revoked entries came out of (revoked_at, id) order: (${at}, ${id}) after (${prevAt}, ${prevId})`);
      prevAt = at;
      prevId = id;
      this.revokedAt[n] = at;
      this.reasons[n] = reason;
      n++;
      i++;
    }
    if (i < len) throw new Error(`a revoked entry could not be read at character ${i} of ${JSON.stringify(text.slice(Math.max(0, i - 40), i + 40))}`);
    this.count = n;
  }

  private grow(entries: number, serialBytes: number, serialCapacity = this.serials.length): void {
    const serials = new Uint8Array(serialCapacity);
    serials.set(this.serials.subarray(0, serialBytes));
    this.serials = serials;
    if (entries > this.serialEnds.length) {
      const ends = new Uint32Array(entries);
      ends.set(this.serialEnds);
      this.serialEnds = ends;
      const at = new Float64Array(entries);
      at.set(this.revokedAt);
      this.revokedAt = at;
      const reasons = new Uint8Array(entries);
      reasons.set(this.reasons);
      this.reasons = reasons;
    }
  }
}

/** The revocation state of a certificate. */
export interface CertificateStatus {
  revokedAt: number | null;
  reason: number | null;
  notAfter: number;
}
