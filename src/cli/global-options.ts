import type { Command } from 'commander';
import { resolve, join } from 'node:path';

export interface GlobalOptions {
  /** Absolute path of the data directory. */
  dataDir: string;
  /** Database URL: postgres://… or a SQLite file path. */
  databaseUrl: string;
  /** Whether --db or JPKI_DATABASE_URL named it (else the saved or default one applies). */
  databaseUrlExplicit: boolean;
}

/** The global options as seen from any sub-command (commander keeps them on the root program). */
export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<{ data: string; db?: string }>();
  const dataDir = resolve(o.data);
  return { dataDir, databaseUrl: o.db ?? join(dataDir, 'jpki.sqlite'), databaseUrlExplicit: o.db !== undefined };
}
