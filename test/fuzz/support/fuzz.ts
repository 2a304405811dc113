/**
 * The fuzzing harness shared by `npm test` (bounded property runs) and `npm run fuzz -- TARGET --minutes N`
 * (long runs): a target is an arbitrary of hostile inputs plus a check that the entry point ends in a precise
 * error — a JpkiError with a stable code, an ISO 7816 status word, an HTTP 4xx in the project's JSON, a CLI
 * exit code with one line — never a crash, an unhandled rejection, a 5xx or a partial write.
 *
 * Inputs found to break a target are kept under test/fuzz/corpus/<target>/ and replayed by every run.
 */
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { JpkiError } from '../../../src/common/errors.js';

export const CORPUS_DIR = join(import.meta.dirname, '..', 'corpus');

/** Inputs are bytes (parsers) or JSON values (HTTP requests, command lines): both can be kept in the corpus. */
export type FuzzInput = Uint8Array | FuzzJson;
export type FuzzJson = string | number | boolean | null | FuzzJson[] | { [k: string]: FuzzJson };

export interface FuzzSession<T extends FuzzInput> {
  arbitrary: fc.Arbitrary<T>;
  /** Throws (an Error saying what went wrong) when the target did not end precisely. */
  check(input: T): Promise<void> | void;
  /** After the run: whatever must hold of the state the inputs left (audit chain, no partial rows). */
  verifyState?(): Promise<void>;
  /** The input as kept in the corpus (paths of the session's temporary directory written as $DATA). */
  portable?(input: T): T;
  close(): Promise<void>;
}

export interface FuzzTarget<T extends FuzzInput = FuzzInput> {
  name: string;
  /** The corpus directory, when shared with another target (the same entry point on another store). */
  corpus?: string;
  /** What is attacked, for docs/reliability.md and `npm run fuzz -- --list`. */
  description: string;
  /** Property runs in `npm test` (CI): bounded so the whole suite stays within its time. */
  testRuns: number;
  kind: 'bytes' | 'json';
  open(): Promise<FuzzSession<T>>;
}

/** The property runs of `npm test`: JPKI_FUZZ_RUNS scales every target (e.g. 0.2 on a slow machine, 5 for more). */
export function runsFor(target: FuzzTarget): number {
  const scale = Number(process.env.JPKI_FUZZ_SCALE ?? '1');
  return Math.max(1, Math.round(target.testRuns * (Number.isFinite(scale) && scale > 0 ? scale : 1)));
}

// ---- precise errors ----------------------------------------------------------------------------------------

/** Runs `fn`; a throw is fine only as a JpkiError with a code (the project's precise errors). */
export async function expectPrecise(what: string, fn: () => unknown): Promise<'ok' | JpkiError> {
  try {
    await fn();
    return 'ok';
  } catch (e) {
    if (e instanceof JpkiError && /^[A-Za-z][\w.-]+$/.test(e.code)) return e;
    const name = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    throw new Error(`${what} ended in an imprecise error (${name})`, { cause: e });
  }
}

// ---- corpus ------------------------------------------------------------------------------------------------

export function corpusDir(target: string): string {
  return join(CORPUS_DIR, target);
}

export function encodeInput(kind: FuzzTarget['kind'], input: FuzzInput): Buffer {
  return kind === 'bytes' ? Buffer.from(input as Uint8Array) : Buffer.from(`${JSON.stringify(input)}\n`);
}

/** Every kept input of a target (seeds and past findings), by file name. */
export function readCorpus<T extends FuzzInput>(target: FuzzTarget<T>): { file: string; input: T }[] {
  const dir = corpusDir(target.corpus ?? target.name);
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => !f.startsWith('.') && f !== 'README.md')
    .sort()
    .map((file) => {
      const bytes = readFileSync(join(dir, file));
      return { file, input: (target.kind === 'bytes' ? new Uint8Array(bytes) : JSON.parse(bytes.toString('utf8'))) as T };
    });
}

/** Keeps an input in the corpus (named by its hash, so the same input is kept once). */
export function keepInput(target: FuzzTarget, input: FuzzInput, prefix: string): string {
  const dir = corpusDir(target.corpus ?? target.name);
  mkdirSync(dir, { recursive: true });
  const bytes = encodeInput(target.kind, input);
  const file = `${prefix}-${createHash('sha256').update(bytes).digest('hex').slice(0, 16)}${target.kind === 'bytes' ? '.bin' : '.json'}`;
  writeFileSync(join(dir, file), bytes);
  return file;
}

// ---- hostile bytes -------------------------------------------------------------------------------------

type Mutation =
  | { op: 'flip'; at: number; bit: number }
  | { op: 'set'; at: number; value: number }
  | { op: 'truncate'; at: number }
  | { op: 'insert'; at: number; bytes: Uint8Array }
  | { op: 'delete'; at: number; length: number }
  | { op: 'length'; at: number; value: Uint8Array }
  | { op: 'duplicate'; at: number; length: number };

const position = fc.double({ min: 0, max: 1, noNaN: true, maxExcluded: true });

