import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { availableStoreKinds, disposeTestStore, freshStoreUrl, type StoreKind } from '../support/stores.js';
import { openStore, type Store } from '../../src/store/index.js';
import { revokedPageQuery, type RevokedColumns } from '../../src/store/certificates.js';
import { FixedClock } from '../../src/common/clock.js';

const kinds = await availableStoreKinds();

function authority(id: string, prefecture: string | null = null) {
  return {
    id,
    kind: (prefecture ? 'prefectural' : 'jpki-bridge') as 'prefectural' | 'jpki-bridge',
    prefecture,
    name: `CA ${id}`,
    nameEn: `CA ${id}`,
    subject: Buffer.from([0x30, 0x00]),
    keyId: Buffer.from('0102', 'hex'),
    keyUri: `soft:${id}`,
    signatureAlgorithm: 'RSA-SHA256',
    certificate: Buffer.from([0x30, 0x03, 0x02, 0x01, 0x01]),
    notBefore: 0,
    notAfter: 1,
    createdAt: 0,
  };
}

function cert(caId: string, serial: string, extra: Partial<{ crlPartition: string; kind: 'sign' | 'auth' | 'cross'; residentId: string }> = {}) {
  return {
    caId,
    serial,
    kind: extra.kind ?? ('sign' as const),
    subjectCaId: null,
    residentId: extra.residentId ?? null,
    cardId: null,
    crlPartition: extra.crlPartition ?? null,
    notBefore: 1000,
    notAfter: 2000,
    issuedAt: 1000,
    der: Buffer.from(serial, 'hex'),
  };
}

