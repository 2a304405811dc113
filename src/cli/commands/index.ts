import type { Command } from 'commander';

/** Every sub-command of `jpki`, registered in the order `jpki --help` lists them. */
export function registerCommands(program: Command): void {
  void program;
}
