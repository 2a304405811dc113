import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { describeError, exitCodeFor, EXIT_USAGE } from './exit.js';
import { registerCommands } from './commands/index.js';

/**
 * The `jpki` command. Global options (--data, --db) apply to every sub-command; each sub-command lives in
 * cli/commands/<name>.ts and registers itself through commands/index.ts.
 */
export function buildProgram(): Command {
  const program = new Command('jpki')
    .description('公的個人認証サービス (JPKI): certification authorities, IC cards, municipal counters')
    .option('--data <dir>', 'data directory (env JPKI_DATA)', process.env.JPKI_DATA ?? './data')
    .option('--db <url>', 'database URL: a SQLite file path or postgres://… (env JPKI_DATABASE_URL; default <data>/jpki.sqlite)', process.env.JPKI_DATABASE_URL)
    .showHelpAfterError()
    .exitOverride();
  registerCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      process.exitCode = e.exitCode === 0 ? 0 : EXIT_USAGE;
      return;
    }
    process.stderr.write(`jpki: ${describeError(e)}\n`);
    process.exitCode = exitCodeFor(e);
  }
}

await main(process.argv);
