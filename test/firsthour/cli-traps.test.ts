/**
 * Issue 11, "the first hour of a new user": each trap a new user fell into with the `jpki` command, as a test
 * that fails on the code the issue was filed against. (The README itself runs as a test: test/readme.)
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { createServer, type Server } from 'node:net';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JPKI_BIN, jpki, startJpki } from '../support/cli.js';
import { needs, POSTGRES_URL, SOFTHSM_MODULE } from '../support/system.js';
import { softHsmAvailable } from '../support/softhsm.js';

let dir: string;
/** One installation (P-256: quick keys) the read-only traps use. */
let data: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'jpki-firsthour-'));
  data = join(dir, 'data');
  const init = jpki(['--data', data, 'init', '--key-algorithm', 'p256'], { timeoutMs: 300_000 });
  expect(init.stderr).toBe('');
  expect(init.status).toBe(0);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('trap 1: npm start with the port taken', () => {
  let blocker: Server;
  let port: number;
  beforeAll(async () => {
    blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    port = (blocker.address() as { port: number }).port;
  });
  afterAll(() => new Promise((r) => blocker.close(r)));

  it('says the port is taken before initialising anything, and creates no data directory', () => {
    const fresh = join(dir, 'port-taken');
    const r = jpki(['--data', fresh, 'serve', '--port', String(port), '--key-algorithm', 'p256']);
    expect(r.status).toBe(69);
    expect(r.stderr).toBe(`jpki: port ${port} on 127.0.0.1 is already in use (another jpki serve?): choose another with --port N or PORT=N [SERVE_PORT_IN_USE]\n`);
    expect(r.stdout).not.toContain('initialising');
    expect(existsSync(fresh)).toBe(false);
  });

  it('PORT=N is the port when --port is not given', () => {
    const r = jpki(['--data', join(dir, 'port-env'), 'serve'], { env: { PORT: String(port) } });
    expect(r.status).toBe(69);
    expect(r.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
  });

  it('a first start saves no public URL it was not given: a restart on another port names that port in what it issues', async () => {
    const d = join(dir, 'serve-twice');
    const first = await startJpki(['--data', d, 'serve', '--port', '0', '--key-algorithm', 'p256', '--no-demo'], /listening on/, { timeoutMs: 300_000 });
    await first.stop();
    expect(JSON.parse(readFileSync(join(d, 'config.json'), 'utf8'))).not.toHaveProperty('publicUrl');
    const second = await startJpki(['--data', d, 'serve', '--port', '0', '--no-demo'], /listening on/);
    const url = /jpki listening on (http:\/\/127\.0\.0\.1:\d+) \(public URL (\S+),/.exec(second.output())!;
    await second.stop();
    expect(url[2]).toBe(url[1]);
  });
});

describe('trap 7: every start says where the counter terminal is and how to log in', () => {
  it('the demo password on the second start too', async () => {
    const d = join(dir, 'demo');
    for (const start of [1, 2]) {
      const s = await startJpki(['--data', d, 'serve', '--port', '0', '--key-algorithm', 'p256'], /listening on/, { timeoutMs: 300_000 });
      const out = s.output();
      await s.stop();
      expect(out, `start ${start}`).toMatch(/counter terminal: http:\/\/127\.0\.0\.1:\d+\/counter/);
      expect(out, `start ${start}`).toContain('log in as a demo operator: minato-clerk');
      expect(out, `start ${start}`).toContain('demo password: demo-counter-2004');
    }
  });
});

describe('trap 2: a closed pipe', () => {
  it('`jpki ca list | head -1` prints the first line and no EPIPE stack trace', () => {
    const r = spawnSync('bash', ['-c', `set -o pipefail; node ${JPKI_BIN} --data ${data} ca list | head -1`], { encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^jpki-bridge /);
  });
});

describe('trap 3: --data', () => {
  it('naming a file is a clear error, not an internal EEXIST', () => {
    const file = join(dir, 'a-file');
    writeFileSync(file, 'x');
    for (const args of [['init'], ['ca', 'list']]) {
      const r = jpki(['--data', file, ...args]);
      expect(r.stderr).toBe(`jpki: the data directory ${file} is a file, not a directory: give --data a directory (or none, for ./data) [DATA_DIR_INVALID]\n`);
      expect(r.status).toBe(65);
    }
  });

  it('a mistyped --data on a read-only command creates nothing', () => {
    const typo = join(dir, 'dtaa');
    for (const args of [['ca', 'list'], ['ca', 'certificates'], ['register', 'list'], ['audit', 'verify']]) {
      const r = jpki(['--data', typo, ...args]);
      expect(r.status, args.join(' ')).toBe(66);
      expect(r.stderr).toMatch(/no installation in .*dtaa \(no such directory\): run `jpki init` first.*\[INSTALLATION_NOT_FOUND\]\n$/);
      expect(existsSync(typo)).toBe(false);
    }
  });
});

describe('trap 4: init', () => {
  it.runIf(needs('SoftHSM2 (softhsm2 package)', softHsmAvailable()))('a missing PKCS#11 token says how to create it and leaves nothing behind', () => {
    const tokens = join(dir, 'no-tokens');
    mkdirSync(tokens);
    const conf = join(dir, 'no-tokens.conf');
    writeFileSync(conf, `directories.tokendir = ${tokens}\nobjectstore.backend = file\nlog.level = ERROR\n`);
    const hsmData = join(dir, 'hsm-data');
    const r = jpki(['--data', hsmData, 'init', '--kms', 'pkcs11', '--pkcs11-module', SOFTHSM_MODULE, '--pkcs11-token', 'jpki-ca', '--pkcs11-pin', '1234'], {
      env: { SOFTHSM2_CONF: conf },
    });
    expect(r.status).toBe(66);
    expect(r.stderr).toContain('no token labelled jpki-ca');
    expect(r.stderr).toContain('Create it with --pkcs11-init-token --pkcs11-so-pin SO-PIN');
    expect(r.stderr).toContain('softhsm2-util --init-token --free --label jpki-ca');
    expect(r.stderr).toContain('nothing was created [KMS_TOKEN_NOT_FOUND]');
    expect(existsSync(hsmData)).toBe(false);
  });

  it('options that contradict the installation already there are refused, naming them; nothing changes', () => {
    const before = readdirSync(join(data, 'keys')).sort();
    const r = jpki(['--data', data, 'init', '--key-algorithm', 'rsa2048']);
    expect(r.stderr).toBe(
      `jpki: ${data} already holds an installation, which this option contradicts: --key-algorithm rsa2048 (its CA keys are EC P-256). A second installation needs a data directory of its own: give --data DIR (nothing changed) [INIT_OPTIONS_CONFLICT]\n`,
    );
    expect(r.status).toBe(75);
    expect(readdirSync(join(data, 'keys')).sort()).toEqual(before);
    const same = jpki(['--data', data, 'init', '--key-algorithm', 'p256']);
    expect(same.status).toBe(0);
    expect(same.stdout).toMatch(/already initialised on .*; nothing changed/);
  });
});

describe('trap 5: the README init lines in order', () => {
  it('a PostgreSQL init into a data directory that already holds the SQLite installation is refused: no second installation, no new key files, config.json unchanged', () => {
    const config = readFileSync(join(data, 'config.json'), 'utf8');
    const keys = readdirSync(join(data, 'keys')).sort();
    const r = jpki(['--data', data, '--db', POSTGRES_URL, 'init', '--key-algorithm', 'p256']);
    expect(r.status).toBe(75);
    expect(r.stderr).toContain('a second installation (--db postgres://');
    expect(r.stderr).toContain('needs a data directory of its own: give --data DIR (nothing changed) [INIT_OPTIONS_CONFLICT]');
    expect(readFileSync(join(data, 'config.json'), 'utf8')).toBe(config);
    expect(readdirSync(join(data, 'keys')).sort()).toEqual(keys);
  });
});

describe('trap 6: the resident-record code (住民票コード) is accepted wherever a resident is named, and both are printed', () => {
  let id: string;
  let code: string;
  beforeAll(() => {
    const r = jpki(['--data', data, 'register', 'add', '--name', '公的 花子', '--birth', '1980-02-03', '--sex', '2', '--address', '東京都港区芝公園1丁目', '--municipality', '13103']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    id = r.stdout.trim();
    const json = jpki(['--data', data, 'register', 'add', '--name', '公的 三郎', '--birth', '1981-02-03', '--sex', '1', '--address', '東京都港区芝公園1丁目', '--municipality', '13103', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: expect.stringMatching(/^R/), recordCode: expect.stringMatching(/^\d{11}$/) });
    code = /(\d{11})/.exec(jpki(['--data', data, 'register', 'show', '--resident', id]).stdout)![1]!;
  });

  it('register add prints the id for scripts (--json both); list prints both', () => {
    expect(id).toMatch(/^R[0-9A-Z]+$/);
    const list = jpki(['--data', data, 'register', 'list']);
    expect(list.stdout).toMatch(/^ID\s+RECORD CODE\s+NAME/);
    expect(list.stdout).toMatch(new RegExp(`${id}\\s+${code}\\s+公的　花子`));
  });

  it('register show, changes and counter commands take the record code', () => {
    const show = jpki(['--data', data, 'register', 'show', '--resident', code]);
    expect(show.stderr).toBe('');
    expect(show.stdout).toContain(`${id}  公的　花子  (record code ${code}, registered)`);
    const move = jpki(['--data', data, 'register', 'move', '--resident', code, '--address', '東京都港区虎ノ門5丁目']);
    expect(move.stderr).toBe('');
    expect(move.stdout).toContain(`move (within-municipality) of resident ${id} (record code ${code}) recorded as version 2`);
    const env = { JPKI_OPERATOR_PASSWORD: 'first-hour-2024' };
    expect(jpki(['--data', data, 'operator', 'add', '--municipality', '13103', '--name', 'tanaka', '--role', 'clerk'], { env }).status).toBe(0);
    const revoke = jpki(['--data', data, 'counter', 'revoke', '--operator', 'tanaka', '--resident', code, '--reason', 'lost', '--id-type', 'passport', '--id-number', 'TK1234567'], { env });
    // the counter found the resident by the record code: the refusal is that she has nothing to revoke
    expect(revoke.stderr).toContain('[COUNTER_NOTHING_TO_REVOKE]');
    expect(revoke.stderr).toContain(id);
  });

  it('an unknown record code is a precise not-found', () => {
    const r = jpki(['--data', data, 'register', 'show', '--resident', '00000000000']);
    expect(r.status).toBe(66);
    expect(r.stderr).toBe('jpki: no resident with the resident-record code 00000000000 in the register [RESIDENT_NOT_FOUND]\n');
  });

  it('--help says both are accepted', () => {
    expect(jpki(['register', 'show', '--help']).stdout).toContain('resident-record code (住民票コード, 11 digits)');
    expect(jpki(['counter', 'issue', '--help']).stdout).toContain('resident-record code (住民票コード, 11 digits)');
  });
});

describe('trap 11: a usage error is one line and a hint', () => {
  it.each([
    [['ca', 'issue', '--prefecture', '13'], 'jpki ca issue --help'],
    [['ca', 'lst'], 'jpki ca --help'],
    [['register', 'add', '--bogus'], 'jpki register add --help'],
    [['nosuch'], 'jpki --help'],
  ])('jpki %j', (args, hint) => {
    const r = jpki(['--data', data, ...args]);
    expect(r.status).toBe(64);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`(see \`${hint}\`) [USAGE]`);
    expect(r.stderr.trimEnd().split('\n').length).toBeLessThanOrEqual(2);
  });
});

describe('a command\u2019s own verdict is its exit code (the README\u2019s `client check … # exit 2`)', () => {
  it('`jpki client check` exits 3 when no responder and no CRL answers, not 0', () => {
    const key = join(dir, 'verdict.key');
    const pub = join(dir, 'verdict.pub');
    spawnSync('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', key]);
    spawnSync('openssl', ['pkey', '-in', key, '-pubout', '-out', pub]);
    const cert = join(dir, 'verdict.pem');
    expect(jpki(['--data', data, 'ca', 'issue', '--prefecture', '13', '--public-key', pub, '--kind', 'auth', '--municipality', '13103', '--out', cert]).status).toBe(0);
    const cas = join(dir, 'verdict-cas');
    expect(jpki(['--data', data, 'ca', 'export', cas]).status).toBe(0);
    const r = jpki(['--data', data, 'client', 'check', '--cert', cert, '--issuer', join(cas, 'pref-13.pem'), '--responder', 'http://127.0.0.1:9/ocsp']);
    expect(r.stdout).toContain('確認できません (status unavailable)');
    expect(r.status).toBe(3);
  });
});
