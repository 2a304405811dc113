import type { Command } from 'commander';
import { createServer, isIP } from 'node:net';
import { JpkiError } from '../../common/errors.js';
import { DEFAULT_LIMITS } from '../../server/limits.js';
import { globalOptions } from '../global-options.js';
import { print } from '../output.js';
import { KEY_ALGORITHMS } from './init.js';
import type { Services } from '../../compose/services.js';

/**
 * Claims the port for a moment, before anything is initialised: a taken port is said at once (not after the
 * first start's key generation), and port 0 becomes the port the system chose, so the URLs written into
 * certificates name the port the server really listens on.
 */
export async function claimPort(host: string, port: number): Promise<number> {
  const server = createServer();
  try {
    return await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host, exclusive: true }, () => resolve((server.address() as { port: number }).port));
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE')
      throw new JpkiError('SERVE_PORT_IN_USE', 'unavailable', `port ${port} on ${host} is already in use (another jpki serve?): choose another with --port N or PORT=N`, { port, host });
    if (code === 'EACCES') throw new JpkiError('SERVE_PORT_REFUSED', 'unavailable', `may not listen on port ${port} of ${host} (ports below 1024 need privileges): use --port N`, { port, host });
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new JpkiError('SERVE_HOST_INVALID', 'malformed', `--host ${host} is not an address of this machine`, { host });
    throw e;
  } finally {
    if (server.listening) await new Promise((r) => server.close(r));
  }
}

/** How to reach the counter terminal and log in, said on every start (not only the first). */
async function counterLines(s: Services, base: string): Promise<string[]> {
  const [{ DEMO_OPERATORS, DEMO_PASSWORD, verifyPassword }] = await Promise.all([import('../../counter/index.js')]);
  const lines = [`counter terminal: ${base}/counter`];
  const operators = await s.counter.operators.list();
  if (operators.length === 0) return [...lines, '  no operator yet: add one with `jpki operator add --municipality 13103 --name NAME --role supervisor`'];
  const demo = operators.filter((o) => DEMO_OPERATORS.some((d) => d.name === o.name));
  const first = demo[0] && (await s.counter.operators.byName(demo[0].name));
  if (first && (await verifyPassword(DEMO_PASSWORD, first.passwordHash)))
    return [...lines, `  log in as a demo operator: ${demo.map((o) => `${o.name} (${o.municipalityName}, ${o.role})`).join(', ')}`, `  demo password: ${DEMO_PASSWORD}`];
  return [...lines, `  log in with an operator account: ${operators.length} operator(s), see \`jpki operator list\`; \`jpki operator add\` adds one`];
}

/** Revokes or closes ledger reservations past their deadline, once a minute (docs/ca.md). */
function startLedgerSweeper(services: Services): void {
  const sweep = () =>
    void services.ca.sweep().catch((e: unknown) => process.stderr.write(`jpki: ledger sweeper: ${(e as Error).message}\n`));
  sweep();
  setInterval(sweep, 60_000).unref();
}

/** Set when the first process is shutting down: its workers' exits are expected then. */
let stopping = false;

/**
 * `--workers N`: forks N processes that share the port (node's cluster module: the first process accepts
 * and hands connections round-robin). Each opens the installation itself — on PostgreSQL several processes
 * on one database are the normal case; SQLite in WAL mode takes several processes too. A worker that dies
 * is replaced. Resolves once every worker listens.
 */
async function startWorkers(cluster: typeof import('node:cluster').default, n: number, port: number, publicUrl: string): Promise<void> {
  cluster.setupPrimary({ execArgv: workerExecArgv(process.execArgv, process.env.NODE_OPTIONS) });
  // the workers write the same URLs into certificates as this process would
  const fork = () => cluster.fork({ JPKI_WORKER_PORT: String(port), JPKI_WORKER_PUBLIC_URL: publicUrl });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    process.stderr.write(`jpki: worker ${worker.process.pid} ended (${signal ?? code}); starting another\n`);
    fork();
  });
  await Promise.all(
    Array.from({ length: n }, () => {
      const w = fork();
      return new Promise<void>((resolve, reject) => {
        w.once('listening', () => resolve());
        w.once('exit', (code) => reject(new JpkiError('SERVE_WORKER_FAILED', 'internal', `a worker process ended before it listened (exit ${code})`)));
      });
    }),
  );
}

