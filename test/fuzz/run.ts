/**
 * `npm run fuzz -- TARGET [--minutes N] [--seed S]`: the long run of one target (`npm run fuzz -- --list`
 * names them; `all` runs each for N minutes in turn). It replays the corpus, then draws hostile inputs until
 * the time is up; an input that breaks the target is shrunk, kept in test/fuzz/corpus/<target>/ (replayed by
 * every `npm test` from then on) and reported with the seed that finds it again. Exit 0 when nothing broke.
 */
import 'reflect-metadata';
import fc from 'fast-check';
import { keepInput, readCorpus, type FuzzInput, type FuzzTarget } from './support/fuzz.js';
import { PARSER_TARGETS } from './support/parser-targets.js';
import { CARD_TARGETS } from './support/card-targets.js';
import { HTTP_TARGETS } from './support/http-targets.js';
import { CLI_TARGETS } from './support/cli-targets.js';

/**
 * The runner's own output, bound before any target runs: a target that captures process.stdout (the CLI
 * target does, for each command it runs) may still be inside a case when the time limit interrupts the run,
 * and a line written through process.stdout.write then went into that case's capture — the summary line
 * vanished and the run looked as if it had ended early.
 */
const say = process.stdout.write.bind(process.stdout);

const TARGETS: FuzzTarget<FuzzInput>[] = [...PARSER_TARGETS, ...CARD_TARGETS, ...HTTP_TARGETS, ...CLI_TARGETS] as FuzzTarget<FuzzInput>[];

function usage(message?: string): never {
  const text = `usage: npm run fuzz -- TARGET|all [--minutes N] [--seed S]\ntargets:\n${TARGETS.map((t) => `  ${t.name.padEnd(18)} ${t.description}`).join('\n')}\n`;
  if (message === undefined) {
    process.stdout.write(text);
    process.exit(0);
  }
  process.stderr.write(`fuzz: ${message}\n${text}`);
  process.exit(64);
}

function parseArgs(argv: string[]): { names: string[]; minutes: number; seed?: number } {
  let minutes = 1;
  let seed: number | undefined;
  const names: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--list') usage();
    else if (a === '--minutes') minutes = Number(argv[++i]);
    else if (a === '--seed') seed = Number(argv[++i]);
    else if (a.startsWith('-')) usage(`unknown option ${a}`);
    else names.push(a);
  }
  if (!(minutes > 0 && minutes <= 24 * 60)) usage('--minutes takes a number of minutes (up to a day)');
  if (seed !== undefined && !Number.isInteger(seed)) usage('--seed takes an integer');
  if (names.length === 0) usage('name a target');
  if (names.includes('all')) return { names: TARGETS.map((t) => t.name), minutes, seed };
  for (const n of names) if (!TARGETS.some((t) => t.name === n)) usage(`no target ${n}`);
  return { names, minutes, seed };
}

async function fuzz(target: FuzzTarget<FuzzInput>, minutes: number, seed: number): Promise<boolean> {
  const session = await target.open();
  try {
    const corpus = readCorpus(target);
    for (const { file, input } of corpus) {
      try {
        await session.check(input);
      } catch (e) {
        say(`${target.name}: corpus input ${file} fails: ${(e as Error).message}\n`);
        return false;
      }
    }
    await session.verifyState?.();
    const started = Date.now();
    let runs = 0;
    const result = await fc.check(
      fc.asyncProperty(session.arbitrary, async (input) => {
        runs++;
        await session.check(input);
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: minutes * 60_000, markInterruptAsFailure: false },
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(0);
    if (result.failed && result.counterexample) {
      const input = result.counterexample[0] as FuzzInput;
      const kept = keepInput(target, session.portable ? session.portable(input) : input, 'found');
      say(
        `${target.name}: BROKEN after ${runs} inputs in ${seconds} s (seed ${seed}, path ${result.counterexamplePath}): ${(result.errorInstance as Error | undefined)?.message ?? 'failed'}\n  kept as test/fuzz/corpus/${target.name}/${kept}\n`,
      );
      return false;
    }
    await session.verifyState?.();
    say(`${target.name}: ${runs} hostile inputs in ${seconds} s (seed ${seed}), ${corpus.length} corpus inputs replayed: nothing broke\n`);
    return true;
  } finally {
    await session.close();
  }
}

const { names, minutes, seed } = parseArgs(process.argv.slice(2));
let ok = true;
// An unhandled rejection is a finding too: an entry point left a promise nobody waits for.
process.on('unhandledRejection', (e) => {
  ok = false;
  say(`unhandled rejection: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
});
for (const name of names) {
  const s = seed ?? Math.floor(Math.random() * 2 ** 31);
  ok = (await fuzz(TARGETS.find((t) => t.name === name)!, minutes, s)) && ok;
}
process.exit(ok ? 0 : 1);
