/**
 * CRL benchmark: our streaming encoder and scanner beside OpenSSL on the same revoked entries.
 *
 * For N = 100,000 and 1,000,000: `openssl ca -gencrl` over an index.txt of N revoked entries, and
 * encodeCrl in a child process (bench/crl-child.ts) over the same serials, dates and reasons with the same
 * CA key, so the two CRLs should be byte-identical (RSA PKCS#1 v1.5 is deterministic). Peak memory is each
 * process's own maxRSS (GNU time's %M for OpenSSL, getrusage in the child). Then the scanner on the 1M CRL
 * beside `openssl crl -noout` (parse + signature-free) and `openssl crl -noout -text` (parse + print).
 *
 * BENCH_CRL_SIZES=100000,1000000 (default) and BENCH_REPS=1 (best of) tune it.
 *
 * `crlPipelineBench(n)` (run by bench/ocsp.ts) measures the service's whole path instead of the encoder
 * alone: the entries in the store, CrlPublisher.generate streaming them out of it, the CA key from the key
 * store, the CRL stored back.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, rmSync, existsSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { once } from 'node:events';
import { benchEntry, REASON_NAMES, THIS_UPDATE, NEXT_UPDATE } from './crl-child.js';
import { markdownTable as table } from './measure.js';
import { openServices } from '../src/compose/services.js';
import { PREFECTURES } from '../src/pki/prefectures.js';

const ROOT = resolve(new URL('..', import.meta.url).pathname);
const GNU_TIME = '/usr/bin/time';

interface Run {
  /** Wall-clock seconds of the whole process (start-up included). */
  wallS: number;
  /** Peak resident set size, MiB. */
  rssMiB: number | undefined;
  stdout: string;
}

/** Runs a command under GNU time (wall seconds, max RSS); without GNU time, wall time only. */
function measured(cmd: string, args: string[], opts: { cwd?: string; stdoutTo?: string } = {}): Run {
  const hasTime = existsSync(GNU_TIME);
  const t0 = performance.now();
  const r = hasTime
    ? spawnSync(GNU_TIME, ['-f', '@@%e %M', cmd, ...args], { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 30 })
    : spawnSync(cmd, args, { cwd: opts.cwd, encoding: 'utf8', maxBuffer: 1 << 30 });
  const wall = (performance.now() - t0) / 1000;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${r.stderr}`);
  if (opts.stdoutTo) writeFileSync(opts.stdoutTo, r.stdout);
  const m = hasTime ? /@@([\d.]+) (\d+)\s*$/.exec(r.stderr) : null;
  return { wallS: m ? Number(m[1]) : wall, rssMiB: m ? Number(m[2]) / 1024 : undefined, stdout: r.stdout };
}

function best(reps: number, f: () => Run): Run {
  let b: Run | undefined;
  for (let i = 0; i < reps; i++) {
    const r = f();
    if (!b || r.wallS < b.wallS) b = r;
  }
  return b!;
}

function child(args: string[]): Run & { json: Record<string, number | boolean> } {
  const r = measured(process.execPath, [join(ROOT, 'bin/run-ts.js'), join(ROOT, 'bench/crl-child.ts'), ...args], { cwd: ROOT });
  const line = r.stdout.trim().split('\n').pop()!;
  const json = JSON.parse(line) as Record<string, number | boolean>;
  return { ...r, rssMiB: Number(json.maxRssKiB) / 1024, json };
}

/** UTCTime text (index.txt) and GeneralizedTime text (-crl_lastupdate) of a date. */
const utc = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(2, 14) + 'Z';
const gen = (d: Date) => d.toISOString().replace(/[-:T]/g, '').slice(0, 14) + 'Z';

async function writeIndex(path: string, n: number): Promise<void> {
  const out = createWriteStream(path);
  let buf = '';
  for (let i = 0; i < n; i++) {
    const e = benchEntry(i);
    const revoked = utc(e.revocationDate) + (e.reason === undefined ? '' : `,${REASON_NAMES[e.reason]}`);
    buf += `R\t310101000000Z\t${revoked}\t${e.serialHex}\tunknown\t/CN=r${i}\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await once(out, 'drain');
      buf = '';
    }
  }
  out.end(buf);
  await once(out, 'finish');
}

