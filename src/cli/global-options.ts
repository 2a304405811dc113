import type { Command } from 'commander';
import { resolve, join } from 'node:path';
import type { InstallationLocation } from '../compose/services.js';

/** The global options: where the installation lives (`--data`, `--db`). */
export type GlobalOptions = InstallationLocation;

/** The global options as seen from any sub-command (commander keeps them on the root program). */
export function globalOptions(cmd: Command): GlobalOptions {
  let root = cmd;
  while (root.parent) root = root.parent;
  const o = root.opts<{ data: string; db?: string }>();
  const dataDir = resolve(o.data);
  return { dataDir, databaseUrl: o.db ?? join(dataDir, 'jpki.sqlite'), databaseUrlExplicit: o.db !== undefined };
}

/** `--resident`'s help: both names of a resident are accepted everywhere (issue 11). */
export const RESIDENT_OPTION_HELP = 'the resident: id (R…, from jpki register add/list) or resident-record code (住民票コード, 11 digits)';
