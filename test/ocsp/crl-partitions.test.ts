/**
 * Partitioned and delta CRLs end to end: a partition CRL plus its delta through `openssl verify
 * -crl_check -extended_crl -use_deltas`, the CRL updater's schedule and its debounced reaction to
 * revocations, serving with caching headers, and a CRL larger than one store page read back with the
 * streaming scanner — on SQLite and PostgreSQL.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/server/app.js';
import { FixedClock } from '../../src/common/clock.js';
import { CrlUpdater } from '../../src/ca/crl-updater.js';
import { scanCrl, findRevoked } from '../../src/pki/crl-scanner.js';
import { toPem } from '../../src/pki/pem.js';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, openssl, type TestInstallation } from '../support/installation.js';
import { issueLeaf } from './support.js';

const kinds = await availableStoreKinds();

describe.each(kinds)('partition and delta CRLs on %s', (storeKind) => {
  let t: TestInstallation;
  let app: FastifyInstance;
  let caPem: string;
  const clock = new FixedClock(Math.floor(Date.now() / 1000) * 1000);
  const base = clock.now().getTime();
  /** openssl -attime: the installation's clock, as OpenSSL wants it. */
  const at = () => String(Math.floor(clock.now().getTime() / 1000));

  beforeAll(async () => {
    t = await createTestInstallation({ storeKind, prefectures: ['13'], clock });
    app = await buildApp(t.services);
    caPem = t.pem('pref-13.pem', (await t.services.ca.get('pref-13')).certificate);
  });
  afterAll(async () => {
    await app?.close();
    await t?.cleanup();
  });

  const verify = (leafPem: string, crlFile: string, ...extra: string[]) =>
    openssl(['verify', '-attime', at(), '-crl_check', '-extended_crl', ...extra, '-CAfile', caPem, '-CRLfile', crlFile, leafPem]);

  it('a revocation after the partition CRL was made is found only through the partition delta (`openssl verify -use_deltas`)', async () => {
    clock.set(base);
    const before = await issueLeaf(t.services, '13', '13101');
    const after = await issueLeaf(t.services, '13', '13101');
    const good = await issueLeaf(t.services, '13', '13101');
    await t.services.ca.revoke({ serial: before.serial, reason: 'keyCompromise', actor: 'test' });
    clock.advance(60_000);
    const partition = await t.services.crls.generate('pref-13', { type: 'partition', municipality: '13101' }, 'test');
    clock.advance(10 * 60_000);
    await t.services.ca.revoke({ serial: after.serial, reason: 'affiliationChanged', actor: 'test' });
    clock.advance(60_000);
    const delta = await t.services.crls.generate('pref-13', { type: 'partition-delta', municipality: '13101' }, 'test');

    // the pair as RFC 5280 §5.2.4 wants it: same scope (byte-identical IDP), the delta names its base
    const p = scanCrl(partition.der);
    const d = scanCrl(delta.der);
    expect(d.deltaCrlIndicator).toBe(BigInt(partition.crlNumber));
    expect(d.crlNumber! > p.crlNumber!).toBe(true);
    expect(Buffer.from(d.issuingDistributionPoint!.der).equals(Buffer.from(p.issuingDistributionPoint!.der))).toBe(true);
    expect(p.issuingDistributionPoint!.onlyContainsUserCerts).toBe(true);
    expect(findRevoked(p, after.serial)).toBeUndefined();
    expect(findRevoked(d, after.serial)?.reason).toBe(3);
    const text = openssl(['crl', '-inform', 'DER', '-noout', '-text'], delta.der).out;
    expect(text).toMatch(/X509v3 Delta CRL Indicator: critical\s+\d+/);
    expect(text).toContain('http://127.0.0.1:8080/crl/pref-13/13101.crl');
    const partitionText = openssl(['crl', '-inform', 'DER', '-noout', '-text'], partition.der).out;
    expect(partitionText).toMatch(/Issuing Distribution Point: critical\s+Full Name:\s+URI:http:\/\/127\.0\.0\.1:8080\/crl\/pref-13\/13101\.crl\s+Only User Certificates/);
    expect(partitionText).toContain('http://127.0.0.1:8080/crl/pref-13/13101/delta.crl'); // freshestCRL
    // the certificates point at the partition and its delta
    const leafText = openssl(['x509', '-inform', 'DER', '-noout', '-text'], after.der).out;
    expect(leafText).toMatch(/CRL Distribution Points:\s+Full Name:\s+URI:http:\/\/127\.0\.0\.1:8080\/crl\/pref-13\/13101\.crl/);
    expect(leafText).toMatch(/Freshest CRL:\s+Full Name:\s+URI:http:\/\/127\.0\.0\.1:8080\/crl\/pref-13\/13101\/delta\.crl/);

    const both = join(t.dir, 'partition+delta.pem');
    writeFileSync(both, toPem(partition.der, 'X509 CRL') + toPem(delta.der, 'X509 CRL'));
    const onlyBase = join(t.dir, 'partition.pem');
    writeFileSync(onlyBase, toPem(partition.der, 'X509 CRL'));
    const afterPem = t.pem('after.pem', after.der);
    // the base alone does not know of the later revocation …
    expect(verify(afterPem, onlyBase).out).toMatch(/: OK/);
    expect(verify(afterPem, both).out).toMatch(/: OK/);
    // … the delta on top of it does
    const r = verify(afterPem, both, '-use_deltas');
    expect(r.out).toMatch(/certificate revoked/);
    expect(r.status).not.toBe(0);
    expect(verify(t.pem('before.pem', before.der), both, '-use_deltas').out).toMatch(/certificate revoked/);
    expect(verify(t.pem('good.pem', good.der), both, '-use_deltas').out).toMatch(/: OK/);
  });

  it('the CA-wide delta goes with the full CRL for certificates outside any partition', async () => {
    const leaf = await issueLeaf(t.services, '13');
    const full = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    clock.advance(60_000);
    await t.services.ca.revoke({ serial: leaf.serial, reason: 'superseded', actor: 'test' });
    const delta = await t.services.crls.generate('pref-13', { type: 'delta' }, 'test');
    const both = join(t.dir, 'full+delta.pem');
    writeFileSync(both, toPem(full.der, 'X509 CRL') + toPem(delta.der, 'X509 CRL'));
    const leafPem = t.pem('outside.pem', leaf.der);
    expect(verify(leafPem, both).out).toMatch(/: OK/);
    expect(verify(leafPem, both, '-use_deltas').out).toMatch(/certificate revoked/);
  });

  it('the updater regenerates what is missing or due, deltas after their bases, and nothing else', async () => {
    clock.set(base + 3600_000);
    const updater = new CrlUpdater({ store: t.services.store, clock, publisher: t.services.crls, feed: t.services.statusFeed });
    const first = await updater.runOnce();
    const scopes = (caId: string, r: typeof first) => r.generated.filter((g) => g.caId === caId).map((g) => g.scope);
    // pref-13's full and partition CRLs from the tests above are still current (24 h); its ARL was
    // missing and its deltas (valid one hour) expired. The bridge had nothing: bases before deltas.
    expect(new Set(scopes('pref-13', first))).toEqual(new Set(['arl', 'delta', 'd:13101']));
    expect(scopes('jpki-bridge', first)).toEqual(['full', 'arl', 'delta']);
    expect((await updater.runOnce()).generated).toEqual([]);
    // 50 minutes on, the deltas (valid one hour) are due; the complete CRLs are not
    clock.advance(50 * 60_000);
    expect(new Set((await updater.runOnce()).generated.map((g) => g.scope))).toEqual(new Set(['delta', 'd:13101']));
    // 19 hours on, everything is due; each delta is made after its new base
    clock.advance(19 * 3600_000);
    const later = scopes('pref-13', await updater.runOnce());
    expect(later.indexOf('delta')).toBeGreaterThan(later.indexOf('full'));
    expect(later.indexOf('d:13101')).toBeGreaterThan(later.indexOf('m:13101'));
    await updater.stop();
  });

  it('regenerates the affected deltas shortly after revocations (debounced), and serves them with caching headers', async () => {
    const updater = new CrlUpdater({ store: t.services.store, clock, publisher: t.services.crls, feed: t.services.statusFeed }, { debounceMs: 100, intervalMs: 3600_000 });
    await updater.start();
    await updater.runOnce();
    const leaf = await issueLeaf(t.services, '13', '13101');
    const numberBefore = (await t.services.store.crls.get('pref-13', 'd:13101'))!.crlNumber;
    await t.services.ca.revoke({ serial: leaf.serial, reason: 'cessationOfOperation', actor: 'test' });
    let delta = await t.services.store.crls.get('pref-13', 'd:13101');
    for (let i = 0; i < 100 && delta!.crlNumber === numberBefore; i++) {
      await new Promise((r) => setTimeout(r, 50));
      delta = await t.services.store.crls.get('pref-13', 'd:13101');
    }
    expect(findRevoked(delta!.der, leaf.serial)?.reason).toBe(5);
    expect(findRevoked((await t.services.store.crls.get('pref-13', 'delta'))!.der, leaf.serial)).toBeDefined();
    await updater.stop();

    const r = await app.inject({ method: 'GET', url: '/crl/pref-13/13101/delta.crl' });
    expect(r.statusCode).toBe(200);
    expect(r.headers['content-type']).toBe('application/pkix-crl');
    expect(r.headers['etag']).toBe(`"pref-13-d-13101-${delta!.crlNumber}"`);
    expect(r.headers['last-modified']).toBe(new Date(delta!.thisUpdate).toUTCString());
    expect(r.headers['expires']).toBe(new Date(delta!.nextUpdate).toUTCString());
    expect(r.headers['cache-control']).toMatch(/^public, max-age=\d+$/);
    expect(Number(/max-age=(\d+)/.exec(r.headers['cache-control'] as string)![1])).toBeLessThanOrEqual(3600);
    expect(r.rawPayload.equals(delta!.der)).toBe(true);
    const again = await app.inject({ method: 'GET', url: '/crl/pref-13/13101/delta.crl', headers: { 'if-none-match': r.headers['etag'] as string } });
    expect(again.statusCode).toBe(304);
    const part = await app.inject({ method: 'GET', url: '/crl/pref-13/13101.crl' });
    expect(part.headers['etag']).toMatch(/^"pref-13-m-13101-\d+"$/);
    for (const url of ['/crl/pref-13/13101/full.crl', '/crl/pref-13/abc/delta.crl', '/crl/pref-99/13101/delta.crl', '/crl/PREF/13101/delta.crl'])
      expect((await app.inject({ method: 'GET', url })).statusCode).toBe(404);
  });

  it('streams a partition CRL larger than one store page (25,000 entries) that the scanner and OpenSSL read', async () => {
    const n = 25_000;
    const revokedAt = clock.now().getTime() - 3600_000;
    const rows = Array.from({ length: n }, (_, i) => `('pref-13', '${(0x4000_0000_0000n + BigInt(i)).toString(16)}', 'auth', '13102', ${base}, ${base + 3 * 365 * 86400_000}, ${base}, ?, ${revokedAt + i}, ${i % 7 === 0 ? 0 : 1})`);
    await t.services.store.transaction(async (tx) => {
      for (let i = 0; i < n; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        await tx.sql.execute(
          `INSERT INTO certificates (ca_id, serial, kind, crl_partition, not_before, not_after, issued_at, der, revoked_at, revocation_reason) VALUES ${chunk.join(', ')}`,
          chunk.map(() => Buffer.from([0x30, 0x00])),
        );
      }
    });
    const crl = await t.services.crls.generate('pref-13', { type: 'partition', municipality: '13102' }, 'test');
    expect(crl.entries).toBe(n);
    const info = scanCrl(crl.der);
    expect(info.entryCount).toBe(n);
    let count = 0;
    for (const e of info.entries()) if (e.revocationDate) count++;
    expect(count).toBe(n);
    expect(findRevoked(info, (0x4000_0000_0000n + BigInt(n - 1)).toString(16))?.reason).toBe(1);
    const file = join(t.dir, 'big.crl');
    writeFileSync(file, crl.der);
    expect(openssl(['crl', '-inform', 'DER', '-in', file, '-noout', '-CAfile', caPem]).out).toContain('verify OK');
  });
});
