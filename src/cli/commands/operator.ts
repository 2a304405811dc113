import type { Command } from 'commander';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';
import { JpkiError } from '../../common/errors.js';
import { isLanguage } from '../../counter/index.js';
import { globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import { print, printJson, printTable } from '../output.js';

/** Reads one line from the terminal without echoing it. */
async function promptHidden(question: string): Promise<string> {
  let muted = false;
  const output = new Writable({
    write(chunk, _enc, done) {
      if (!muted) process.stderr.write(chunk);
      done();
    },
  });
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    return await new Promise<string>((resolve) => {
      rl.question(question, (answer) => resolve(answer));
      muted = true;
    });
  } finally {
    rl.close();
    process.stderr.write('\n');
  }
}

/**
 * A secret for a command: the environment variable when set (scripts, tests), else a prompt on the
 * terminal (twice when `confirm`, for a new secret). Without either, a clear refusal — never a default.
 */
export async function secret(envName: string, what: string, options: { confirm?: boolean } = {}): Promise<string> {
  const fromEnv = process.env[envName];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (!process.stdin.isTTY)
    throw new JpkiError('SECRET_MISSING', 'malformed', `the ${what} is needed: set ${envName} or run the command in a terminal to be asked`, { env: envName });
  const first = await promptHidden(`${what}: `);
  if (options.confirm && (await promptHidden(`${what} (again): `)) !== first)
    throw new JpkiError('SECRET_MISMATCH', 'malformed', `the two entries of the ${what} differ`);
  return first;
}

export function registerOperator(program: Command): void {
  const operator = program.command('operator').description('counter staff: accounts bound to one municipality (clerk or supervisor)');

  operator
    .command('add')
    .description('add an operator (password from JPKI_OPERATOR_PASSWORD or a prompt)')
    .requiredOption('--municipality <code>', 'JIS local-government code of the counter, e.g. 13103 (港区)')
    .requiredOption('--name <name>', 'login name (A–Z a–z 0–9 . _ -)')
    .option('--role <role>', 'clerk or supervisor', 'clerk')
    .option('--language <lang>', 'language of messages: ja, en or ko', 'ja')
    .option('--json', 'machine-readable output')
    .action(async (o: { municipality: string; name: string; role: string; language: string; json?: boolean }, cmd: Command) => {
      if (!isLanguage(o.language)) throw new JpkiError('OPERATOR_OPTIONS_INVALID', 'malformed', `--language must be ja, en or ko, not ${JSON.stringify(o.language)}`);
      const password = await secret('JPKI_OPERATOR_PASSWORD', `password for ${o.name}`, { confirm: true });
      await withServices(globalOptions(cmd), async (s) => {
        const added = await s.counter.operators.add({ name: o.name, municipality: o.municipality, role: o.role as 'clerk', password, language: o.language as 'ja' }, 'cli');
        if (o.json) return printJson(added);
        print(`added ${added.role} ${added.name} at ${added.municipalityName} (${added.municipality})`);
      });
    });

  operator
    .command('list')
    .description('list operators')
    .option('--municipality <code>', 'only this municipality')
    .option('--json', 'machine-readable output')
    .action(async (o: { municipality?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const list = await s.counter.operators.list(o.municipality);
        if (o.json) return printJson(list);
        printTable([['NAME', 'MUNICIPALITY', 'ROLE', 'LANG', 'LOCKED'], ...list.map((x) => [x.name, `${x.municipality} ${x.municipalityName}`, x.role, x.language, x.suspended ? 'locked' : x.locked ? `until ${x.lockedUntil}` : '-'])]);
      }),
    );

  operator
    .command('unlock')
    .description('release an account locked by a supervisor or after too many failed logins')
    .argument('<name>', 'operator name')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const o = await s.counter.operators.unlock(name, 'cli');
        print(`unlocked ${o.name}`);
      }),
    );

  operator
    .command('lock')
    .description('lock an account until it is unlocked (logins refused, open sessions ended)')
    .argument('<name>', 'operator name')
    .action(async (name: string, _o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const o = await s.counter.operators.lock(name, 'cli');
        print(`locked ${o.name}`);
      }),
    );

  operator
    .command('role')
    .description('make an operator a clerk or a supervisor')
    .argument('<name>', 'operator name')
    .argument('<role>', 'clerk or supervisor')
    .action(async (name: string, role: string, _o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const o = await s.counter.operators.setRole(name, role as 'clerk', 'cli');
        print(`${o.name} is now a ${o.role}`);
      }),
    );

  operator
    .command('password')
    .description('set a new password for an operator (from JPKI_OPERATOR_PASSWORD or a prompt); ends their sessions')
    .argument('<name>', 'operator name')
    .action(async (name: string, _o: unknown, cmd: Command) => {
      const password = await secret('JPKI_OPERATOR_PASSWORD', `new password for ${name}`, { confirm: true });
      await withServices(globalOptions(cmd), async (s) => {
        const o = await s.counter.operators.resetPassword(name, password, 'cli');
        print(`new password set for ${o.name}`);
      });
    });
}
