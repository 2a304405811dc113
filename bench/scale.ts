/**
 * National scale (`npm run bench -- scale [--certificates N] [--store postgres|sqlite]`, issue 12): a store
 * filled with N realistic certificate rows (and N/2 residents), measured at 0 and at N:
 *
 *  - issuance through the whole CA path (CSR, lint, ledger, RSA-2048 signature, audit), 16 in flight;
 *    target at N ≥ 80 % of the rate at 0; beside it the raw two-core signing rate measured right before and
 *    after (bench/measure.ts), so that a change of the machine's load between 0 and N can be told apart;
 *  - certificate status reads from the store, and OCSP answers with requests spread over every serial
 *    (cache misses: each answer is read from the store and signed on demand);
 *  - CRL generation per partition (municipality) through the real publisher;
 *  - register lookups: by record code, by id, by name within a municipality (the counter's search).
 *
 * The fill is a bulk path: on PostgreSQL one INSERT … SELECT over generate_series (the rows are made by the
 * server), on SQLite a recursive CTE. Rows are realistic: a real certificate's DER (its size matters for the
 * table and the cache), random serials (md5 of the row number on PostgreSQL, random blobs on SQLite), spread
 * over every municipality of the country (src/register/data/municipalities.csv) and their prefectures' CAs,
 * 3 % revoked, 5 years of issuance dates. On PostgreSQL the filled tables are vacuumed and checkpointed before
 * the figures at N. BENCH_SCALE_SECONDS (default 10) per measurement.
 */
import 'reflect-metadata';
import { randomInt } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openServices, type Services } from '../src/compose/services.js';
import { PREFECTURES } from '../src/pki/prefectures.js';
import { allMunicipalities } from '../src/register/index.js';
import { encodeCertId, encodeOcspRequest } from '../src/ocsp/index.js';
import { readCertificate } from '../src/pki/certificate-reader.js';
import { PostgresDatabase } from '../src/store/postgres.js';
import { asyncRate, markdownTable, rawRsaSignature } from './measure.js';
import { FACTS, makeCsrs } from './issuance-support.js';

const SECONDS = Number(process.env.BENCH_SCALE_SECONDS ?? 10);
const IN_FLIGHT = 16;
const POSTGRES_URL = process.env.JPKI_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

interface Figures {
  issuance: number;
  /** The raw two-core RSA-2048 signing rate measured right before and after the issuance figure. */
  rawBeside: number;
  statusReads: number;
  ocsp: number;
  crl: { partitions: number; meanMs: number; maxMs: number; meanEntries: number };
  lookupByCode: number;
  lookupById: number;
  searchByName: number;
  /** Residents a name search returned, mean (a page is 20). */
  searchPage: number;
}

const raw = rawRsaSignature();