describe.each(kinds)('store on %s', (kind: StoreKind) => {
  let store: Store;
  const clock = new FixedClock('2026-04-01T00:00:00Z');

  beforeEach(async () => {
    store = await openStore(freshStoreUrl(kind), { clock });
    await store.authorities.insert(authority('pref-13', '13'));
    await store.authorities.insert(authority('jpki-bridge'));
  });
  afterEach(async () => {
    await disposeTestStore(store);
  });

  it('keeps authorities and finds a prefecture by JIS code', async () => {
    expect((await store.authorities.list()).map((a) => a.id)).toEqual(['jpki-bridge', 'pref-13']);
    const a = await store.authorities.byPrefecture('13');
    expect(a?.id).toBe('pref-13');
    expect(Buffer.isBuffer(a?.certificate)).toBe(true);
    expect(a?.certificate.toString('hex')).toBe('3003020101');
    expect(await store.authorities.byPrefecture('48')).toBeUndefined();
  });

  it('numbers CRLs per CA, starting at 1 and never repeating', async () => {
    const a = await store.transaction((tx) => tx.authorities.nextCrlNumber('pref-13'));
    const b = await store.transaction((tx) => tx.authorities.nextCrlNumber('pref-13'));
    const c = await store.transaction((tx) => tx.authorities.nextCrlNumber('jpki-bridge'));
    expect([a, b, c]).toEqual([1, 2, 1]);
  });

  it('refuses a second certificate with the same serial under one CA, but not under another', async () => {
    await store.certificates.insert(cert('pref-13', 'aa01'));
    await expect(store.certificates.insert(cert('pref-13', 'aa01'))).rejects.toThrow();
    await store.certificates.insert(cert('jpki-bridge', 'aa01'));
    expect(await store.certificates.serialExists('pref-13', 'aa01')).toBe(true);
    expect(await store.certificates.serialExists('pref-13', 'aa02')).toBe(false);
    expect((await store.certificates.findBySerial('aa01')).map((c) => c.caId).sort()).toEqual(['jpki-bridge', 'pref-13']);
  });

  it('revokes once and reports a second revocation', async () => {
    await store.certificates.insert(cert('pref-13', 'bb01'));
    expect(await store.certificates.revoke('pref-13', 'bb01', 5000, 1)).toBe(true);
    expect(await store.certificates.revoke('pref-13', 'bb01', 6000, 3)).toBe(false);
    const c = await store.certificates.get('pref-13', 'bb01');
    expect(c?.revokedAt).toBe(5000);
    expect(c?.revocationReason).toBe(1);
    expect(await store.certificates.revoke('pref-13', 'ffff', 5000, 1)).toBe(false);
  });

  it('streams revoked entries in batches, filtered by partition, kind and time', async () => {
    for (let i = 0; i < 25; i++) {
      const serial = (0x1000 + i).toString(16);
      await store.certificates.insert(cert('pref-13', serial, { crlPartition: i % 2 ? '13103' : '13101', kind: i % 5 ? 'sign' : 'auth' }));
      if (i % 3 === 0) await store.certificates.revoke('pref-13', serial, 10_000 + i, 3);
    }
    const all = [];
    for await (const e of store.certificates.revoked({ caId: 'pref-13' }, 4)) all.push(e);
    expect(all.map((e) => e.serial)).toEqual([0, 3, 6, 9, 12, 15, 18, 21, 24].map((i) => (0x1000 + i).toString(16)));
    const part = [];
    for await (const e of store.certificates.revoked({ caId: 'pref-13', partition: '13103' }, 2)) part.push(e.serial);
    expect(part).toEqual([3, 9, 15, 21].map((i) => (0x1000 + i).toString(16)));
    const since = [];
    for await (const e of store.certificates.revoked({ caId: 'pref-13', revokedSince: 10_015, kinds: ['sign'] })) since.push(e.serial);
    expect(since).toEqual([18, 21, 24].map((i) => (0x1000 + i).toString(16)));
    expect(await store.certificates.countRevoked('pref-13')).toBe(9);
  });

  /** A page's entries as [serial hex, revoked_at, reason]. */
  function entriesOf(page: RevokedColumns): [string, number, number][] {
    const out: [string, number, number][] = [];
    for (let i = 0, from = 0; i < page.count; from = page.serialEnds[i++]!) out.push([Buffer.from(page.serials.subarray(from, page.serialEnds[i])).toString('hex'), page.revokedAt[i]!, page.reasons[i]!]);
    return out;
  }

  it('pages revoked entries out in columns, in (revoked_at, id) order, ties continued across pages', async () => {
    const serials = ['0a', 'abc', '7f' + 'ee'.repeat(19), '01', '80', 'ff01', 'c0ffee', '1234', 'beef'];
    for (const serial of serials) await store.certificates.insert({ ...cert('pref-13', serial), notAfter: serial === 'beef' ? 1500 : 2000 });
    // three revoked in the same millisecond, listed by id (insertion order); one with no reason recorded
    const at: Record<string, [number, number | null]> = { c0ffee: [900, 1], '0a': [1000, 4], abc: [1000, 3], ['7f' + 'ee'.repeat(19)]: [1000, 0], ff01: [1001, null], '80': [5, 9], beef: [7, 1] };
    for (const [serial, [when, reason]] of Object.entries(at)) await store.sql.execute('UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE ca_id = ? AND serial = ?', [when, reason, 'pref-13', serial]);
    const expected: [string, number, number][] = [['80', 5, 9], ['c0ffee', 900, 1], ['0a', 1000, 4], ['0abc', 1000, 3], ['7f' + 'ee'.repeat(19), 1000, 0], ['ff01', 1001, 0]];
    for (const pageSize of [1, 2, 4, 6, 100]) {
      const pages: [string, number, number][][] = [];
      for await (const page of store.certificates.revokedPages({ caId: 'pref-13', notExpiredAt: 1600 }, pageSize)) pages.push(entriesOf(page));
      expect(pages.flat(), `pages of ${pageSize}`).toEqual(expected);
      expect(pages.map((p) => p.length), `pages of ${pageSize}`).toEqual(expected.map((_, i) => i).filter((i) => i % pageSize === 0).map((i) => Math.min(pageSize, expected.length - i)));
    }
    const all = [];
    for await (const e of store.certificates.revoked({ caId: 'pref-13' }, 3)) all.push(e);
    expect(all.map((e) => [e.serial, e.revokedAt, e.reason])).toEqual([['80', 5, 9], ['beef', 7, 1], ['c0ffee', 900, 1], ['0a', 1000, 4], ['0abc', 1000, 3], ['7f' + 'ee'.repeat(19), 1000, null], ['ff01', 1001, null]]);
  });

  it('ends its read when the caller stops after the first page (the store still closes)', async () => {
    for (let i = 0; i < 7; i++) {
      await store.certificates.insert(cert('pref-13', (0xe000 + i).toString(16)));
      await store.certificates.revoke('pref-13', (0xe000 + i).toString(16), 3000 + i, 1);
    }
    for (let round = 0; round < 12; round++) {
      // more rounds than the PostgreSQL pool has connections: a read left open would take one (or, once it
      // shares its snapshot, three) for good. Stopped after one, two or three pages: before the other
      // connections are taken, while they read ahead, near the end.
      let pages = 0;
      for await (const page of store.certificates.revokedPages({ caId: 'pref-13' }, 2)) {
        expect(page.count).toBe(2);
        if (++pages > round % 3) break;
      }
    }
    expect(await store.certificates.countRevoked('pref-13')).toBe(7);
  });

  it('reads the pages of a CRL from the CRL index, in its order, never by sorting (query plan)', async () => {
    // a full CRL, a partition, a delta, an ARL (the kind is not in the CRL index: the few rows are looked up)
    const filters = [{ caId: 'pref-13', notExpiredAt: 1 }, { caId: 'pref-13', partition: '13103' }, { caId: 'pref-13', revokedSince: 5 }, { caId: 'jpki-bridge', kinds: ['cross' as const] }];
    for (const filter of filters) {
      const { sql, params } = revokedPageQuery(filter);
      const args = [...params, 0, 0, 100];
      if (kind === 'sqlite') {
        const plan = (await store.sql.query<{ detail: string }>(`EXPLAIN QUERY PLAN ${sql}`, args)).map((r) => r.detail).join('; ');
        expect(plan, JSON.stringify(filter)).toMatch(filter.partition ? /INDEX certificates_partition/ : filter.kinds ? /INDEX certificates_crl/ : /COVERING INDEX certificates_crl/);
        expect(plan, JSON.stringify(filter)).not.toMatch(/TEMP B-TREE/);
      } else {
        // a new schema has no statistics: the planner, left to itself, sorted everything after the key
        const session = await store.sql.readSession!({ enable_sort: 'off' });
        try {
          const plan = JSON.stringify(await session.sql.query(`EXPLAIN (FORMAT JSON) ${sql}`, args));
          expect(plan, JSON.stringify(filter)).toMatch(
            filter.partition ? /"Index Name":"certificates_(partition|crl)"/ : filter.kinds ? /"Index Name":"certificates_crl"/ : /"Node Type":"Index Only Scan".*"Index Name":"certificates_crl"/,
          );
          expect(plan, JSON.stringify(filter)).not.toMatch(/"Node Type":"Sort"/);
          // the scout's statement (where the page after next starts): the same index, in its order
          const boundary = JSON.stringify(await session.sql.query(`EXPLAIN (FORMAT JSON) ${revokedPageQuery(filter).boundarySql}`, [...params, 0, 0, 99]));
          expect(boundary, JSON.stringify(filter)).toMatch(filter.partition ? /"Index Name":"certificates_(partition|crl)"/ : /"Index Name":"certificates_crl"/);
          expect(boundary, JSON.stringify(filter)).not.toMatch(/"Node Type":"Sort"/);
          expect((await session.sql.queryOne<{ enable_sort: string }>('SHOW enable_sort'))?.enable_sort).toBe('off');
        } finally {
          await session.end();
        }
        expect((await store.sql.queryOne<{ enable_sort: string }>('SHOW enable_sort'))?.enable_sort).toBe('on');
      }
    }
  });

  if (kind === 'postgres') it('reads a CRL of several pages on three connections sharing one snapshot: the same pages as one reader, in order (PostgreSQL)', async () => {
    // ties of revoked_at across page boundaries, reasons and serial lengths varied
    for (let i = 0; i < 40; i++) {
      const serial = (0xa000 + i * 37).toString(16) + (i % 5 === 0 ? 'ff' : '');
      await store.certificates.insert(cert('pref-13', serial));
      if (i % 8 !== 3) await store.sql.execute('UPDATE certificates SET revoked_at = ?, revocation_reason = ? WHERE ca_id = ? AND serial = ?', [5000 + Math.floor(i / 3), i % 7, 'pref-13', serial]);
    }
    const shared: unknown[] = [];
    const readSession = store.sql.readSession!.bind(store.sql);
    store.sql.readSession = async (planner) => {
      const session = await readSession(planner);
      const share = async () => {
        const other = await session.share();
        shared.push(other);
        return other;
      };
      return { ...session, share };
    };
    for (const [round, pageSize] of [1, 2, 3, 7, 34, 35].entries()) {
      shared.length = 0;
      const pages: [string, number, number][][] = [];
      const stranger = (0xc000 + pageSize).toString(16);
      await store.certificates.insert(cert('pref-13', stranger));
      for await (const page of store.certificates.revokedPages({ caId: 'pref-13' }, pageSize)) {
        pages.push(entriesOf(page));
        // committed while the pages are read, sorting into a later page: not in this read
        if (pages.length === 2) expect(await store.certificates.revoke('pref-13', stranger, 5006, 1)).toBe(true);
      }
      // the same read inside a transaction, where there is one connection to read on
      const alone = await store.transaction(async (tx) => {
        const out: [string, number, number][][] = [];
        for await (const page of tx.certificates.revokedPages({ caId: 'pref-13' }, pageSize)) out.push(entriesOf(page));
        return out;
      });
      const withoutStranger = alone.flat().filter(([serial]) => serial !== stranger);
      expect(pages.flat(), `pages of ${pageSize}`).toEqual(withoutStranger);
      expect(pages.flat(), `pages of ${pageSize}`).toHaveLength(35 + round); // and the strangers of the rounds before
      expect(pages.map((p) => p.length), `pages of ${pageSize}`).toEqual(pages.map((_, i) => Math.min(pageSize, pages.flat().length - i * pageSize)));
      // a read larger than one page took both other connections; one page did not ask
      expect(shared.filter(Boolean), `pages of ${pageSize}`).toHaveLength(pages.flat().length > pageSize ? 2 : 0);
    }
    expect(await store.certificates.countRevoked('pref-13')).toBe(35 + 6);
  });

  if (kind === 'postgres') it('reads every page of one CRL from one snapshot (PostgreSQL)', async () => {
    for (let i = 0; i < 6; i++) {
      await store.certificates.insert(cert('pref-13', (0xf000 + i).toString(16)));
      if (i < 5) await store.certificates.revoke('pref-13', (0xf000 + i).toString(16), 4000 + i, 1);
    }
    const seen: string[] = [];
    for await (const page of store.certificates.revokedPages({ caId: 'pref-13' }, 2)) {
      seen.push(...entriesOf(page).map((e) => e[0]));
      // committed while the CRL is being read, and it would sort last: not in this CRL (the next one has it)
      if (seen.length === 2) expect(await store.certificates.revoke('pref-13', 'f005', 9000, 1)).toBe(true);
    }
    expect(seen).toEqual(['f000', 'f001', 'f002', 'f003', 'f004']);
    expect(await store.certificates.countRevoked('pref-13')).toBe(6);
  });

  it('rolls back everything a failed transaction wrote, audit record included', async () => {
    await expect(
      store.transaction(async (tx) => {
        await tx.certificates.insert(cert('pref-13', 'cc01'));
        await tx.record({ actor: 'test', action: 'certificate.issue', target: 'pref-13/cc01' });
        throw new Error('signing failed');
      }),
    ).rejects.toThrow('signing failed');
    expect(await store.certificates.get('pref-13', 'cc01')).toBeUndefined();
    expect(await store.audit.list()).toEqual([]);
  });

  it('transactions running at the same time commit or fail each on its own', async () => {
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        store.transaction(async (tx) => {
          await tx.certificates.insert(cert('pref-13', (0xd000 + i).toString(16)));
          await tx.record({ actor: 'test', action: 'certificate.issue', target: `d${i}` });
          if (i % 3 === 1) throw new Error(`failure ${i}`);
          return i;
        }),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array.from({ length: 10 }, (_, i) => (i % 3 === 1 ? 'rejected' : 'fulfilled')));
    for (let i = 0; i < 10; i++) expect(await store.certificates.serialExists('pref-13', (0xd000 + i).toString(16))).toBe(i % 3 !== 1);
    const audit = await store.audit.list();
    expect(audit.map((r) => r.target).sort()).toEqual(['d0', 'd2', 'd3', 'd5', 'd6', 'd8', 'd9']);
    expect(await store.audit.verify()).toMatchObject({ ok: true, records: 7 });
  });

  it('keeps the current CRL per scope', async () => {
    await store.crls.put({ caId: 'pref-13', scope: 'full', crlNumber: 1, baseCrlNumber: null, thisUpdate: 1, nextUpdate: 2, entries: 0, der: Buffer.from('3000', 'hex') });
    await store.crls.put({ caId: 'pref-13', scope: 'full', crlNumber: 2, baseCrlNumber: null, thisUpdate: 3, nextUpdate: 4, entries: 5, der: Buffer.from('3001', 'hex') });
    const c = await store.crls.get('pref-13', 'full');
    expect(c?.crlNumber).toBe(2);
    expect(c?.der.toString('hex')).toBe('3001');
    expect(await store.crls.list('pref-13')).toHaveLength(1);
  });

  it('stores a large CRL in parts and reads it back whole; a smaller successor leaves no stale part', async () => {
    const big = Buffer.alloc(2.5 * 2 ** 20 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    await store.transaction((tx) => tx.crls.put({ caId: 'pref-13', scope: 'full', crlNumber: 5, baseCrlNumber: null, thisUpdate: 1, nextUpdate: 2, entries: 9, der: big }));
    expect((await store.crls.get('pref-13', 'full'))!.der.equals(big)).toBe(true);
    expect(await store.crls.describe('pref-13', 'full')).toEqual({ caId: 'pref-13', scope: 'full', crlNumber: 5, baseCrlNumber: null, thisUpdate: 1, nextUpdate: 2, entries: 9 });
    const small = Buffer.from('300a', 'hex');
    await store.transaction((tx) => tx.crls.put({ caId: 'pref-13', scope: 'full', crlNumber: 6, baseCrlNumber: null, thisUpdate: 3, nextUpdate: 4, entries: 0, der: small }));
    expect((await store.crls.get('pref-13', 'full'))!.der.equals(small)).toBe(true);
    expect(await store.crls.describe('pref-13', 'nope')).toBeUndefined();
  });

  it('settings are upserted', async () => {
    await store.settings.set('initialized_at', '1');
    await store.settings.set('initialized_at', '2');
    expect(await store.settings.get('initialized_at')).toBe('2');
    expect(await store.settings.get('nope')).toBeUndefined();
  });

  describe('audit log', () => {
    it('chains records and verifies the chain', async () => {
      for (let i = 0; i < 7; i++)
        await store.transaction((tx) => tx.record({ actor: 'cli', action: 'certificate.issue', target: `pref-13/${i}`, details: { i, b: 'x', a: [1, 2] } }));
      const v = await store.audit.verify(3);
      expect(v).toMatchObject({ ok: true, records: 7 });
      const records = await store.audit.list();
      expect(records[0]!.prevHash).toBe('0'.repeat(64));
      expect(records[1]!.prevHash).toBe(records[0]!.hash);
      expect(records[6]!.details).toEqual({ i: 6, b: 'x', a: [1, 2] });
    });

    it('reports the first altered record', async () => {
      for (let i = 0; i < 5; i++) await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: `t${i}` }));
      await store.audit.settle(); // records reach the chain a moment after their transaction (the audit inbox)
      await store.db.execute(`UPDATE audit_log SET target = 'forged' WHERE seq = 3`);
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: 3 });
    });

    it('reports a removed record', async () => {
      for (let i = 0; i < 5; i++) await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: `t${i}` }));
      await store.audit.settle();
      await store.db.execute('DELETE FROM audit_log WHERE seq = 2');
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: 2 });
    });

    it('reports a record rewritten with a recomputed hash (the next link breaks)', async () => {
      for (let i = 0; i < 4; i++) await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: `t${i}` }));
      const { recordHash } = await import('../../src/store/audit-log.js');
      const r = (await store.audit.list())[1]!;
      const forged = recordHash(r.prevHash, { seq: r.seq, at: r.at, actor: r.actor, action: r.action, target: 'forged', details: '{}' });
      await store.db.execute('UPDATE audit_log SET target = ?, hash = ? WHERE seq = 2', ['forged', forged]);
      expect(await store.audit.verify()).toMatchObject({ ok: false, brokenAt: 3 });
    });

    it('a record reaches the chain only after its transaction committed, in a batch by one writer; a rolled-back change leaves none', async () => {
      await store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: 'kept' }));
      await store
        .transaction(async (tx) => {
          await tx.record({ actor: 'cli', action: 'a', target: 'rolled-back' });
          throw new Error('the change failed');
        })
        .catch(() => undefined);
      const head = await store.audit.head();
      expect(await store.audit.pending()).toBeLessThanOrEqual(1);
      await store.audit.settle();
      expect(await store.audit.pending()).toBe(0);
      const targets = (await store.audit.list()).map((r) => r.target);
      expect(targets).toContain('kept');
      expect(targets).not.toContain('rolled-back');
      expect((await store.audit.head()).seq).toBeGreaterThanOrEqual(head.seq);
    });

    it('keeps one chain under concurrent writers', async () => {
      await Promise.all(
        Array.from({ length: 20 }, (_, i) => store.transaction((tx) => tx.record({ actor: 'cli', action: 'a', target: `c${i}` }))),
      );
      expect(await store.audit.verify()).toMatchObject({ ok: true, records: 20 });
    });
  });

  it('tells listeners about commits', async () => {
    let n = 0;
    const off = store.db.onCommit(() => n++);
    if ('ready' in store.db) await (store.db as { ready(): Promise<void> }).ready();
    await store.transaction((tx) => tx.settings.set('x', '1'));
    await new Promise((r) => setTimeout(r, 300));
    off();
    expect(n).toBeGreaterThan(0);
  });
});

describe('SQLite change feed across connections', () => {
  it('a commit by another connection on the same file is seen within a second', async () => {
    const { mkdtempSync, rmSync } = await import('node:fs');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = mkdtempSync(join(tmpdir(), 'jpki-store-'));
    const a = await openStore(join(dir, 'db.sqlite'));
    const b = await openStore(join(dir, 'db.sqlite'));
    try {
      let seen = 0;
      const off = a.db.onCommit(() => seen++);
      const t0 = Date.now();
      await b.transaction((tx) => tx.settings.set('k', 'v'));
      while (seen === 0 && Date.now() - t0 < 1000) await new Promise((r) => setTimeout(r, 20));
      off();
      expect(seen).toBeGreaterThan(0);
      expect(await a.settings.get('k')).toBe('v');
    } finally {
      await a.close();
      await b.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
