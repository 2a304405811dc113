import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync, existsSync, statSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openssl, opensslCsr } from '../support/installation.js';
import { jpki } from '../support/cli.js';
import { availableStoreKinds, dropSchemaOf, freshStoreUrl } from '../support/stores.js';

const pgAvailable = (await availableStoreKinds()).includes('postgres');

describe('jpki CLI: init, ca list/export/issue/revoke/crl, audit verify (default RSA-2048, SQLite)', () => {
  let dir: string;
  let data: string;
  const run = (...args: string[]) => jpki(['--data', data, ...args]);

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-cli-'));
    data = join(dir, 'data');
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('refuses CA commands before init, with a clear message and non-zero exit', () => {
    const r = run('ca', 'list');
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('jpki init');
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });

  it('init creates the hierarchy once; a second run changes nothing and says so', () => {
    const first = run('init');
    expect(first.stderr).toBe('');
    expect(first.status).toBe(0);
    expect(first.stdout).toContain('created 50 CAs');
    expect(first.stdout).toContain('98 cross-certificates'); // 47 × 2 with the JPKI bridge, 2 between the bridges, 2 with the agency
    const keys = readdirSync(join(data, 'keys')).filter((f) => f.endsWith('.key'));
    // 50 CA keys and the audit key (it signed the first checkpoint of the audit chain)
    expect(keys).toHaveLength(51);
    expect(keys).toContain('audit.key');
    expect(statSync(join(data, 'keys', keys[0]!)).mode & 0o777).toBe(0o600);
    const keyFile = readFileSync(join(data, 'keys', keys[0]!), 'utf8');
    expect(keyFile).toContain('jpki-soft-key-v1'); // scrypt + AES-256-GCM, see docs/kms.md
    expect(keyFile).not.toContain('PRIVATE KEY');
    const again = run('init');
    expect(again.status).toBe(0);
    expect(again.stdout).toContain('already initialised');
    expect(readdirSync(join(data, 'keys')).filter((f) => f.endsWith('.key'))).toHaveLength(51);
  });

  it('ca list shows every CA with fingerprints; --json too', () => {
    const r = run('ca', 'list', '--json');
    expect(r.status).toBe(0);
    const list = JSON.parse(r.stdout) as { id: string; name: string; sha1: string; sha256: string; subject: string }[];
    expect(list).toHaveLength(50);
    const tokyo = list.find((c) => c.id === 'pref-13')!;
    expect(tokyo.name).toBe('東京都知事');
    expect(tokyo.sha1).toMatch(/^([0-9A-F]{2}:){19}[0-9A-F]{2}$/);
    expect(tokyo.sha256).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    const text = run('ca', 'list');
    expect(text.stdout).toContain('pref-13  東京都知事');
    expect(text.stdout).toContain(tokyo.sha256);
  });

  it('ca export writes every CA and cross-certificate with an index; OpenSSL reads them and the fingerprints match', () => {
    const out = join(dir, 'export');
    const r = run('ca', 'export', out);
    expect(r.status).toBe(0);
    const index = JSON.parse(readFileSync(join(out, 'index.json'), 'utf8')) as { file: string; type: string; sha256: string }[];
    expect(index.filter((e) => e.type === 'self-signed')).toHaveLength(50);
    expect(index.filter((e) => e.type === 'cross')).toHaveLength(98);
    const tokyo = index.find((e) => e.file === 'pref-13.pem')!;
    const fp = openssl(['x509', '-in', join(out, 'pref-13.pem'), '-noout', '-fingerprint', '-sha256']).out;
    expect(fp.trim()).toBe(`sha256 Fingerprint=${tokyo.sha256}`);
  });

  let serial = '';
  it('ca issue: a CSR from OpenSSL in, a profile certificate out that openssl verify accepts', () => {
    const { csr } = opensslCsr(dir, 'ichiro');
    const leaf = join(dir, 'leaf.pem');
    const r = run('ca', 'issue', '--prefecture', '13', '--csr', csr, '--name', '公的　一郎', '--birth', '1977-11-07', '--sex', '1', '--address', '東京都港区虎ノ門5丁目', '--out', leaf);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    serial = /certificate ([0-9a-f]+) by/.exec(r.stdout)![1]!;
    const text = openssl(['x509', '-in', leaf, '-noout', '-text']).out;
    expect(text).toContain('1.2.392.200149.8.5.5.4::319771107');
    expect(text).toMatch(/Not After : .* 14:59:59 \d{4} GMT/);
    const v = openssl(['verify', '-CAfile', join(dir, 'export', 'pref-13.pem'), leaf]);
    expect(v.out).toContain('leaf.pem: OK');
  });

  it.each([
    [['--prefecture', '48'], /unknown prefecture "48"/],
    [['--prefecture', '13', '--birth', '1977-02-30'], /not a real date/],
    [['--prefecture', '13', '--address', ''], /address is empty/],
  ])('ca issue refuses %j with a precise message and non-zero exit, storing nothing', (change, message) => {
    const { csr } = opensslCsr(dir, 'refused');
    const base: Record<string, string> = { '--prefecture': '13', '--name': '公的　一郎', '--birth': '1977-11-07', '--sex': '1', '--address': '東京都港区' };
    for (let i = 0; i < change.length; i += 2) base[change[i]!] = change[i + 1]!;
    const before = JSON.parse(run('ca', 'certificates', '--json').stdout).length as number;
    const out = join(dir, 'refused.pem');
    const r = run('ca', 'issue', '--csr', csr, '--out', out, ...Object.entries(base).flat());
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(message);
    expect(existsSync(out)).toBe(false);
    expect(JSON.parse(run('ca', 'certificates', '--json').stdout).length).toBe(before);
  });

  it('ca certificates --serial HEX --pem fetches an issued certificate, byte for byte what ca issue wrote', () => {
    const r = run('ca', 'certificates', '--serial', serial, '--pem');
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toBe(readFileSync(join(dir, 'leaf.pem'), 'utf8').trim());
    expect(JSON.parse(run('ca', 'certificates', '--serial', serial.toUpperCase(), '--json').stdout)).toMatchObject([{ ca: 'pref-13', serial, kind: 'sign' }]);
    expect(run('ca', 'certificates', '--serial', 'abcdef', '--pem').stderr).toContain('no certificate with serial abcdef');
    expect(run('ca', 'certificates', '--pem').stderr).toContain('--pem needs --serial');
  });

  it('ca issue --out into a directory that does not exist: refused before signing, nothing stored or reserved', () => {
    const { csr } = opensslCsr(dir, 'nowhere');
    const certificates = JSON.parse(run('ca', 'certificates', '--json').stdout).length as number;
    const ledger = JSON.parse(run('ca', 'ledger', '--json').stdout) as Record<string, number>;
    const r = run('ca', 'issue', '--prefecture', '13', '--csr', csr, '--kind', 'auth', '--out', join(dir, 'no', 'such', 'dir', 'x.pem'));
    expect(r.status).toBe(69);
    expect(r.stderr).toMatch(/cannot write .*x\.pem: the directory .* does not exist; nothing was signed \[OUTPUT_UNWRITABLE\]/);
    expect(r.stderr).not.toContain('internal error');
    expect(JSON.parse(run('ca', 'certificates', '--json').stdout).length).toBe(certificates);
    expect(JSON.parse(run('ca', 'ledger', '--json').stdout)).toEqual(ledger);
    const onDir = run('ca', 'issue', '--prefecture', '13', '--csr', csr, '--kind', 'auth', '--out', dir);
    expect(onDir.stderr).toMatch(/it is a directory; nothing was signed/);
  });

  it('ca issue refuses a missing input file and an unknown kind', () => {
    const r = run('ca', 'issue', '--prefecture', '13', '--csr', join(dir, 'nope.csr'), '--kind', 'auth', '--out', join(dir, 'x.pem'));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain('cannot read the CSR');
    const k = run('ca', 'issue', '--prefecture', '13', '--csr', join(dir, 'ichiro.csr'), '--kind', 'other', '--out', join(dir, 'x.pem'));
    expect(k.stderr).toContain('--kind must be sign or auth');
  });

  it('ca revoke, then ca crl: OpenSSL sees the certificate revoked', () => {
    const r = run('ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise');
    expect(r.status).toBe(0);
    const twice = run('ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise');
    expect(twice.status).not.toBe(0);
    expect(twice.stderr).toContain('already revoked');
    const unknown = run('ca', 'revoke', '--serial', 'deadbeef', '--reason', 'keyCompromise');
    expect(unknown.stderr).toContain('no certificate with serial deadbeef');
    const badReason = run('ca', 'revoke', '--serial', serial, '--reason', 'lost');
    expect(badReason.stderr).toContain('unknown revocation reason');
    const crl = join(dir, 'pref-13.crl');
    const c = run('ca', 'crl', '--ca', 'pref-13', '--out', crl, '--pem');
    expect(c.status).toBe(0);
    expect(readFileSync(crl, 'utf8')).toContain('-----BEGIN X509 CRL-----');
    const v = openssl(['verify', '-crl_check', '-CAfile', join(dir, 'export', 'pref-13.pem'), '-CRLfile', crl, join(dir, 'leaf.pem')]);
    expect(v.out).toContain('certificate revoked');
    const der = join(dir, 'pref-13.der.crl');
    expect(run('ca', 'crl', '--ca', 'pref-13', '--out', der).status).toBe(0);
    const n1 = /CRL Number:\s+(\d+)/.exec(openssl(['crl', '-in', crl, '-noout', '-text']).out)![1];
    const n2 = /CRL Number:\s+(\d+)/.exec(openssl(['crl', '-inform', 'DER', '-in', der, '-noout', '-text']).out)![1];
    expect(Number(n2)).toBeGreaterThan(Number(n1));
    expect(run('ca', 'crl', '--ca', 'pref-99', '--out', der).stderr).toContain('no CA with id "pref-99"');
  });

  it('audit verify checks the chain and reports the first broken record', async () => {
    const ok = run('audit', 'verify');
    expect(ok.status).toBe(0);
    expect(ok.stdout).toMatch(/audit log intact: \d+ records/);
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(join(data, 'jpki.sqlite'));
    db.prepare(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`).run();
    db.close();
    const broken = run('audit', 'verify');
    expect(broken.status).not.toBe(0);
    expect(broken.stderr).toContain('broken at record 7');
  });
});

describe.runIf(pgAvailable)('jpki CLI on PostgreSQL (--db postgres://…)', () => {
  it('init, issue and revoke against PostgreSQL, with the URL saved for later commands', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'jpki-cli-pg-'));
    const url = freshStoreUrl('postgres');
    try {
      const data = join(dir, 'data');
      const init = jpki(['--data', data, '--db', url, 'init', '--key-algorithm', 'p256']);
      expect(init.stderr).toBe('');
      expect(init.stdout).toContain('created 50 CAs');
      expect(existsSync(join(data, 'jpki.sqlite'))).toBe(false);
      const { csr } = opensslCsr(dir, 'pg');
      const out = join(dir, 'pg.pem');
      const r = jpki(['--data', data, 'ca', 'issue', '--prefecture', '27', '--csr', csr, '--kind', 'auth', '--out', out]);
      expect(r.stderr).toBe('');
      const serial = /certificate ([0-9a-f]+) by pref-27/.exec(r.stdout)![1]!;
      expect(jpki(['--data', data, 'ca', 'revoke', '--serial', serial, '--reason', 'superseded']).status).toBe(0);
      expect(jpki(['--data', data, 'audit', 'verify']).stdout).toContain('audit log intact');
    } finally {
      rmSync(dir, { recursive: true, force: true });
      await dropSchemaOf(url);
    }
  });
});