async function measure(s: Services, csrs: Uint8Array[], label: string): Promise<Figures> {
  const sql = s.store.sql;
  const rate = (op: () => Promise<unknown>) => asyncRate(op, IN_FLIGHT, SECONDS * 1000);
  let i = 0;
  const [issuance, rawBeside] = await raw.bracketed(() =>
    rate(() => s.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: csrs[i++ % csrs.length]! }, facts: FACTS, municipality: '13103', actor: 'bench' })),
  );
  console.log(`${label}: issuance ${fmt(issuance)}/s (raw two-core signing beside it ${fmt(rawBeside)}/s)`);

  // serials spread over every row: random ids (AUTOID 1..max), their serials read in batches, each used once
  const max = Number((await sql.queryOne<{ n: number }>('SELECT MAX(id) AS n FROM certificates'))!.n);
  const seen = new Set<string>();
  const picks: { caId: string; serial: string }[] = [];
  for (let k = 0; k < 100 && picks.length < 60_000; k++) {
    const ids = Array.from({ length: 1000 }, () => 1 + randomInt(max));
    const rows = await sql.query<{ ca_id: string; serial: string; kind: string }>(`SELECT ca_id, serial, kind FROM certificates WHERE id IN (${ids.map(() => '?').join(', ')})`, ids);
    for (const r of rows)
      if ((r.kind === 'sign' || r.kind === 'auth') && !seen.has(`${r.ca_id}:${r.serial}`)) (seen.add(`${r.ca_id}:${r.serial}`), picks.push({ caId: r.ca_id, serial: r.serial }));
  }
  let p = 0;
  const statusReads = await rate(() => {
    const c = picks[p++ % picks.length]!;
    return s.ca.status(c.caId, c.serial);
  });
  const issuers = new Map<string, { subject: Buffer; spki: Buffer }>();
  for (const ca of await s.ca.list()) issuers.set(ca.id, { subject: Buffer.from(ca.subject), spki: Buffer.from(readCertificate(ca.certificate).subjectPublicKeyInfo) });
  // responders for every CA first (their certificates are made on first use), with serials not asked below
  const warm = new Set<number>();
  for (const ca of issuers.keys()) {
    const k = picks.findIndex((x) => x.caId === ca);
    if (k < 0) continue;
    warm.add(k);
    await s.ocsp.responder.respond(encodeOcspRequest([encodeCertId('sha1', issuers.get(ca)!, picks[k]!.serial)]));
  }
  // every request a certificate not asked before (a cache miss: read from the store, signed now), each once
  const requests = picks.filter((_, k) => !warm.has(k)).map((c) => encodeOcspRequest([encodeCertId('sha1', issuers.get(c.caId)!, c.serial)]));
  let q = 0;
  const t0 = performance.now();
  const deadline = t0 + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (q < requests.length && performance.now() < deadline) await s.ocsp.responder.respond(requests[q++]!);
    }),
  );
  const ocsp = (q * 1000) / (performance.now() - t0);
  console.log(`${label}: status reads ${fmt(statusReads)}/s, OCSP (cache misses, signed on demand) ${fmt(ocsp)}/s, ${fmt(q)} distinct certificates asked once each`);

  // CRLs per partition: a sample of municipalities of Tokyo's and Hokkaido's CAs
  const parts = [...allMunicipalities().filter((m) => m.prefecture === '13').slice(0, 6), ...allMunicipalities().filter((m) => m.prefecture === '01').slice(0, 4)];
  const times: number[] = [];
  let entries = 0;
  for (const m of parts) {
    const t0 = performance.now();
    const crl = await s.crls.generate(`pref-${m.prefecture}`, { type: 'partition', municipality: m.code }, 'bench');
    times.push(performance.now() - t0);
    entries += Number(crl.entries);
  }
  const crl = { partitions: parts.length, meanMs: times.reduce((a, b) => a + b, 0) / times.length, maxMs: Math.max(...times), meanEntries: entries / parts.length };
  console.log(`${label}: partition CRL ${crl.meanMs.toFixed(0)} ms mean (${crl.maxMs.toFixed(0)} max), ${crl.meanEntries.toFixed(0)} entries mean`);

  // register lookups
  const residents = await sql.query<{ id: string; record_code: string; municipality: string; name: string }>(
    `SELECT id, record_code, municipality, name FROM residents WHERE id IN (${Array.from({ length: 500 }, () => '?').join(', ')})`,
    Array.from({ length: 500 }, () => `R${String(1 + randomInt(Math.max(1, Math.floor(max / 2)))).padStart(10, '0')}`),
  );
  if (residents.length === 0) residents.push(...(await sql.query<{ id: string; record_code: string; municipality: string; name: string }>('SELECT id, record_code, municipality, name FROM residents LIMIT 500')));
  let r = 0;
  const pick = () => residents[r++ % residents.length]!;
  const lookupByCode = residents.length ? await rate(() => s.register.search({ text: pick().record_code, limit: 5 })) : 0;
  const lookupById = residents.length ? await rate(() => s.register.get(pick().id)) : 0;
  // the counter's search: part of the name every resident of the bench has (住民), a page of 20
  let searches = 0;
  let found = 0;
  const searchByName = residents.length
    ? await rate(async () => {
        const x = pick();
        const page = await s.register.search({ municipality: x.municipality, text: x.name.slice(0, 3), limit: 20 });
        found += page.length; // after the await: 16 searches are in flight
        searches++;
      })
    : 0;
  const searchPage = found / Math.max(1, searches);
  console.log(`${label}: register by record code ${fmt(lookupByCode)}/s, by id ${fmt(lookupById)}/s, by name in a municipality ${fmt(searchByName)}/s (${searchPage.toFixed(1)} residents a page)`);
  return { issuance, rawBeside, statusReads, ocsp, crl, lookupByCode, lookupById, searchByName, searchPage };
}