const fmtS = (s: number) => `${s.toFixed(2)} s`;
const fmtMiB = (m: number | undefined) => (m === undefined ? 'n/a' : `${m.toFixed(0)} MiB`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? 'n/a' : `${(a / b).toFixed(2)}×`);


export async function bench(): Promise<void> {
  const sizes = (process.env.BENCH_CRL_SIZES ?? '100000,1000000').split(',').map(Number);
  const reps = Number(process.env.BENCH_REPS ?? 1);
  if (!existsSync(GNU_TIME)) console.log(`(${GNU_TIME} not found: peak memory of OpenSSL not measured; apt-get install time)`);
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-crl-'));
  try {
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/C=JP/O=JPKI/OU=JPKI for digital signature', '-days', '3650', '-addext', 'subjectKeyIdentifier=hash'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(
      join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = d', '[d]', 'database = ./index.txt', 'crlnumber = ./crlnumber', 'certificate = ./ca.pem', 'private_key = ./ca.key', 'default_md = sha256', 'crl_extensions = ext', '[ext]', 'authorityKeyIdentifier = keyid:always', ''].join('\n'),
    );
    const idle = child(['idle']);
    console.log(`child baseline (node + tsx, nothing encoded): ${fmtMiB(idle.rssMiB)}, ${fmtS(idle.wallS)}`);
    const encodeRows = [['entries', 'openssl ca -gencrl', 'encodeCrl (in process)', 'encodeCrl (process)', 'time ratio', 'openssl RSS', 'encodeCrl RSS', 'RSS ratio', 'same bytes']];
    let last1M: string | undefined;
    for (const n of sizes) {
      await writeIndex(join(dir, 'index.txt'), n);
      const ossl = best(reps, () => {
        writeFileSync(join(dir, 'crlnumber'), '01\n');
        return measured('openssl', ['ca', '-config', 'ca.cnf', '-gencrl', '-batch', '-crl_lastupdate', gen(THIS_UPDATE), '-crl_nextupdate', gen(NEXT_UPDATE), '-out', 'openssl.pem'], { cwd: dir });
      });
      const ourPath = join(dir, `ours-${n}.der`);
      let inProcess = Infinity;
      const ours = best(reps, () => {
        const r = child(['encode', String(n), join(dir, 'ca.pem'), join(dir, 'ca.key'), ourPath]);
        inProcess = Math.min(inProcess, Number(r.json.ms) / 1000);
        return r;
      });
      const opensslDer = Buffer.from(readFileSync(join(dir, 'openssl.pem'), 'utf8').replace(/-----[^-]+-----/g, '').replace(/\s+/g, ''), 'base64');
      const same = opensslDer.equals(readFileSync(ourPath));
      encodeRows.push([
        n.toLocaleString('en-US'),
        fmtS(ossl.wallS),
        fmtS(inProcess),
        fmtS(ours.wallS),
        ratio(ours.wallS, ossl.wallS),
        fmtMiB(ossl.rssMiB),
        fmtMiB(ours.rssMiB),
        ratio(ours.rssMiB, ossl.rssMiB),
        same ? 'yes' : 'NO',
      ]);
      if (n === Math.max(...sizes)) last1M = ourPath;
    }
    console.log('\nEncoding (same CA key, serials, dates, reasons; wall time of the process, best of ' + reps + '):\n');
    table(encodeRows);

    if (last1M) {
      const n = Math.max(...sizes).toLocaleString('en-US');
      const scan = best(reps, () => child(['scan', last1M!])) as ReturnType<typeof child>;
      const verify = child(['verify', last1M, join(dir, 'ca.pem')]);
      const oParse = best(reps, () => measured('openssl', ['crl', '-inform', 'DER', '-in', last1M!, '-noout']));
      const oVerify = best(reps, () => measured('openssl', ['crl', '-inform', 'DER', '-in', last1M!, '-noout', '-CAfile', join(dir, 'ca.pem')]));
      const oText = best(reps, () => measured('openssl', ['crl', '-inform', 'DER', '-in', last1M!, '-noout', '-text']));
      const j = scan.json;
      console.log(`\nReading the ${n}-entry CRL (${(readFileSync(last1M).length / 2 ** 20).toFixed(1)} MiB):\n`);
      table([
        ['job', 'time', 'peak RSS'],
        ['scanCrl (structure, extensions, every entry checked)', `${Number(j.scanMs).toFixed(0)} ms`, '—'],
        ['entries() decoding all entries', `${Number(j.entriesMs).toFixed(0)} ms`, '—'],
        ['findRevoked (last serial)', `${Number(j.findMs).toFixed(0)} ms`, '—'],
        ['scan child process total (read file + all of the above)', fmtS(scan.wallS), fmtMiB(scan.rssMiB)],
        ['verifyCrlSignature (in process)', `${Number(verify.json.ms).toFixed(0)} ms`, fmtMiB(verify.rssMiB)],
        ['openssl crl -noout (parse)', fmtS(oParse.wallS), fmtMiB(oParse.rssMiB)],
        ['openssl crl -noout -CAfile (parse + verify)', fmtS(oVerify.wallS), fmtMiB(oVerify.rssMiB)],
        ['openssl crl -noout -text (parse + print)', fmtS(oText.wallS), fmtMiB(oText.rssMiB)],
      ]);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(new URL(import.meta.url).pathname)) await bench();

/** Writes n revoked certificates (benchEntry's serials, dates and reasons) straight into an installation's store. */
export async function populateStore(dataDir: string, databaseUrl: string, caId: string, n: number): Promise<void> {
  const s = await openServices({ dataDir, databaseUrl, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
  try {
    await s.ca.initialize({ keySpec: { type: 'RSA', bits: 2048 }, prefectures: PREFECTURES.filter((p) => p.code === '13'), actor: 'bench' });
    const rows = 500;
    const values = Array.from({ length: rows }, () => `('${caId}', ?, 'sign', 0, 4102444800000, 0, ?, ?, ?)`).join(', ');
    const der = Buffer.from([0x30, 0x00]);
    const sql = `INSERT INTO certificates (ca_id, serial, kind, not_before, not_after, issued_at, der, revoked_at, revocation_reason) VALUES ${values}`;
    for (let i = 0; i < n; i += 100_000) {
      await s.store.transaction(async (tx) => {
        for (let j = i; j < Math.min(n, i + 100_000); j += rows) {
          const params: (string | number | Buffer)[] = [];
          for (let k = j; k < j + rows; k++) {
            const e = benchEntry(k); // n is a multiple of 500: every statement is full
            params.push(e.serialHex.toLowerCase(), der, e.revocationDate.getTime(), e.reason ?? 0);
          }
          await tx.sql.execute(sql, params);
        }
      });
    }
    // A CRL of a million entries is years of revocations in a table PostgreSQL's autovacuum has long since
    // analysed and vacuumed (statistics; the visibility map that lets the CRL index be read without the
    // table). Rows written a moment ago have neither yet, so the bench does what autovacuum would.
    if (s.store.db.dialect === 'postgres') await (s.store.db as import('../src/store/postgres.js').PostgresDatabase).exec('VACUUM ANALYZE certificates');
  } finally {
    await s.close();
  }
}

/**
 * The real pipeline beside `openssl ca -gencrl` on the same n entries: store → stream → encoder → sign with
 * the CA key from the key store → store, in a child process whose peak RSS is its own.
 */
export async function crlPipelineBench(n: number, store: 'sqlite' | 'postgres' = 'sqlite'): Promise<void> {
  if (n % 500) throw new Error('BENCH_CRL_PIPELINE must be a multiple of 500');
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-crl-pipeline-'));
  const dataDir = join(dir, 'data');
  const pgUrl = `${process.env.JPKI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test'}?schema=bench_crl_${process.pid}`;
  const db = store === 'postgres' ? pgUrl : join(dataDir, 'jpki.sqlite');
  try {
    let t0 = performance.now();
    process.env.JPKI_SQLITE_SYNCHRONOUS ??= 'NORMAL';
    await populateStore(dataDir, db, 'pref-13', n);
    console.log(`\nCRL pipeline on ${store}: ${n.toLocaleString('en-US')} revoked certificates written into the store in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-subj', '/C=JP/O=JPKI/OU=Prefectural Governor CA', '-days', '3650', '-addext', 'subjectKeyIdentifier=hash'], { cwd: dir, stdio: 'ignore' });
    writeFileSync(
      join(dir, 'ca.cnf'),
      ['[ca]', 'default_ca = d', '[d]', 'database = ./index.txt', 'crlnumber = ./crlnumber', 'certificate = ./ca.pem', 'private_key = ./ca.key', 'default_md = sha256', 'crl_extensions = ext', '[ext]', 'authorityKeyIdentifier = keyid:always', ''].join('\n'),
    );
    await writeIndex(join(dir, 'index.txt'), n);
    writeFileSync(join(dir, 'crlnumber'), '01\n');
    const ossl = measured('openssl', ['ca', '-config', 'ca.cnf', '-gencrl', '-batch', '-crl_lastupdate', gen(THIS_UPDATE), '-crl_nextupdate', gen(NEXT_UPDATE), '-out', 'openssl.pem'], { cwd: dir });
    const ours = child(['pipeline', dataDir, db, 'pref-13']);
    if (Number(ours.json.entries) !== n) throw new Error(`the pipeline wrote ${ours.json.entries} entries, not ${n}`);
    const oursS = Number(ours.json.ms) / 1000;
    const generationRss = ours.json.generationPeakRssKiB === undefined ? undefined : Number(ours.json.generationPeakRssKiB) / 1024;
    console.log(
      `(CRL of ${(Number(ours.json.bytes) / 2 ** 20).toFixed(1)} MiB. "generate" is the call alone, its peak RSS the process's from just before it; ` +
        `the whole child adds Node + tsx start-up and opening the store and the key store, whose scrypt takes 128 MiB for a moment)\n`,
    );
    table([
      ['job', 'time', 'peak RSS', 'time vs OpenSSL', 'RSS vs OpenSSL'],
      ['openssl ca -gencrl (index.txt → CRL file)', fmtS(ossl.wallS), fmtMiB(ossl.rssMiB), '1.00×', '1.00×'],
      [`CrlPublisher.generate on ${store}: store → stream → encoder → sign → store (target ≤ 30 % of OpenSSL)`, fmtS(oursS), fmtMiB(generationRss), ratio(oursS, ossl.wallS), ratio(generationRss, ossl.rssMiB)],
      ['the same, whole child process', fmtS(ours.wallS), fmtMiB(ours.rssMiB), ratio(ours.wallS, ossl.wallS), ratio(ours.rssMiB, ossl.rssMiB)],
    ]);
  } finally {
    if (store === 'postgres') {
      const { PostgresDatabase } = await import('../src/store/postgres.js');
      const pgdb = await PostgresDatabase.open(pgUrl);
      await pgdb.dropSchema();
      await pgdb.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `npm run bench -- crl-pipeline`: the 1 M-entry CRL through the service on SQLite and on PostgreSQL. */
export async function pipelineBench(): Promise<void> {
  const n = Number(process.env.BENCH_CRL_PIPELINE ?? 1_000_000);
  for (const store of (process.env.BENCH_STORES ?? 'sqlite,postgres').split(',') as ('sqlite' | 'postgres')[]) await crlPipelineBench(n, store);
}
