import type { Command } from 'commander';
import { JpkiError } from '../../common/errors.js';
import { buildApp } from '../../server/app.js';
import { ensureDataDir, readConfig, writeConfig } from '../data-dir.js';
import { globalOptions } from '../global-options.js';
import { openServices } from '../services.js';
import { print } from '../output.js';
import { initialize } from './init.js';

export function registerServe(program: Command): void {
  program
    .command('serve')
    .description('run the service over HTTP (initialises an empty data directory first)')
    .option('--port <port>', 'TCP port', process.env.JPKI_PORT ?? '8080')
    .option('--host <host>', 'listen address', process.env.JPKI_HOST ?? '127.0.0.1')
    .option('--public-url <url>', 'public base URL written into certificates (env JPKI_PUBLIC_URL)')
    .option('--key-algorithm <alg>', 'CA key algorithm when initialising', 'rsa2048')
    .option('--no-demo', 'do not seed the demo resident register on an empty data directory')
    .action(async (o: { port: string; host: string; publicUrl?: string; keyAlgorithm: string; demo: boolean }, cmd: Command) => {
      const g = globalOptions(cmd);
      const port = Number(o.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new JpkiError('SERVE_OPTIONS_INVALID', 'malformed', `--port ${o.port} is not a TCP port`);
      ensureDataDir(g.dataDir);
      const services = await openServices(g, o.publicUrl ? { publicUrl: o.publicUrl } : {});
      let app;
      try {
        if (!readConfig(g.dataDir)) writeConfig(g.dataDir, services.config);
        if (!(await services.ca.isInitialized())) {
          print(`empty data directory ${g.dataDir}: initialising`);
          await initialize(services, o.keyAlgorithm, 'system');
        }
        app = await buildApp(services);
        await app.listen({ port, host: o.host });
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