/**
 * N certificate rows and N/2 residents, made by the database itself. The residents go round the first
 * `residentSpread` municipalities (default: all of them).
 */
async function fill(s: Services, first: number, n: number, der: Buffer, residentSpread?: number): Promise<void> {
  const sql = s.store.sql;
  const ms = allMunicipalities();
  const values = ms.map((m, k) => `(${k}, '${m.code}', 'pref-${m.prefecture}', '${m.prefecture}')`).join(', ');
  const spread = residentSpread ?? ms.length;
  const now = Date.now();
  const year = 365 * 86400_000;
  const chunk = 500_000;
  const t0 = performance.now();
  // PostgreSQL's bulk-load path: the secondary indexes and unique constraints of the two tables go while the
  // rows are written and are built again afterwards by sorting (random serials inserted into a B-tree larger
  // than memory one by one turn the fill into random I/O: measured at under 1,000 rows/s beyond 2 M rows)
  const rebuild: string[] = [];
  if (sql.dialect === 'postgres' && n - first > 100_000) {
    for (const table of ['certificates', 'residents']) {
      for (const c of await sql.query<{ name: string; def: string }>(
        "SELECT conname AS name, pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conrelid = (current_schema() || '.' || ?)::regclass AND contype = 'u'",
        [table],
      )) {
        await sql.execute(`ALTER TABLE ${table} DROP CONSTRAINT ${c.name}`);
        rebuild.push(`ALTER TABLE ${table} ADD CONSTRAINT ${c.name} ${c.def}`);
      }
      for (const ix of await sql.query<{ name: string; def: string }>(
        "SELECT indexname AS name, indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname NOT LIKE '%_pkey'",
        [table],
      )) {
        await sql.execute(`DROP INDEX ${ix.name}`);
        rebuild.push(ix.def);
      }
    }
  }
  for (let from = first; from <= n; from += chunk) {
    const to = Math.min(n, from + chunk - 1);
    await s.store.transaction(async (tx) => {
      if (sql.dialect === 'postgres') {
        await tx.sql.execute(
          `INSERT INTO certificates (ca_id, serial, kind, resident_id, card_id, crl_partition, not_before, not_after, issued_at, der, revoked_at, revocation_reason)
           SELECT m.ca_id, md5('c' || g), CASE WHEN g % 2 = 0 THEN 'sign' ELSE 'auth' END, 'R' || lpad((g / 2 + 1)::text, 10, '0'), 'C' || lpad((g / 2 + 1)::text, 12, '0'), m.code,
                  ${now} - (g % 1826) * 86400000::bigint, ${now} - (g % 1826) * 86400000::bigint + ${5 * year}, ${now} - (g % 1826) * 86400000::bigint, ?,
                  CASE WHEN g % 33 = 0 THEN ${now} - (g % 1000) * 60000::bigint END, CASE WHEN g % 33 = 0 THEN (g / 33) % 6 END
           FROM generate_series(${from}::bigint, ${to}::bigint) g JOIN (VALUES ${values}) AS m(k, code, ca_id, pref) ON m.k = g % ${ms.length}`,
          [der],
        );
        await tx.sql.execute(
            `INSERT INTO residents (id, record_code, name, name_substitute, address, address_substitute, date_of_birth, sex, municipality, prefecture, status, version, registered_at, updated_at)
             SELECT 'R' || lpad(g::text, 10, '0'), lpad(g::text, 11, '0'), '住民　' || g, '0000000000', '住所' || g, '0000000000', '1980-01-01', '1', m.code, m.pref, 'registered', 1, ${now}, ${now}
             FROM generate_series(${Math.ceil(from / 2)}::bigint, ${Math.floor(to / 2)}::bigint) g JOIN (VALUES ${values}) AS m(k, code, ca_id, pref) ON m.k = g % ${spread}`,
          );
      } else {
        await tx.sql.execute(
          `WITH RECURSIVE seq(g) AS (SELECT ${from} UNION ALL SELECT g + 1 FROM seq WHERE g < ${to}), m(k, code, ca_id, pref) AS (VALUES ${values})
           INSERT INTO certificates (ca_id, serial, kind, resident_id, card_id, crl_partition, not_before, not_after, issued_at, der, revoked_at, revocation_reason)
           SELECT m.ca_id, lower(hex(randomblob(16))), CASE WHEN g % 2 = 0 THEN 'sign' ELSE 'auth' END, printf('R%010d', g / 2 + 1), printf('C%012d', g / 2 + 1), m.code,
                  ${now} - (g % 1826) * 86400000, ${now} - (g % 1826) * 86400000 + ${5 * year}, ${now} - (g % 1826) * 86400000, ?,
                  CASE WHEN g % 33 = 0 THEN ${now} - (g % 1000) * 60000 END, CASE WHEN g % 33 = 0 THEN (g / 33) % 6 END
           FROM seq JOIN m ON m.k = g % ${ms.length}`,
          [der],
        );
        await tx.sql.execute(
          `WITH RECURSIVE seq(g) AS (SELECT ${Math.ceil(from / 2)} UNION ALL SELECT g + 1 FROM seq WHERE g < ${Math.floor(to / 2)}), m(k, code, ca_id, pref) AS (VALUES ${values})
           INSERT INTO residents (id, record_code, name, name_substitute, address, address_substitute, date_of_birth, sex, municipality, prefecture, status, version, registered_at, updated_at)
           SELECT printf('R%010d', g), printf('%011d', g), '住民　' || g, '0000000000', '住所' || g, '0000000000', '1980-01-01', '1', m.code, m.pref, 'registered', 1, ${now}, ${now}
           FROM seq JOIN m ON m.k = g % ${spread}`,
        );
      }
    });
    const s2 = (performance.now() - t0) / 1000;
    process.stdout.write(`\rfilled ${fmt(to)} / ${fmt(n)} certificates in ${s2.toFixed(0)} s (${fmt(to / s2)}/s)   `);
  }
  process.stdout.write('\n');
  for (const statement of rebuild) {
    const t1 = performance.now();
    await sql.execute(statement);
    console.log(`rebuilt in ${((performance.now() - t1) / 1000).toFixed(0)} s: ${statement.slice(0, 90)}`);
  }
  // What a running deployment's tables look like, not the minutes after a bulk load: autovacuum has been
  // through the new rows (hint bits, visibility map) and the load's dirty pages are written out, so that the
  // figures at N measure the size of the tables, not a checkpoint and a vacuum running beside them.
  const db = s.store.db;
  if (db instanceof PostgresDatabase) {
    const t1 = performance.now();
    await db.exec('VACUUM (ANALYZE) certificates, residents'); // outside a transaction, as VACUUM must be
    await db.exec('CHECKPOINT');
    console.log(`vacuumed and checkpointed in ${((performance.now() - t1) / 1000).toFixed(0)} s`);
  } else await sql.execute('ANALYZE');
}

