/**
 * Issue 10, hole 6: the audit chain alone cannot see its tail cut off, nor a record changed with every later
 * hash recomputed. Signed checkpoints of the head (audit key in the key store), the newest one mirrored
 * outside the database, and a cross-check of the certificates against the audit records make both fail.
 */
import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { recordHash, GENESIS_HASH } from '../../src/store/index.js';
import { AUDIT_CHECKPOINT_FILE, AUDIT_KEY_FILE } from '../../src/audit/trail.js';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { jpkiAsync } from '../support/cli.js';

const kinds = await availableStoreKinds();
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });

describe.each(kinds)('audit checkpoints and verification on %s', (storeKind) => {
  let t: TestInstallation;
  const sql = () => t.services.store.db;

  beforeEach(async () => {
    t = await createTestInstallation({ storeKind, prefectures: ['13'] });
    const issued = [];
    for (let i = 0; i < 4; i++) issued.push(await t.services.ca.issue({ prefecture: '13', kind: 'auth', publicKey: { spki: key }, actor: 'test' }));
    await t.services.ca.revoke({ serial: issued[0]!.serial, reason: 'keyCompromise', actor: 'test' });
    expect(await t.services.audit.checkpoint()).toBeDefined();
    // a few more records after the checkpoint (a login, a lookup…): the tail the checkpoint does not cover
    await t.services.store.transaction((tx) => tx.record({ actor: 'test', action: 'counter.login', target: 'operator:x', details: {} }));
    await t.services.store.audit.settle();
  });
  afterEach(async () => t?.cleanup());

  it('an untouched log verifies: chain, checkpoint signature, mirror, certificates against records', async () => {
    const report = await t.services.audit.verify();
    expect(report.problems).toEqual([]);
    // 6 cross-certificates of a one-prefecture hierarchy and the 4 issued here
    expect(report).toMatchObject({ ok: true, checkpoints: { total: 1, verified: 1 }, certificatesChecked: 10 });
    // the key pinned outside the database is the key that signed
    expect(JSON.parse(readFileSync(join(t.dir, AUDIT_KEY_FILE), 'utf8')).publicKey).toContain('BEGIN PUBLIC KEY');
  });

  it('deleting the newest records fails, even with the newest checkpoint deleted too', async () => {
    const head = (await t.services.store.audit.head()).seq;
    const latest = (await t.services.store.audit.latestCheckpoint())!.seq;
    await sql().execute('DELETE FROM audit_log WHERE seq > ?', [latest - 3]);
    const cut = await t.services.audit.verify();
    expect(cut.ok).toBe(false);
    expect(cut.problems.join('\n')).toMatch(new RegExp(`checkpoint ${latest} was signed for a chain of ${latest} records, but the chain ends at ${latest - 3}`));
    // the attacker also removes the checkpoint from the database: the mirrored one (and the records) still tell
    await sql().execute('DELETE FROM audit_checkpoints WHERE seq > ?', [latest - 3]);
    const hidden = await t.services.audit.verify();
    expect(hidden.ok).toBe(false);
    expect(hidden.problems.join('\n')).toContain(`checkpoint ${latest} (kept in ${AUDIT_CHECKPOINT_FILE}) is missing from the database`);
    // … and without the mirror, the certificates whose records went missing give it away
    rmSync(join(t.dir, AUDIT_CHECKPOINT_FILE));
    const bare = await t.services.audit.verify();
    expect(bare.ok).toBe(false);
    expect(bare.problems.join('\n')).toMatch(/is revoked in the store, but no audit record says it was revoked|no audit record says it was issued/);
    expect(head).toBeGreaterThan(latest);
  });

  it('changing a record and re-hashing every later one fails at the checkpoint', async () => {
    const rows = await sql().query<{ seq: number; at: number; actor: string; action: string; target: string; details: string; prev_hash: string; hash: string }>('SELECT * FROM audit_log ORDER BY seq');
    let prev = GENESIS_HASH;
    for (const r of rows) {
      const seq = Number(r.seq);
      const actor = seq === 5 ? 'mallory' : r.actor;
      const hash = recordHash(prev, { seq, at: Number(r.at), actor, action: r.action, target: r.target, details: r.details });
      await sql().execute('UPDATE audit_log SET actor = ?, prev_hash = ?, hash = ? WHERE seq = ?', [actor, prev, hash, seq]);
      prev = hash;
    }
    // the chain itself is consistent again …
    expect((await t.services.store.audit.verify()).ok).toBe(true);
    // … but the signed checkpoints are not
    const report = await t.services.audit.verify();
    expect(report.ok).toBe(false);
    expect(report.problems.join('\n')).toMatch(/no longer has the hash checkpoint \d+ signed: the chain was rewritten/);
  });

  it('a forged checkpoint (signed by another key) and an un-revoked certificate both fail', async () => {
    const c = (await t.services.store.audit.latestCheckpoint())!;
    await sql().execute('UPDATE audit_checkpoints SET signature = ? WHERE seq = ?', [Buffer.alloc(c.signature.length, 1), c.seq]);
    const forged = await t.services.audit.verify();
    expect(forged.problems).toContain(`checkpoint ${c.seq}: the signature does not verify with the audit key`);
    const revoked = (await t.services.store.certificates.list({ kind: 'auth' })).find((x) => x.revokedAt !== null)!;
    await sql().execute('UPDATE certificates SET revoked_at = NULL, revocation_reason = NULL WHERE ca_id = ? AND serial = ?', [revoked.caId, revoked.serial]);
    const hidden = await t.services.audit.verify();
    expect(hidden.problems).toContain(`the audit log says certificate ${revoked.caId}/${revoked.serial} was revoked, but the store shows it as good`);
  });

  it('jpki audit verify fails (non-zero, one line) on a cut tail, and checks against an outside copy of the key', async () => {
    const data = ['--data', t.dir, '--db', t.databaseUrl];
    // not the blocking jpki(): on PostgreSQL this process's chain writer may be in a pass (holding the chain's
    // advisory lock) when a command starts, and the command's own pass waits for that lock — which a blocked
    // event loop would never release (seen once in CI: a 120 s timeout)
    const pem = (await jpkiAsync([...data, 'audit', 'key'])).stdout;
    expect(pem).toContain('BEGIN PUBLIC KEY');
    writeFileSync(join(t.dir, 'audit.pub'), pem);
    const ok = await jpkiAsync([...data, 'audit', 'verify', '--public-key', join(t.dir, 'audit.pub')]);
    expect(ok.stderr).toBe('');
    expect(ok.stdout).toMatch(/checkpoints: 1 \(1 verified with the audit key\)/);
    const latest = (await t.services.store.audit.latestCheckpoint())!.seq;
    await sql().execute('DELETE FROM audit_log WHERE seq > ?', [latest - 1]);
    const cut = await jpkiAsync([...data, 'audit', 'verify']);
    expect(cut.status).toBe(75);
    expect(cut.stderr).toMatch(/^jpki: audit log does not verify: .*\[AUDIT_CHAIN_BROKEN\]\n$/);
  });
});
