/**
 * Scale-out on PostgreSQL (issue 12), against real PostgreSQL processes:
 *
 *  1. Several `jpki serve` nodes on one database (one of them with `--workers 2`): a counter session made on
 *     one node works on the others; a revocation made elsewhere is reported by OCSP on every node within a
 *     second (LISTEN/NOTIFY on the status feed).
 *  2. A streaming replica: the test makes its own primary cluster (initdb, wal_level=replica) and a standby
 *     of it with `pg_basebackup -R` on another port; `jpki serve --read-db` answers OCSP and serves CRLs from
 *     the standby, and a revocation on the primary shows there within a second (the feed polled on the
 *     standby: NOTIFY does not reach it).
 *
 * Needs PostgreSQL on 127.0.0.1:5432 and the PostgreSQL 15 server binaries (as the postgres user when run as
 * root); under CI=true a missing part fails.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, execFile } from 'node:child_process';
import { appendFileSync, chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { userInfo, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { dropSchemaOf, freshStoreUrl, postgresAvailable } from '../support/stores.js';
import { jpki, startJpki, JPKI_BIN } from '../support/cli.js';
import { freePort, needs } from '../support/system.js';
import { readOcspResponse } from '../ocsp/support.js';

const run = promisify(execFile);
const PG_BIN = '/usr/lib/postgresql/15/bin';
const hasPostgres = needs('PostgreSQL on 127.0.0.1:5432', await postgresAvailable());
const hasServerBinaries = needs(`PostgreSQL server binaries in ${PG_BIN}`, existsSync(join(PG_BIN, 'initdb')) && existsSync(join(PG_BIN, 'pg_basebackup')));


/**
 * Asks a responder about `pem` until it says revoked; the time it first did. The request is made once by
 * openssl; the polling is a plain POST (an openssl process per poll would blur the timing by its start-up).
 */
async function revokedSeenAt(url: string, caPem: string, pem: string, until: number): Promise<{ at?: number; text: string }> {
  const reqFile = `${pem}.req.der`;
  execFileSync('openssl', ['ocsp', '-issuer', caPem, '-cert', pem, '-no_nonce', '-reqout', reqFile]);
  const body = new Uint8Array(readFileSync(reqFile));
  let text = '';
  while (Date.now() < until) {
    const r = await fetch(`${url}/ocsp`, { method: 'POST', headers: { 'content-type': 'application/ocsp-request' }, body });
    const der = new Uint8Array(await r.arrayBuffer());
    const status = readOcspResponse(der).responses[0]?.status;
    text = `HTTP ${r.status}, status ${status}`;
    if (status === 'revoked') {
      const at = Date.now();
      // and OpenSSL agrees, verifying the response
      const check = await run('openssl', ['ocsp', '-issuer', caPem, '-cert', pem, '-url', `${url}/ocsp`, '-CAfile', caPem, '-no_nonce'], { encoding: 'utf8' });
      expect(check.stdout).toContain(`${pem}: revoked`);
      return { at, text };
    }
    await new Promise((r2) => setTimeout(r2, 20));
  }
  return { text };
}

/** Runs `jpki ca revoke` in its own process; resolves to the revocation time it printed. */
function revokeElsewhere(args: string[], serial: string): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const child = spawn(process.execPath, [JPKI_BIN, ...args, 'ca', 'revoke', '--serial', serial, '--reason', 'keyCompromise'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => (code === 0 ? resolve(new Date(/ at (\S+Z)/.exec(out)![1]!).getTime()) : reject(new Error(`jpki ca revoke exited ${code}: ${out}`))));
  });
}

/** Issues an auth certificate for a fresh P-256 key with the CLI; its serial and PEM file. */
function issueWithCli(base: string[], dir: string, name: string): { serial: string; pem: string } {
  const key = join(dir, `${name}.key`);
  execFileSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
  execFileSync('openssl', ['pkey', '-in', key, '-pubout', '-out', `${key}.pub`]);
  const pem = join(dir, `${name}.pem`);
  const r = jpki([...base, 'ca', 'issue', '--prefecture', '13', '--kind', 'auth', '--public-key', `${key}.pub`, '--municipality', '13101', '--out', pem]);
  expect(r.stderr).toBe('');
  return { serial: /certificate ([0-9a-f]+) by/.exec(r.stdout)![1]!, pem };
}

