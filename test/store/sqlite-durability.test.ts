/**
 * SQLite's FULL durability with the fsync off the main thread (src/store/sqlite.ts, WalSync): a transaction
 * is answered only after an fdatasync of the WAL that began after its COMMIT; commits waiting meanwhile share
 * the next one; a failed fdatasync fails its callers and every later transaction.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { SqliteDatabase, WalSync } from '../../src/store/sqlite.js';

type Done = (e: NodeJS.ErrnoException | null) => void;

/** A stand-in for fdatasync that finishes only when told to. */
function heldSync() {
  const calls: Done[] = [];
  return { calls, sync: (_fd: number, done: Done) => void calls.push(done) };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'jpki-durable-'));
  dirs.push(d);
  return d;
}
const tick = () => new Promise((r) => setTimeout(r, 20));

/** A database whose WalSync waits for the held stand-in, with one table. */
function heldDatabase(schema: string) {
  const path = join(tempDir(), 'db.sqlite');
  const db = new SqliteDatabase(path);
  db.exec(schema);
  const held = heldSync();
  // the database's own WalSync, with the held stand-in
  (db as unknown as { walSync: WalSync }).walSync = new WalSync(`${path}-wal`, held.sync);
  return { db, held, path };
}

describe('WalSync', () => {
  it('resolves a flush only after an fdatasync that began after it, and groups the flushes that wait', async () => {
    const dir = tempDir();
    const db = new SqliteDatabase(join(dir, 'db.sqlite'));
    db.exec('CREATE TABLE t (x INTEGER)'); // the WAL file exists from here on
    const held = heldSync();
    const wal = new WalSync(join(dir, 'db.sqlite-wal'), held.sync);
    const settled: string[] = [];
    const first = wal.flush().then(() => settled.push('first'));
    await tick();
    expect(held.calls).toHaveLength(1);
    // three more while the first runs: they must not ride on it (it may have begun before their writes)
    const later = [wal.flush(), wal.flush(), wal.flush()].map((p, i) => p.then(() => settled.push(`later${i}`)));
    await tick();
    expect(settled).toEqual([]);
    expect(held.calls).toHaveLength(1);
    held.calls[0]!(null);
    await first;
    expect(settled).toEqual(['first']);
    await tick();
    expect(held.calls).toHaveLength(2); // one fdatasync for the three
    held.calls[1]!(null);
    await Promise.all(later);
    expect(settled).toEqual(['first', 'later0', 'later1', 'later2']);
    await wal.close();
    await db.close();
  });

  it('a failed fdatasync fails its callers and every later flush', async () => {
    // fdatasync(2) of /dev/null is EINVAL: a real failure of the real call
    const wal = new WalSync('/dev/null');
    await expect(wal.flush()).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await expect(wal.flush()).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await wal.close();
  });
});

describe('SQLite transactions (FULL, WAL)', () => {
  it('are answered only once the WAL was synced, and are then on disk for the next connection', async () => {
    const { db, held, path } = heldDatabase('CREATE TABLE t (x INTEGER)');
    let answered = false;
    const tx = db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (1)')).then(() => (answered = true));
    for (let i = 0; i < 5 && held.calls.length === 0; i++) await tick();
    expect(held.calls).toHaveLength(1);
    expect(answered).toBe(false);
    held.calls[0]!(null);
    await tx;
    expect(answered).toBe(true);
    await db.close();
    const again = new SqliteDatabase(path);
    expect(await again.query('SELECT x FROM t')).toEqual([{ x: 1 }]);
    await again.close();
  });

  it('commits what queued while an fdatasync ran together once it is done: one commit, one more fdatasync', async () => {
    const { db, held } = heldDatabase('CREATE TABLE t (x INTEGER)');
    const ran: number[] = [];
    const first = db.transaction(async (t) => (ran.push(1), t.execute('INSERT INTO t (x) VALUES (1)')));
    for (let i = 0; i < 5 && held.calls.length === 0; i++) await tick();
    expect(held.calls).toHaveLength(1);
    const later = [2, 3, 4].map((x) => db.transaction(async (t) => (ran.push(x), t.execute('INSERT INTO t (x) VALUES (?)', [x]))));
    await tick();
    expect(ran).toEqual([1]); // not begun while the first commit's fdatasync runs
    held.calls[0]!(null);
    await first;
    for (let i = 0; i < 5 && held.calls.length < 2; i++) await tick();
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(held.calls).toHaveLength(2); // the three committed together, one fdatasync for them
    held.calls[1]!(null);
    await Promise.all(later);
    expect(await db.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 1 }, { x: 2 }, { x: 3 }, { x: 4 }]);
    await db.close();
  });

  it('a failing transaction is rolled back alone: whole when it commits alone, to its savepoint in a group', async () => {
    const { db, held } = heldDatabase('CREATE TABLE t (x INTEGER UNIQUE)');
    const fail = (x: number) =>
      db.transaction(async (t) => {
        await t.execute('INSERT INTO t (x) VALUES (?)', [x]);
        throw new Error(`no ${x}`);
      });
    // alone (no savepoint): nothing of it is kept, and nothing waits for an fdatasync
    await expect(fail(1)).rejects.toThrow('no 1');
    expect(held.calls).toHaveLength(0);
    // a group: held behind an fdatasync, three queue and commit together; the failing one leaves nothing
    const first = db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (2)'));
    for (let i = 0; i < 5 && held.calls.length === 0; i++) await tick();
    const group = [db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (3)')), fail(4), db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (5)'))];
    held.calls[0]!(null);
    await first;
    for (let i = 0; i < 5 && held.calls.length < 2; i++) await tick();
    held.calls[1]!(null);
    const outcomes = await Promise.allSettled(group);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    // and alone again after the group: the database takes the next transaction as before
    const last = db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (6)'));
    for (let i = 0; i < 5 && held.calls.length < 3; i++) await tick();
    held.calls[2]!(null);
    await last;
    expect(await db.query('SELECT x FROM t ORDER BY x')).toEqual([{ x: 2 }, { x: 3 }, { x: 5 }, { x: 6 }]);
    await db.close();
  });

  it('after a failed fdatasync the transaction and every later one fail', async () => {
    const dir = tempDir();
    const path = join(dir, 'db.sqlite');
    const db = new SqliteDatabase(path);
    db.exec('CREATE TABLE t (x INTEGER)');
    const eio = Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' });
    (db as unknown as { walSync: WalSync }).walSync = new WalSync(`${path}-wal`, (_fd, done) => done(eio));
    await expect(db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (1)'))).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await expect(db.transaction((t) => t.execute('INSERT INTO t (x) VALUES (2)'))).rejects.toMatchObject({ code: 'DATABASE_UNAVAILABLE' });
    await db.close();
  });

  it('JPKI_SQLITE_SYNCHRONOUS=NORMAL leaves the fsync out altogether', async () => {
    const dir = tempDir();
    process.env.JPKI_SQLITE_SYNCHRONOUS = 'NORMAL';
    try {
      const db = new SqliteDatabase(join(dir, 'db.sqlite'));
      expect((db as unknown as { walSync?: WalSync }).walSync).toBeUndefined();
      await db.close();
    } finally {
      delete process.env.JPKI_SQLITE_SYNCHRONOUS;
    }
    const db = new SqliteDatabase(join(dir, 'db.sqlite'));
    expect((db as unknown as { walSync?: WalSync }).walSync).toBeInstanceOf(WalSync);
    await db.close();
  });
});