/**
 * A worker's young generation: V8's semi-spaces grow to 16 MiB on 64-bit under a high allocation rate and
 * stay there, 32 MiB and more of resident memory per worker that is mostly empty. A worker allocates only
 * short-lived request garbage; at 8 MiB it answers OCSP as fast (issue 12, measured in turns: 30–40k/s
 * either way) and holds 20,000 cached responses in 1.4–1.8 × their bytes instead of 2.2–2.4 ×
 * (docs/ocsp.md). A size the operator chose (execArgv or NODE_OPTIONS) is kept.
 */
export function workerExecArgv(execArgv: readonly string[], nodeOptions: string | undefined): string[] {
  const chosen = [...execArgv, ...(nodeOptions ?? '').split(/\s+/)].some((a) => /^--max[-_]semi[-_]space[-_]size\b/.test(a));
  return chosen ? [...execArgv] : [...execArgv, `--max-semi-space-size=${WORKER_SEMI_SPACE_MIB}`];
}

const WORKER_SEMI_SPACE_MIB = 8;

/** One worker of `--workers N`: the HTTP edge over its own connection to the installation. */
async function serveWorker(g: ReturnType<typeof globalOptions>, o: { host: string; maxConnections: string; trustProxy?: string; readDb?: string }, port: number): Promise<void> {
  const [{ openServices }, { buildApp }, { readConfig }] = await Promise.all([import('../../compose/services.js'), import('../../server/app.js'), import('../../compose/data-dir.js')]);
  const publicUrl = process.env.JPKI_WORKER_PUBLIC_URL;
  const services = await openServices(g, { config: readConfig(g.dataDir), ...(publicUrl ? { publicUrl } : {}), ...(o.readDb ? { readDatabaseUrl: o.readDb } : {}) });
  const trustProxy = o.trustProxy === undefined || o.trustProxy === '' ? false : parseTrustProxy(o.trustProxy);
  const app = await buildApp(services, { limits: { maxConnections: Number(o.maxConnections) }, trustProxy });
  await app.listen({ port, host: o.host });
  const stop = async () => {
    await app.close();
    await services.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  process.once('disconnect', () => void stop());
}

/** The prefectures whose CAs a first start makes before its port opens: Tokyo, home of the demo's counter (港区, 13103). */
const FIRST_PREFECTURES = ['13'];

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service over HTTP (initialises an empty data directory first)')
    .option('--port <port>', 'TCP port (env PORT)', process.env.PORT ?? '8080')
    .option('--host <host>', 'listen address', process.env.JPKI_HOST ?? '127.0.0.1')
    .option('--public-url <url>', 'public base URL written into certificates (env JPKI_PUBLIC_URL; default: the address the server listens on); saved only when given')
    .option('--key-algorithm <alg>', `CA key algorithm when initialising: ${KEY_ALGORITHMS.join(', ')}`, 'rsa2048')
    .option('--no-demo', 'do not seed the demo resident register on an empty data directory')
    .option('--ocsp-presign <mode>', 'OCSP responses: on-demand (signed on first request) or all (every certificate signed ahead)', 'on-demand')
    .option('--workers <n>', 'HTTP worker processes sharing the port (node cluster; 1 = this process serves); the background jobs run once, in the first process', process.env.JPKI_WORKERS ?? '1')
    .option('--read-db <url>', 'a PostgreSQL streaming replica to serve OCSP and CRL reads from (env JPKI_READ_DB); writes still go to --db', process.env.JPKI_READ_DB)
    .option('--max-connections <n>', 'connections held at once; more are dropped at accept', String(DEFAULT_LIMITS.maxConnections))
    .option(
      '--trust-proxy <proxies>',
      'believe X-Forwarded-Proto/-For from these reverse proxies: addresses or CIDRs (comma-separated), loopback, or all; behind a TLS proxy the session cookie is then Secure (env JPKI_TRUST_PROXY)',
      process.env.JPKI_TRUST_PROXY,
    )
    .action(async (o: { port: string; host: string; publicUrl?: string; keyAlgorithm: string; demo: boolean; ocspPresign: string; maxConnections: string; trustProxy?: string; workers: string; readDb?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const workers = Number(o.workers);
      if (!/^\d+$/.test(o.workers) || workers < 1 || workers > 64)
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--workers ${JSON.stringify(o.workers)}: give a whole number of processes from 1 to 64`);
      const cluster = (await import('node:cluster')).default;
      // a worker of `--workers N`: serve HTTP on the port the first process claimed; no jobs, no initialising
      if (cluster.isWorker) return serveWorker(g, o, Number(process.env.JPKI_WORKER_PORT));
      const port = Number(o.port);
      if (!/^\d+$/.test(o.port) || port > 65535) throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--port ${o.port} is not a TCP port (0–65535)`);
      if (o.ocspPresign !== 'on-demand' && o.ocspPresign !== 'all')
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--ocsp-presign ${JSON.stringify(o.ocspPresign)}: use on-demand or all`);
      const maxConnections = Number(o.maxConnections);
      if (!Number.isInteger(maxConnections) || maxConnections < 1)
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--max-connections ${JSON.stringify(o.maxConnections)} is not a positive whole number`);
      const trustProxy = o.trustProxy === undefined || o.trustProxy === '' ? false : parseTrustProxy(o.trustProxy);
      if (o.publicUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(o.publicUrl))
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--public-url ${JSON.stringify(o.publicUrl)} is not an http(s) URL`);
      // before anything is created or started: a taken port fails now, and nothing is saved
      const actualPort = await claimPort(o.host, port);
      const { completeHierarchy, initialize, keyPairsAheadOfFirstStart } = await import('./init.js');
      // a first start: the CA key pairs are generated while the rest loads
      const ahead = await keyPairsAheadOfFirstStart(g, o.keyAlgorithm);
      const [{ dataDirExists, readConfig, writeConfig }, { openServices }, { buildApp }, { printDemo, seedDemoInstallation }] = await Promise.all([
        import('../../compose/data-dir.js'),
        import('../../compose/services.js'),
        import('../../server/app.js'),
        import('./counter.js'),
      ]);
      const saved = dataDirExists(g.dataDir) ? readConfig(g.dataDir) : undefined;
      const listenHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
      const ownAddress = `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${actualPort}`;
      // With no public URL given or saved, certificates point at this server itself, as it listens now.
      const publicUrl = o.publicUrl ?? (process.env.JPKI_PUBLIC_URL || saved?.publicUrl ? undefined : ownAddress);
      const readDb = o.readDb ? { readDatabaseUrl: o.readDb } : {};
      const services = await openServices(g, { create: true, ...(saved ? { config: saved } : {}), ...(publicUrl ? { publicUrl } : {}), ...readDb, ...(ahead ? { keyPairsAhead: ahead } : {}) });
      let app: Awaited<ReturnType<typeof buildApp>> | undefined;
      // The routes need no CA: on a first start they are put together while the key pairs are generated.
      const building = workers === 1 ? buildApp(services, { limits: { maxConnections }, trustProxy }) : undefined;
      building?.catch(() => undefined); // its failure is thrown where it is awaited
      let seeding: ReturnType<typeof seedDemoInstallation> | undefined;
      let counter: Promise<string[]> | undefined;
      try {
        const initializing = !(await services.ca.isInitialized());
        if (initializing) print(`empty data directory ${g.dataDir}: initialising`);
        // the demo register and counter (docs/counter.md), only into an empty register; they need no CA, so a
        // first start seeds them while the key pairs are generated
        seeding = o.demo ? seedDemoInstallation(services) : undefined;
        seeding?.catch(() => undefined); // its failure is thrown where it is awaited
        // how to log in (a demo password is checked against its hash: scrypt, ~0.15 s) is found out meanwhile too
        counter = (seeding ?? Promise.resolve()).then(() => counterLines(services, ownAddress));
        counter.catch(() => undefined); // its failure is thrown where it is awaited
        // A first start makes the bridges, the agency and Tokyo's CA before the port opens, and the other 46
        // prefectural CAs once it is open (issue 11: serving within 5 s of a first start; a request for a
        // prefecture not made yet waits for it, made next). With worker processes, all before they start.
        if (initializing) await initialize(services, o.keyAlgorithm, 'system', FIRST_PREFECTURES);
        if (workers > 1) await completeHierarchy(services, 'system');
        // a new installation remembers its database, and its public URL only when one was given
        if (!saved)
          writeConfig(g.dataDir, {
            kms: services.config.kms,
            ...(g.databaseUrlExplicit ? { databaseUrl: g.databaseUrl } : {}),
            ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}),
          });
        const seed = await seeding;
        if (seed) printDemo(seed);
        // CRLs on schedule and after revocations; its first pass publishes whatever is missing before the
        // port opens, since the HTTP edge only ever serves stored CRLs
        await services.crlUpdater.start();
        if (building) {
          app = await building;
          await app.listen({ port: actualPort, host: o.host });
        } else await startWorkers(cluster, workers, actualPort, services.publicUrl);
        // the OCSP jobs: responder renewal and pre-signing
        services.ocsp.startUpdater({ presign: o.ocspPresign });
        // the CA side: the register's change events, the ledger's sweeper, signed audit checkpoints
        services.registerEvents.start();
        startLedgerSweeper(services);
        services.audit.start(60_000, (e) => process.stderr.write(`jpki: audit checkpoint: ${(e as Error).message}\n`));
        for (const line of await counter) print(line);
      } catch (e) {
        await (app ?? (await building?.catch(() => undefined)))?.close();
        ahead?.discard();
        await Promise.allSettled([seeding, counter]); // not closed under their feet
        await services.close();
        throw e;
      }
      let completing: Promise<unknown> = Promise.resolve();
      const stop = async () => {
        stopping = true;
        if (workers > 1) await new Promise<void>((r) => cluster.disconnect(() => r()));
        await app?.close();
        await services.ca.stopCompleting();
        await completing;
        await services.audit.checkpoint().catch(() => undefined);
        await services.close();
        process.exit(0);
      };
      // before the line that says it listens: whoever waits for that line may stop it at once
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
      print(`jpki listening on ${ownAddress} (public URL ${services.publicUrl}, store ${services.store.db.description}${workers > 1 ? `, ${workers} worker processes` : ''})`);
      // the prefectural CAs promised and not made yet (a first start, or one stopped early), while serving
      completing = completeHierarchy(services, 'system', true)
        .catch((e) => process.stderr.write(`jpki: creating the remaining prefectural CAs: ${(e as Error).message}\n`))
        .finally(() => ahead?.discard());
    });
}

/**
 * --trust-proxy: "all" (any peer), or the addresses/CIDRs/names (loopback, linklocal, uniquelocal) of the
 * proxies. No hop counts: they cannot check the immediate peer, so a direct client could forge the headers.
 */
export function parseTrustProxy(text: string): boolean | string {
  const v = text.trim();
  if (v === 'all' || v === 'true') return true;
  const parts = v.split(',').map((p) => p.trim());
  const ok = (p: string) => {
    if (/^(loopback|linklocal|uniquelocal)$/.test(p)) return true;
    const [address, prefix, ...rest] = p.split('/');
    return rest.length === 0 && isIP(address ?? '') !== 0 && (prefix === undefined || /^\d{1,3}$/.test(prefix));
  };
  if (!parts.length || !parts.every(ok))
    throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--trust-proxy ${JSON.stringify(text)}: give all or the proxies' addresses/CIDRs (e.g. 127.0.0.1,10.0.0.0/8)`);
  return parts.join(',');
}
