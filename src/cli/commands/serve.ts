import type { Command } from 'commander';
import { isIP } from 'node:net';
import { JpkiError } from '../../common/errors.js';
import { buildApp } from '../../server/app.js';
import { DEFAULT_LIMITS } from '../../server/limits.js';
import { ensureDataDir, readConfig, writeConfig } from '../../compose/data-dir.js';
import { globalOptions } from '../global-options.js';
import { openServices } from '../../compose/services.js';
import { print } from '../output.js';
import { initialize } from './init.js';
import { printDemo, seedDemoInstallation } from './counter.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service over HTTP (initialises an empty data directory first)')
    .option('--port <port>', 'TCP port', process.env.JPKI_PORT ?? '8080')
    .option('--host <host>', 'listen address', process.env.JPKI_HOST ?? '127.0.0.1')
    .option('--public-url <url>', 'public base URL written into certificates (env JPKI_PUBLIC_URL)')
    .option('--key-algorithm <alg>', 'CA key algorithm when initialising', 'rsa2048')
    .option('--no-demo', 'do not seed the demo resident register on an empty data directory')
    .option('--ocsp-presign <mode>', 'OCSP responses: on-demand (signed on first request) or all (every certificate signed ahead)', 'on-demand')
    .option('--max-connections <n>', 'connections held at once; more are dropped at accept', String(DEFAULT_LIMITS.maxConnections))
    .option(
      '--trust-proxy <proxies>',
      'believe X-Forwarded-Proto/-For from these reverse proxies: addresses or CIDRs (comma-separated), loopback, or all; behind a TLS proxy the session cookie is then Secure (env JPKI_TRUST_PROXY)',
      process.env.JPKI_TRUST_PROXY,
    )
    .action(async (o: { port: string; host: string; publicUrl?: string; keyAlgorithm: string; demo: boolean; ocspPresign: string; maxConnections: string; trustProxy?: string }, cmd: Command) => {
      const g = globalOptions(cmd);
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--port ${o.port} is not a TCP port`);
      if (o.ocspPresign !== 'on-demand' && o.ocspPresign !== 'all')
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--ocsp-presign ${JSON.stringify(o.ocspPresign)}: use on-demand or all`);
      const maxConnections = Number(o.maxConnections);
      if (!Number.isInteger(maxConnections) || maxConnections < 1)
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--max-connections ${JSON.stringify(o.maxConnections)} is not a positive whole number`);
      const trustProxy = o.trustProxy === undefined || o.trustProxy === '' ? false : parseTrustProxy(o.trustProxy);
      if (o.publicUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(o.publicUrl))
        throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--public-url ${JSON.stringify(o.publicUrl)} is not an http(s) URL`);
      ensureDataDir(g.dataDir);
      // With no public URL configured anywhere, certificates point at this server itself.
      const saved = readConfig(g.dataDir);
      const listenHost = o.host === '0.0.0.0' || o.host === '::' ? '127.0.0.1' : o.host;
      const publicUrl =
        o.publicUrl ?? (process.env.JPKI_PUBLIC_URL || saved?.publicUrl || port === 0 ? undefined : `http://${listenHost.includes(':') ? `[${listenHost}]` : listenHost}:${port}`);
      const services = await openServices(g, { ...(saved ? { config: saved } : {}), ...(publicUrl ? { publicUrl } : {}) });
      let app;
      try {
        // a new installation remembers its public URL, so later `jpki ca issue` runs write the same one
        if (!saved) writeConfig(g.dataDir, { ...services.config, ...(publicUrl ? { publicUrl } : {}) });
        if (!(await services.ca.isInitialized())) {
          print(`empty data directory ${g.dataDir}: initialising`);
          await initialize(services, o.keyAlgorithm, 'system');
        }
        // the demo register and counter (docs/counter.md), only into an empty register
        if (o.demo) {
          const seed = await seedDemoInstallation(services);
          if (seed) printDemo(seed);
        }
        // CRLs on schedule and after revocations; its first pass publishes whatever is missing before the
        // port opens, since the HTTP edge only ever serves stored CRLs
        await services.crlUpdater.start();
        app = await buildApp(services, { limits: { maxConnections }, trustProxy });
        await app.listen({ port, host: o.host });
        // the OCSP jobs: responder renewal and pre-signing
        services.ocsp.startUpdater({ presign: o.ocspPresign });
      } catch (e) {
        await app?.close();
        await services.close();
        throw e;
      }
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : port;
      print(`jpki listening on http://${o.host}:${actual} (public URL ${services.publicUrl}, store ${services.store.db.description})`);
      const stop = async () => {
        await app.close();
        await services.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
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
