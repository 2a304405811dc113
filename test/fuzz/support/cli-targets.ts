/**
 * The `jpki` command line, walked from the commander program itself (so commands added later are attacked
 * too): every leaf command with random subsets of its options and arguments, hostile values, missing and
 * repeated ones, run in-process against an initialised data directory. Each run must exit 0, 64 (usage) or
 * the code of a precise error with one line `jpki: … [CODE]` — never 70 (internal) or a stack trace — and
 * the audit chain must still verify afterwards.
 *
 * Paths are confined: an option or argument that names a file gets a path inside the fixture's directory,
 * or (for inputs only) /dev/zero and /dev/null. Long-running commands (serve, card serve, client agent) and init are left
 * out: they have tests of their own.
 */
import fc from 'fast-check';
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import type { Command, Option } from 'commander';
import { Command as Program } from 'commander';
import { runCli } from '../../../src/cli/program.js';
import { COMMANDS } from '../../../src/cli/commands/index.js';
import { createCounterInstallation, PASSWORD, type CounterInstallation } from '../../counter/support.js';
import { opensslCsr } from '../../support/installation.js';
import { hostileString, type FuzzTarget } from './fuzz.js';

const PCSC_OPTIONS = new Set(['reader', 'vpcd', 'device']);
const SKIPPED = new Set(['serve', 'card serve', 'client agent', 'init', 'help']);
/** Options and arguments that name something written: only paths inside the fixture. */
const WRITES = /^(out|dir|card|export|html)$/;
/** Options and arguments that name something read. */
const READS = /^(csr|public-key|file|csv)$/;

interface Leaf {
  path: string[];
  options: { flag: string; takesValue: boolean; name: string; mandatory: boolean; always: boolean }[];
  args: { name: string; required: boolean; variadic: boolean }[];
}

function leaves(cmd: Command, prefix: string[] = []): Leaf[] {
  const out: Leaf[] = [];
  for (const c of cmd.commands) {
    const path = [...prefix, c.name()];
    if (SKIPPED.has(path.join(' '))) continue;
    if (c.commands.length) out.push(...leaves(c, path));
    else
      out.push({
        path,
        // The shared pcscd is not the fuzzer's to use: no --reader, and --card (an image in-process) always
        // where a command has it, so no command falls back to the PC/SC reader.
        options: (c.options as readonly Option[])
          .filter((o) => o.long && !PCSC_OPTIONS.has(o.attributeName()))
          .map((o) => ({ flag: o.long!, takesValue: o.required || o.optional, name: o.attributeName(), mandatory: o.mandatory, always: o.attributeName() === 'card' })),
        args: c.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })),
      });
  }
  return out;
}

export interface CliCase {
  [k: string]: string[] | Record<string, string>;
  argv: string[];
  /** Secrets the commands read from the environment (operator password, PINs). */
  env: Record<string, string>;
}

const ENV_SECRETS = ['JPKI_OPERATOR_PASSWORD', 'JPKI_SIGN_PIN', 'JPKI_AUTH_PIN', 'JPKI_CURRENT_PIN'];

