import { Command, CommanderError } from 'commander';
import { asCliError, describeError, exitCodeFor, EXIT_USAGE } from './exit.js';
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

/**
 * Runs one command line (argv without node and script) and returns its exit code: 0, 64 for usage errors,
 * the error kind's code otherwise — errors as one line on stderr, never a stack trace (unless JPKI_DEBUG).
 */
export async function runCli(args: readonly string[], program: Command = buildProgram()): Promise<number> {
  try {
    await program.parseAsync([...args], { from: 'user' });
    return 0;
  } catch (e) {
    // help and version exit 0; usage errors were already printed by commander
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : EXIT_USAGE;
    const error = asCliError(e);
    process.stderr.write(`jpki: ${describeError(error)}\n`);
    return exitCodeFor(error);
  }
}