export async function bench(): Promise<void> {
  const n = Number(option('certificates', '100000'));
  const kind = option('store', 'postgres');
  const dir = mkdtempSync(join(tmpdir(), 'jpki-bench-scale-'));
  const url = kind === 'postgres' ? `${POSTGRES_URL}?schema=bench_scale_${process.pid}` : join(dir, 'jpki.sqlite');
  const s = await openServices({ dataDir: dir, databaseUrl: url, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
  try {
    console.log(`${kind}, ${fmt(n)} certificates, ${SECONDS} s per measurement, ${IN_FLIGHT} in flight`);
    await s.ca.initialize({ keySpec: { type: 'RSA', bits: 2048 }, prefectures: PREFECTURES, actor: 'bench' });
    const csrs = await makeCsrs(256);
    // "0": an empty store but for 1,000 rows and 500 residents, so that there is something to look up; the
    // residents live in 25 municipalities, 20 in each, so that a name search returns a page of 20 at 0 as at N
    const sample = Buffer.from((await s.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: csrs[0]! }, facts: FACTS, municipality: '13103', actor: 'bench' })).der);
    await fill(s, 1, 1000, sample, 25);
    await asyncRate(() => s.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: csrs[1]! }, facts: FACTS, municipality: '13103', actor: 'bench' }), IN_FLIGHT, SECONDS * 1000); // warm-up
    const at0 = await measure(s, csrs, 'at 0');
    await fill(s, 1001, n, sample);
    const atN = await measure(s, csrs, `at ${fmt(n)}`);
    const size =
      kind === 'postgres'
        ? Number((await s.store.sql.queryOne<{ b: number }>("SELECT pg_total_relation_size('certificates') + pg_total_relation_size('residents') AS b"))!.b)
        : Number((await s.store.sql.queryOne<{ b: number }>('SELECT page_count * page_size AS b FROM pragma_page_count(), pragma_page_size()'))!.b);
    console.log(`\n${kind}: ${fmt(n)} certificate rows (${sample.length}-byte DER each) and ${fmt(n / 2)} residents take ${(size / 2 ** 30).toFixed(1)} GiB\n`);
    const pct = (a: number, b: number) => `${((100 * a) / b).toFixed(0)} %`;
    markdownTable([
      ['', 'at 0', `at ${fmt(n)}`, 'at N ÷ at 0', 'target'],
      ['issuance, 16 in flight (/s)', fmt(at0.issuance), fmt(atN.issuance), pct(atN.issuance, at0.issuance), '≥ 80 %'],
      ['raw two-core RSA-2048 signing beside it (/s)', fmt(at0.rawBeside), fmt(atN.rawBeside), pct(atN.rawBeside, at0.rawBeside), ''],
      [
        'issuance ÷ the raw rate beside it (the load of the machine taken out)',
        pct(at0.issuance, at0.rawBeside),
        pct(atN.issuance, atN.rawBeside),
        pct(atN.issuance / atN.rawBeside, at0.issuance / at0.rawBeside),
        '≥ 80 %',
      ],
      ['certificate status reads from the store (/s)', fmt(at0.statusReads), fmt(atN.statusReads), pct(atN.statusReads, at0.statusReads), ''],
      ['OCSP, every request a cache miss, signed on demand (/s)', fmt(at0.ocsp), fmt(atN.ocsp), pct(atN.ocsp, at0.ocsp), ''],
      ['partition CRL, mean of 10 (ms)', at0.crl.meanMs.toFixed(0), atN.crl.meanMs.toFixed(0), '', ''],
      ['partition CRL entries, mean', at0.crl.meanEntries.toFixed(0), atN.crl.meanEntries.toFixed(0), '', ''],
      ['register lookup by record code (/s)', fmt(at0.lookupByCode), fmt(atN.lookupByCode), pct(atN.lookupByCode, at0.lookupByCode || 1), ''],
      ['register lookup by id (/s)', fmt(at0.lookupById), fmt(atN.lookupById), pct(atN.lookupById, at0.lookupById || 1), ''],
      ['register search by name in a municipality, a page of 20 (/s)', fmt(at0.searchByName), fmt(atN.searchByName), pct(atN.searchByName, at0.searchByName || 1), ''],
      ['residents in a search page, mean', at0.searchPage.toFixed(1), atN.searchPage.toFixed(1), '', ''],
    ]);
  } finally {
    await s.close();
    if (kind === 'postgres' && !process.env.BENCH_SCALE_KEEP) {
      // BENCH_SCALE_KEEP=1 keeps the filled schema (bench_scale_<pid>) for a look afterwards
      const db = await PostgresDatabase.open(url);
      await db.dropSchema();
      await db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