export const cliArguments: FuzzTarget<CliCase> = {
  name: 'cli-arguments',
  description: 'every `jpki` command with hostile options and arguments, run in-process on an initialised installation',
  testRuns: 100,
  kind: 'json',
  async open() {
    const t: CounterInstallation = await createCounterInstallation('sqlite');
    await t.services.counter.operators.add({ name: 'cli-clerk', municipality: '13103', role: 'clerk', password: PASSWORD }, 'test');
    const resident = await t.addResident();
    const card = await t.blankCard('fixture.card');
    const { csr } = opensslCsr(t.dir, 'fuzz');
    writeFileSync(join(t.dir, 'garbage.bin'), Buffer.from('30 82 ff ff 02 01'.replace(/ /g, ''), 'hex'));
    mkdirSync(join(t.dir, 'out'), { recursive: true });
    const dir = t.dir;
    const cwd = process.cwd();
    const writePaths = [join(dir, 'out', 'a.pem'), join(dir, 'out', 'deep', 'missing', 'b.pem'), join(dir, 'out'), join(dir, 'out', 'c.card'), card];
    const writePath = fc.constantFrom(...writePaths);
    const readPath = fc.constantFrom(csr, join(dir, 'garbage.bin'), join(dir, 'missing.pem'), dir, '/dev/zero', '/dev/null', card);
    const known = fc.constantFrom(resident.id, '13103', '13', 'pref-13', 'cli-clerk', 'sign', 'auth', 'keyCompromise', 'lost', 'passport', 'full', 'delta', 'arl', 'delta:13103', '--json', '-', '--');
    const value = (name: string) => (WRITES.test(name) ? writePath : READS.test(name) ? readPath : fc.oneof(hostileString, known));
    // every command registered (jpki itself loads only the one that runs)
    const program = new Program('jpki');
    for (const c of COMMANDS) await c.register(program);
    const all = leaves(program);
    const argv: fc.Arbitrary<CliCase> = fc.constantFrom(...all).chain((leaf) =>
      fc
        .tuple(
          // the mandatory options nearly always (else every case is a usage error), the others at random
          fc.tuple(fc.subarray(leaf.options.filter((o) => !o.mandatory && !o.always)), fc.integer({ min: 0, max: 9 }).map((n) => n > 0))
            .map(([opts, withMandatory]) => [...leaf.options.filter((o) => o.always || (withMandatory && o.mandatory)), ...opts])
            .chain((opts) => fc.tuple(...opts.map((o) => (o.takesValue ? value(o.name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)).map((v) => [o.flag, v]) : fc.constant([o.flag]))))),
          fc.tuple(...leaf.args.map((a) => (a.required ? fc.option(value(a.name), { nil: undefined, freq: 10 }) : fc.option(value(a.name), { nil: undefined, freq: 2 })))),
          fc.oneof({ arbitrary: fc.constant(undefined), weight: 9 }, { arbitrary: hostileString, weight: 1 }),
          fc.record(
            {
              JPKI_OPERATOR_PASSWORD: fc.oneof({ arbitrary: fc.constant(PASSWORD), weight: 4 }, { arbitrary: hostileString, weight: 1 }),
              JPKI_SIGN_PIN: fc.oneof(fc.constantFrom('KOTEKI2004', 'ABC123'), hostileString),
              JPKI_AUTH_PIN: fc.oneof(fc.constantFrom('1234', '4821'), hostileString),
              JPKI_CURRENT_PIN: fc.oneof(fc.constantFrom('KOTEKI2004', '1234'), hostileString),
            },
            { requiredKeys: [] },
          ),
        )
        .map(([opts, args, extra, env]) => ({
          env,
          argv: ['--data', dir, ...leaf.path, ...(opts as string[][]).flat(), ...(args.filter((a) => a !== undefined) as string[]), ...(extra === undefined ? [] : [extra])],
        })),
    );
    return {
      arbitrary: argv,
      async check(c: CliCase) {
        const saved = Object.fromEntries(ENV_SECRETS.map((k) => [k, process.env[k]]));
        for (const k of ENV_SECRETS) delete process.env[k];
        // NUL cannot be in an environment variable, as in a real shell
        for (const [k, v] of Object.entries(c.env ?? {})) if (ENV_SECRETS.includes(k)) process.env[k] = v.replace(/\0/g, '');
        const existed = new Set(writePaths.filter((p) => existsSync(p)));
        let result: { code: number; stderr: string };
        try {
          if (process.env.JPKI_FUZZ_TRACE) appendFileSync(process.env.JPKI_FUZZ_TRACE, `${JSON.stringify(c)}\n`);
          // Inside the fixture: a hostile relative path some option writes to lands there, never in the project.
          process.chdir(dir);
          result = await captured(() => runCli(c.argv.map((a) => a.replaceAll('$DATA', dir))));
        } finally {
          process.chdir(cwd);
          for (const k of ENV_SECRETS) if (saved[k] === undefined) delete process.env[k];
          else process.env[k] = saved[k];
        }
        const { code, stderr } = result;
        const where = `jpki ${c.argv.slice(2).map((a) => JSON.stringify(a)).join(' ')}`;
        if (code === 70) throw new Error(`${where} exited 70 (internal error): ${stderr.slice(0, 400)}`);
        if (/\n\s+at /.test(stderr)) throw new Error(`${where} printed a stack trace: ${stderr.slice(0, 400)}`);
        // 1–3 are verdicts a command reports after running normally (fingerprint mismatch, revoked, status
        // unavailable); errors have the sysexits codes from 65 up
        if (code > 64) {
          const lines = stderr.trimEnd().split('\n');
          if (lines.length !== 1 || !/^jpki: .+ \[[A-Za-z][\w.-]+\]$/.test(lines[0]!)) throw new Error(`${where} exited ${code} without one precise line: ${stderr.slice(0, 400)}`);
        }
        // a refused command writes nothing (a file it was to write, or half of one, is not left behind)
        if (code >= 64) for (const p of writePaths) if (!existed.has(p) && existsSync(p)) throw new Error(`${where} exited ${code} but left ${p}`);
      },
      async verifyState() {
        const v = await t.services.store.audit.verify();
        if (!v.ok) throw new Error(`the audit chain no longer verifies: ${JSON.stringify(v)}`);
      },
      portable: (c: CliCase) => ({ ...c, argv: c.argv.map((a) => a.replaceAll(dir, '$DATA')) }),
      close: () => t.cleanup(),
    };
  },
};

/**
 * Runs `fn` with process.stdout/stderr captured (commander and the commands write there) and an empty,
 * ended standard input, as `jpki … </dev/null` has. The test runner's own stdin is a pipe nobody writes to
 * or closes: a command reading a PIN from it (no JPKI_SIGN_PIN, no terminal) waited there until the time
 * limit of the property run, which then ended quietly with the rest of its inputs never tried.
 */
async function captured(fn: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  const stdin = Object.getOwnPropertyDescriptor(process, 'stdin');
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  Object.defineProperty(process, 'stdin', { configurable: true, enumerable: true, value: Readable.from([]) });
  try {
    const code = await fn();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = stdout;
    process.stderr.write = stderr;
    if (stdin) Object.defineProperty(process, 'stdin', stdin);
  }
}

export const CLI_TARGETS = [cliArguments];
