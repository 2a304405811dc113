/**
 * The smaller holes of issue 10 (hole 7), each as it was found: a cookie without Secure behind a TLS proxy,
 * a database file readable by everyone, card temp files left by a kill, a database URL of an unknown scheme
 * taken as a file name, and CLI inputs read without end.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../../src/server/app.js';
import { openStore } from '../../src/store/index.js';
import { FileCardStorage } from '../../src/card/index.js';
import { readFileBounded } from '../../src/common/bounded-read.js';
import { parseTrustProxy } from '../../src/cli/commands/serve.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';
import { jpki } from '../support/cli.js';

const PASSWORD = 'proxy-pass-2026';

describe('the session cookie behind a TLS proxy (--trust-proxy)', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13'] });
    await t.services.counter.operators.add({ name: 'minato-clerk', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
  });
  afterAll(async () => t?.cleanup());

  const cookieVia = async (trustProxy: boolean | string | undefined, headers: Record<string, string>) => {
    const app = await buildApp(t.services, trustProxy === undefined ? {} : { trustProxy });
    try {
      const r = await app.inject({ method: 'POST', url: '/api/counter/login', payload: { name: 'minato-clerk', password: PASSWORD }, headers, remoteAddress: '127.0.0.1' });
      expect(r.statusCode).toBe(200);
      return String(r.headers['set-cookie']);
    } finally {
      await app.close();
    }
  };

  it('is Secure when a trusted proxy says the client came over HTTPS', async () => {
    expect(await cookieVia('127.0.0.1', { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
    expect(await cookieVia(true, { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
    expect(await cookieVia('loopback', { 'x-forwarded-proto': 'https' })).toMatch(/; Secure$/);
  });

  it('ignores X-Forwarded-Proto from anyone not trusted (no proxy configured, or another address)', async () => {
    expect(await cookieVia(undefined, { 'x-forwarded-proto': 'https' })).not.toContain('Secure');
    expect(await cookieVia('10.0.0.0/8', { 'x-forwarded-proto': 'https' })).not.toContain('Secure');
    expect(await cookieVia('127.0.0.1', { 'x-forwarded-proto': 'http' })).not.toContain('Secure');
  });

  it('parses --trust-proxy and refuses what is not a proxy list', () => {
    expect(parseTrustProxy('all')).toBe(true);
    expect(parseTrustProxy('127.0.0.1, 10.0.0.0/8')).toBe('127.0.0.1,10.0.0.0/8');
    expect(parseTrustProxy('loopback')).toBe('loopback');
    for (const bad of ['2', 'evil.example', '127.0.0.1;rm', '']) expect(() => parseTrustProxy(bad)).toThrow(/--trust-proxy/);
  });
});

describe('files on disk', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-holes-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('creates jpki.sqlite (and its WAL) readable by the owner only, like the keys', async () => {
    const path = join(dir, 'data', 'jpki.sqlite');
    const store = await openStore(path);
    try {
      await store.settings.set('probe', 'x');
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(`${path}-wal`).mode & 0o777).toBe(0o600);
    } finally {
      await store.close();
    }
  });

  it('removes card temp files a killed process left, when the card is next opened for use (not for a look)', async () => {
    const image = join(dir, 'card.img');
    const first = await FileCardStorage.open(image, { lock: true });
    await first.write(Buffer.from('{"image":1}'));
    await first.close();
    const leftovers = ['.card.img.4242.deadbeef.tmp', '.card.img.17.0a1b2c3d.tmp'];
    for (const l of leftovers) writeFileSync(join(dir, l), 'half an image');
    writeFileSync(join(dir, '.other.img.4242.deadbeef.tmp'), 'another card’s');
    const look = await FileCardStorage.open(image, { lock: false });
    await look.close();
    expect(readdirSync(dir)).toEqual(expect.arrayContaining(leftovers));
    const use = await FileCardStorage.open(image, { lock: true });
    try {
      const names = readdirSync(dir);
      for (const l of leftovers) expect(names).not.toContain(l);
      expect(names).toContain('.other.img.4242.deadbeef.tmp');
      expect((await use.read())!.toString()).toBe('{"image":1}');
    } finally {
      await use.close();
    }
  });
});

describe('command-line inputs', () => {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-inputs-'));
    // an installation's data directory and database (commands refuse to run without one)
    await (await openStore(join(dir, 'data', 'jpki.sqlite'))).close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['mysql://root@127.0.0.1/jpki', 'file:///tmp/x.sqlite', 'postgress://typo@127.0.0.1/test', 'http://example.org/db'])(
    '--db %s: refused with a clear code, and no file made of the URL',
    (url) => {
      const r = jpki(['--data', join(dir, 'data'), '--db', url, 'ca', 'list']);
      expect(r.status).toBe(65);
      expect(r.stderr).toMatch(/unknown database URL scheme .*\[DATABASE_URL_INVALID\]/);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(join(process.cwd(), url.split(':')[0]! + ':'))).toBe(false);
    },
  );

  it('--csr /dev/zero ends in a refusal, not a read that never ends', () => {
    const r = jpki(['--data', join(dir, 'data'), 'ca', 'issue', '--prefecture', '13', '--kind', 'auth', '--csr', '/dev/zero', '--out', join(dir, 'x.pem')], { timeoutMs: 60_000 });
    expect(r.status).toBe(65);
    expect(r.stderr).toMatch(/the CSR \/dev\/zero is larger than 65536 bytes \[INPUT_TOO_LARGE\]/);
    expect(existsSync(join(dir, 'x.pem'))).toBe(false);
  });

  it('register import /dev/zero and a directory are refused too', () => {
    const zero = jpki(['--data', join(dir, 'data'), 'register', 'import', '/dev/zero'], { timeoutMs: 60_000 });
    expect(zero.status).toBe(65);
    expect(zero.stderr).toMatch(/\[INPUT_TOO_LARGE\]/);
    const folder = jpki(['--data', join(dir, 'data'), 'register', 'import', dir]);
    expect(folder.status).toBe(65);
    expect(folder.stderr).toMatch(/is a directory \[INPUT_UNREADABLE\]/);
  });

  it('reads a regular file up to the limit and refuses one byte more without reading it', () => {
    const f = join(dir, 'exact.bin');
    writeFileSync(f, Buffer.alloc(1000, 7));
    expect(readFileBounded(f, 1000).length).toBe(1000);
    expect(() => readFileBounded(f, 999, 'test input')).toThrow(/larger than 999 bytes/);
    expect(readFileBounded('/dev/null', 10).length).toBe(0);
  });
});