describe.runIf(hasPostgres)('several jpki serve nodes on one PostgreSQL database', () => {
  let dir: string;
  let db: string;
  const nodes: Awaited<ReturnType<typeof startJpki>>[] = [];
  const urls: string[] = [];
  const base = () => ['--data', join(dir, 'data'), '--db', db];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-nodes-'));
    db = freshStoreUrl('postgres');
    for (const workers of [1, 1, 2]) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      // the first node initialises the installation and seeds the demo counter; the others join it
      nodes.push(await startJpki([...base(), 'serve', '--port', String(port), '--public-url', urls[0]!, '--key-algorithm', 'p256', '--workers', String(workers)], /listening on/, { timeoutMs: 240_000 }));
    }
    expect(jpki([...base(), 'ca', 'export', join(dir, 'cas')]).status).toBe(0);
  }, 600_000);

  afterAll(async () => {
    for (const n of nodes) await n.stop();
    if (db) await dropSchemaOf(db);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('a counter session opened on one node works on every node', async () => {
    const login = await fetch(`${urls[0]}/api/counter/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'minato-clerk', password: 'demo-counter-2004', session: 'bearer' }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    for (const url of urls) {
      const me = await fetch(`${url}/api/counter/me`, { headers: { authorization: `Bearer ${token}` } });
      expect(me.status).toBe(200);
      expect(((await me.json()) as { operator: { name: string } }).operator.name).toBe('minato-clerk');
    }
  });

  it('the worker processes of --workers 2 run with an 8 MiB young generation (resident memory of the OCSP cache)', () => {
    const primary = nodes[2]!.child.pid!;
    const workers = readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .filter((d) => {
        try {
          return Number(readFileSync(`/proc/${d}/stat`, 'utf8').replace(/^.*\) /, '').split(' ')[1]) === primary;
        } catch {
          return false; // ended meanwhile
        }
      });
    expect(workers).toHaveLength(2);
    for (const pid of workers) expect(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0')).toContain('--max-semi-space-size=8');
  });

  it('a revocation made elsewhere is reported by OCSP on every node within a second', async () => {
    const caPem = join(dir, 'cas', 'pref-13.pem');
    const leaf = issueWithCli(base(), dir, 'leaf');
    for (const url of urls) {
      const good = await run('openssl', ['ocsp', '-issuer', caPem, '-cert', leaf.pem, '-url', `${url}/ocsp`, '-CAfile', caPem, '-no_nonce'], { encoding: 'utf8' });
      expect(good.stdout).toContain(`${leaf.pem}: good`);
    }
    const revoking = revokeElsewhere(base(), leaf.serial);
    const seen = await Promise.all(urls.map((url) => revokedSeenAt(url, caPem, leaf.pem, Date.now() + 20_000)));
    const revokedAt = await revoking;
    for (const [i, s] of seen.entries()) {
      expect(s.at, `node ${i} never reported the revocation: ${s.text}`).toBeDefined();
      console.log(`node ${i}: revocation visible through OCSP after ${s.at! - revokedAt} ms`);
      expect(s.at! - revokedAt).toBeLessThan(1000);
    }
  });
});

describe.runIf(hasPostgres && hasServerBinaries)('jpki serve --read-db: OCSP and CRLs from a PostgreSQL streaming replica', () => {
  let dir: string;
  let primaryUrl: string;
  let replicaUrl: string;
  let node: Awaited<ReturnType<typeof startJpki>> | undefined;
  let url: string;
  const clusters: string[] = [];
  const asPostgres = userInfo().uid === 0 ? ['runuser', '-u', 'postgres', '--'] : [];
  const pgRun = (cmd: string, args: string[]) => {
    const [file, ...rest] = [...asPostgres, join(PG_BIN, cmd), ...args];
    return execFileSync(file!, rest, { stdio: 'pipe', encoding: 'utf8' });
  };
  const base = () => ['--data', join(dir, 'data'), '--db', primaryUrl];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-replica-'));
    const clusterDir = join(dir, 'pg');
    mkdirSync(clusterDir);
    if (userInfo().uid === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
      chownSync(clusterDir, uid, gid);
      execFileSync('chmod', ['755', dir]);
    }
    const [p1, p2] = [await freePort(), await freePort()];
    const primary = join(clusterDir, 'primary');
    const replica = join(clusterDir, 'replica');
    // the primary: trust on loopback (replication included, initdb's default), WAL for a standby
    pgRun('initdb', ['-D', primary, '-U', 'postgres', '--auth=trust', '--no-sync']);
    appendFileSync(
      join(primary, 'postgresql.conf'),
      `\nport = ${p1}\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '${clusterDir}'\nwal_level = replica\nmax_wal_senders = 4\nfsync = off\n`,
    );
    pgRun('pg_ctl', ['-D', primary, '-l', join(clusterDir, 'primary.log'), '-w', 'start']);
    clusters.push(primary);
    // the standby: a base backup of the primary streaming from it (-R writes primary_conninfo), another port
    pgRun('pg_basebackup', ['-h', '127.0.0.1', '-p', String(p1), '-U', 'postgres', '-D', replica, '-R', '-X', 'stream']);
    appendFileSync(join(replica, 'postgresql.conf'), `\nport = ${p2}\nhot_standby = on\n`);
    pgRun('pg_ctl', ['-D', replica, '-l', join(clusterDir, 'replica.log'), '-w', 'start']);
    clusters.push(replica);
    primaryUrl = `postgres://postgres@127.0.0.1:${p1}/postgres?schema=jpki`;
    replicaUrl = `postgres://postgres@127.0.0.1:${p2}/postgres?schema=jpki`;
    const c = new pg.Client({ connectionString: `postgres://postgres@127.0.0.1:${p2}/postgres` });
    await c.connect();
    expect((await c.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(true);
    await c.end();
    // the installation on the primary (CLI), then a node reading from the standby
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = await startJpki([...base(), 'serve', '--port', String(port), '--public-url', url, '--key-algorithm', 'p256', '--no-demo', '--read-db', replicaUrl], /listening on/, { timeoutMs: 240_000 });
    expect(jpki([...base(), 'ca', 'export', join(dir, 'cas')]).status).toBe(0);
  }, 600_000);

  afterAll(async () => {
    await node?.stop();
    for (const c of clusters.reverse()) {
      try {
        pgRun('pg_ctl', ['-D', c, '-m', 'immediate', '-w', 'stop']);
      } catch {
        // already stopped
      }
    }
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('answers OCSP from the standby, sees a revocation on the primary within a second, and serves CRLs from it', async () => {
    const caPem = join(dir, 'cas', 'pref-13.pem');
    const leaf = issueWithCli(base(), dir, 'leaf');
    // the certificate reaches the standby by replication (a few ms): until then the responder does not know it
    let good = '';
    for (const end = Date.now() + 10_000; Date.now() < end && !good.includes(': good'); )
      good = (await run('openssl', ['ocsp', '-issuer', caPem, '-cert', leaf.pem, '-url', `${url}/ocsp`, '-CAfile', caPem, '-no_nonce'], { encoding: 'utf8' }).catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout;
    expect(good).toContain(`${leaf.pem}: good`);
    // the node's reads really go to the standby: it holds the node's connections
    const c = new pg.Client({ connectionString: replicaUrl.replace('?schema=jpki', '') });
    await c.connect();
    const onStandby = Number((await c.query("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()")).rows[0].n);
    await c.end();
    expect(onStandby).toBeGreaterThan(0);

    const revoking = revokeElsewhere(base(), leaf.serial);
    const seen = await revokedSeenAt(url, caPem, leaf.pem, Date.now() + 20_000);
    const revokedAt = await revoking;
    expect(seen.at, `the replica-reading node never reported the revocation: ${seen.text}`).toBeDefined();
    console.log(`revocation on the primary visible through OCSP on the standby after ${seen.at! - revokedAt} ms`);
    expect(seen.at! - revokedAt).toBeLessThan(1000);

    const crl = await fetch(`${url}/crl/pref-13/13101.crl`);
    expect(crl.status).toBe(200);
    expect(crl.headers.get('content-type')).toBe('application/pkix-crl');
    expect((await crl.arrayBuffer()).byteLength).toBeGreaterThan(100);
  });
});