/** Length octets that parsers get wrong: indefinite, huge, non-minimal, past the end. */
const evilLength = fc.constantFrom(
  Uint8Array.of(0x80),
  Uint8Array.of(0x81, 0x00),
  Uint8Array.of(0x81, 0x7f),
  Uint8Array.of(0x82, 0x00, 0x01),
  Uint8Array.of(0x84, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x88, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff),
  Uint8Array.of(0x8f),
  Uint8Array.of(0xff),
  Uint8Array.of(0x00),
);

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ op: fc.constant('flip' as const), at: position, bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ op: fc.constant('set' as const), at: position, value: fc.constantFrom(0x00, 0x01, 0x7f, 0x80, 0x81, 0x82, 0xff, 0x30, 0x31, 0x02, 0x03, 0x04, 0x05, 0x06, 0xa0, 0xa3) }),
  fc.record({ op: fc.constant('truncate' as const), at: position }),
  fc.record({ op: fc.constant('insert' as const), at: position, bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }) }),
  fc.record({ op: fc.constant('delete' as const), at: position, length: fc.integer({ min: 1, max: 32 }) }),
  fc.record({ op: fc.constant('length' as const), at: position, value: evilLength }),
  fc.record({ op: fc.constant('duplicate' as const), at: position, length: fc.integer({ min: 1, max: 64 }) }),
);

function applyMutation(b: Uint8Array, m: Mutation): Uint8Array {
  const at = Math.floor(m.at * (b.length + (m.op === 'insert' || m.op === 'truncate' ? 1 : 0)));
  const out = Buffer.from(b);
  switch (m.op) {
    case 'flip':
      if (at < out.length) out[at]! ^= 1 << m.bit;
      return out;
    case 'set':
      if (at < out.length) out[at] = m.value;
      return out;
    case 'truncate':
      return out.subarray(0, at);
    case 'insert':
      return Buffer.concat([out.subarray(0, at), m.bytes, out.subarray(at)]);
    case 'delete':
      return Buffer.concat([out.subarray(0, at), out.subarray(at + m.length)]);
    case 'length': {
      // a length octet follows a tag: replace the length after the `at`-th byte
      if (at + 1 >= out.length) return out;
      const first = out[at + 1]!;
      const old = first < 0x80 ? 1 : 1 + (first & 0x7f);
      return Buffer.concat([out.subarray(0, at + 1), m.value, out.subarray(Math.min(out.length, at + 1 + old))]);
    }
    case 'duplicate':
      return Buffer.concat([out.subarray(0, at + m.length), out.subarray(at, at + m.length), out.subarray(at + m.length)]);
  }
}

/** Random DER-framed trees: well-formed TLVs with random tags and contents reach deeper than noise does. */
export const derTree: fc.Arbitrary<Uint8Array> = fc.letrec<{ node: Uint8Array }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.tuple(fc.constantFrom(0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0a, 0x0c, 0x13, 0x16, 0x17, 0x18, 0x1e, 0x80, 0x81, 0x82, 0x86, 0x88), fc.uint8Array({ maxLength: 40 })).map(([tag, c]) => tlvBytes(tag, c)),
    fc.tuple(fc.constantFrom(0x30, 0x31, 0xa0, 0xa1, 0xa2, 0xa3, 0xa4), fc.array(tie('node'), { maxLength: 5 })).map(([tag, kids]) => tlvBytes(tag, Buffer.concat(kids))),
  ),
})).node;

function tlvBytes(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  const len = n < 0x80 ? Buffer.of(n) : n < 0x100 ? Buffer.of(0x81, n) : Buffer.of(0x82, n >> 8, n & 0xff);
  return Buffer.concat([Buffer.of(tag), len, content]);
}

/** Hostile bytes around some valid seeds: seeds mutated up to 8 times, random DER trees, noise. */
export function hostileBytes(seeds: readonly Uint8Array[]): fc.Arbitrary<Uint8Array> {
  const parts: fc.Arbitrary<Uint8Array>[] = [fc.uint8Array({ maxLength: 300 }), derTree, derTree.map((t) => tlvBytes(0x30, t))];
  if (seeds.length) {
    const seed = fc.constantFrom(...seeds);
    parts.push(
      fc.tuple(seed, fc.array(mutation, { minLength: 1, maxLength: 8 })).map(([s, ms]) => ms.reduce(applyMutation, s)),
      fc.tuple(seed, fc.array(mutation, { minLength: 1, maxLength: 2 })).map(([s, ms]) => ms.reduce(applyMutation, s)),
      seed,
    );
  }
  return fc.oneof(...parts);
}

/** Strings that break parsers and databases: control and bidi characters, surrogates, huge, SQL and path syntax. */
export const hostileString: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom(
    '',
    ' ',
    '\u0000',
    '\uFFFD',
    '\u202E\u2066',
    '\uD800',
    '../../../../etc/passwd',
    '%00',
    "' OR 1=1 --",
    '13103',
    '99999',
    '1977-11-07',
    '2099-01-01',
    '0000-00-00',
    'null',
    'true',
    '-1',
    '1e309',
    'NaN',
    '__proto__',
    'constructor',
    '公的　一郎',
    '東京都港区虎ノ門5丁目',
    'a'.repeat(5000),
  ),
);

/** JSON values as a client might send them, hostile strings included; `__proto__` keys too. */
export const hostileJson: fc.Arbitrary<FuzzJson> = fc.letrec<{ v: FuzzJson }>((tie) => ({
  v: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    hostileString,
    fc.integer(),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('v'), { maxLength: 4 }),
    fc.dictionary(fc.oneof(hostileString, fc.constantFrom('name', 'password', 'residentId', 'number', 'kind', 'reason', 'pin', 'device', 'form', '__proto__')), tie('v'), { maxKeys: 5 }),
  ),
})).v;
