import { Command, CommanderError } from 'commander';
import { asCliError, describeError, exitCodeFor, EXIT_USAGE, oneLine } from './exit.js';
import { COMMANDS, commandNameOf } from './commands/index.js';

/**
 * The `jpki` command. Global options (--data, --db) apply to every sub-command; each sub-command lives in
 * cli/commands/<name>.ts and is loaded only when it runs (commands/index.ts says how).
 */
export async function buildProgram(argv: readonly string[]): Promise<Command> {
  const program = new Command('jpki')
    .description('公的個人認証サービス (JPKI): certification authorities, IC cards, municipal counters')
    .option('--data <dir>', 'data directory (env JPKI_DATA)', process.env.JPKI_DATA ?? './data')
    .option('--db <url>', 'database URL: a SQLite file path or postgres://… (env JPKI_DATABASE_URL; default <data>/jpki.sqlite)', process.env.JPKI_DATABASE_URL)
    // usage errors are printed by main() as one line with a hint, not by commander with the whole help
    .configureOutput({ outputError: () => undefined, writeErr: () => undefined })
    .exitOverride();
  const name = commandNameOf(argv.slice(2));
  const chosen = COMMANDS.find((c) => c.name === name);
  if (chosen) {
    // @peculiar/x509 (tsyringe) needs the Reflect polyfill before any certificate class is used: loaded once
    // here for every command that runs, not remembered by each command file (`--help` stays without it).
    await import('reflect-metadata');
    await chosen.register(program);
  }
  // `jpki --help`, `jpki help`, an unknown command: every command listed, none of them loaded
  else for (const c of COMMANDS) program.command(c.name).summary(c.summary);
  usageErrorsWithHints(program);
  return program;
}

/** The error of a usage mistake, marked with the command it concerns (for the `--help` hint). */
type UsageError = CommanderError & { commandPath?: string; subcommands?: string[] };

function pathOf(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/** Every command of the tree: a usage error remembers the command it concerns and its sub-commands. */
function usageErrorsWithHints(cmd: Command): void {
  cmd.exitOverride((e: UsageError) => {
    e.commandPath = pathOf(cmd);
    e.subcommands = cmd.commands.map((c) => c.name());
    throw e;
  });
  for (const sub of cmd.commands) usageErrorsWithHints(sub);
}

/** The one line a usage error prints: what is wrong, and where the help is. */
export function usageLine(e: CommanderError): string {
  const u = e as UsageError;
  const path = u.commandPath ?? 'jpki';
  // a command group run without a sub-command (commander would print the group's whole help)
  const what = e.code === 'commander.help' ? `\`${path}\` needs a sub-command: ${(u.subcommands ?? []).join(', ')}` : e.message.replace(/^error: /, '');
  return `jpki: ${oneLine(what)} (see \`${path} --help\`) [USAGE]`;
}

/**
 * Runs one command line (the arguments after `jpki`) and returns its exit code: 0, 64 for a usage error (one
 * line with the --help hint), the error kind's code otherwise — one line `jpki: … [CODE]`, never a stack
 * trace (unless JPKI_DEBUG). Used by bin/jpki.js and, in-process, by the command-line fuzz tests.
 */
export async function runCli(args: readonly string[]): Promise<number> {
  const argv = [process.execPath, 'jpki', ...args];
  // A command may end with a verdict of its own (`client check`: 2 revoked, 3 unavailable; `client
  // fingerprints`: 1) by setting process.exitCode; that is its exit code, not 0. Restored afterwards, so an
  // in-process caller (the fuzz tests) sees each run's own.
  const outer = process.exitCode;
  process.exitCode = undefined;
  try {
    const program = await buildProgram(argv);
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (e) {
    if (e instanceof CommanderError) {
      // help and version exit 0; a usage error: one line, the command's --help as the hint
      if (e.exitCode === 0) return 0;
      process.stderr.write(`${usageLine(e)}\n`);
      return EXIT_USAGE;
    }
    const error = asCliError(e);
    process.stderr.write(`jpki: ${describeError(error)}\n`);
    return exitCodeFor(error);
  } finally {
    process.exitCode = outer;
  }
}
