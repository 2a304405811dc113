import type { Command } from 'commander';
import { globalOptions } from '../global-options.js';
import { print, printJson } from '../output.js';

/** `jpki backup OUT`: a consistent snapshot of the installation while it runs (src/compose/backup.ts). */
export function registerBackup(program: Command): void {
  program
    .command('backup')
    .description('a consistent snapshot of the installation (database: certificates, residents, settings, audit; data directory: keys, configuration), taken while the service runs')
    .argument('<out>', 'a new (or empty) folder for the backup')
    .option('--json', 'machine-readable output')
    .action(async (out: string, o: { json?: boolean }, cmd: Command) => {
      const { backupInstallation } = await import('../../compose/backup.js');
      const started = Date.now();
      const r = await backupInstallation(globalOptions(cmd), out);
      if (o.json) return printJson({ ...r.manifest, bytes: r.bytes });
      const rows = r.manifest.database.tables.reduce((n, t) => n + t.rows, 0);
      print(`backup of ${r.manifest.database.dialect} written to ${out}: ${r.manifest.database.tables.length} tables, ${rows} rows, ${Object.keys(r.manifest.files).length} files, ${(r.bytes / 1048576).toFixed(1)} MiB in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const n of r.manifest.notes) print(`note: ${n}`);
    });
}

/** `jpki restore IN`: a backup into a new data directory (and a new, empty database with --db). */
export function registerRestore(program: Command): void {
  program
    .command('restore')
    .description('restore a backup into a new data directory (--data) and an empty database (--db, SQLite or PostgreSQL, either way)')
    .argument('<in>', 'the backup folder (jpki backup)')
    .option('--json', 'machine-readable output')
    .action(async (from: string, o: { json?: boolean }, cmd: Command) => {
      const { restoreInstallation } = await import('../../compose/backup.js');
      const started = Date.now();
      const r = await restoreInstallation(globalOptions(cmd), from);
      if (o.json) return printJson({ tables: r.tables, databaseUrl: r.databaseUrl, createdAt: r.manifest.createdAt });
      const rows = Object.values(r.tables).reduce((n, k) => n + k, 0);
      print(`restored the backup of ${r.manifest.createdAt} (${rows} rows) into ${globalOptions(cmd).dataDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
      for (const n of r.manifest.notes) print(`note: ${n}`);
    });
}
