import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readmeScript, shellBlocks, type ShellBlock } from './readme-script.js';

export const ROOT = join(import.meta.dirname, '..', '..');

export interface ReadmeRun {
  status: number | null;
  output: string;
  /** The README line the harness reported as failing, if any. */
  failedLine?: number;
  failure?: string;
  commands: number;
}

export interface RunOptions {
  /** Literal replacements in every run line. */
  substitutions?: [string, string][];
  env?: Record<string, string>;
  timeoutMs?: number;
}

export { freePort } from '../support/system.js';

/**
 * A fresh working directory where `npx jpki` is this checkout's command, as it is inside a clone: a
 * package.json of its own (so npx never asks the registry) and node_modules/.bin/jpki linked to bin/jpki.js.
 */
export function freshWorkDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'jpki-readme-'));
  writeFileSync(join(dir, 'package.json'), `${JSON.stringify({ name: 'jpki-readme-run', private: true }, null, 2)}\n`);
  mkdirSync(join(dir, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(join(ROOT, 'bin', 'jpki.js'), join(dir, 'node_modules', '.bin', 'jpki'));
  mkdirSync(join(dir, '.readme-logs'));
  return dir;
}

/** The environment a new user has: none of our JPKI_* settings leak in from the test's own environment. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && !k.startsWith('JPKI_') && !k.startsWith('npm_')) env[k] = v;
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs the runnable blocks in `dir` with bash; resolves with the outcome (never rejects). */
export async function runBlocks(blocks: ShellBlock[], dir: string, options: RunOptions = {}): Promise<ReadmeRun> {
  const logDir = join(dir, '.readme-logs');
  if (!existsSync(logDir)) mkdirSync(logDir);
  const { script, commands } = readmeScript(blocks, { logDir, substitutions: options.substitutions ?? [] });
  const file = join(logDir, 'readme.sh');
  writeFileSync(file, script);
  const child = spawn('bash', [file], { cwd: dir, env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let output = '';
  child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => {
    output += `\n::readme-failed line=? status=timeout after ${options.timeoutMs} ms\n`;
    try {
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      // already gone
    }
  }, options.timeoutMs ?? 15 * 60_000);
  const status = await new Promise<number | null>((resolve) => child.once('close', (code) => resolve(code)));
  clearTimeout(timer);
  stopBackground(logDir);
  const m = /::readme-failed line=(\S+) status=(\S+)(?: expected=(\S+))?/.exec(output);
  const failedLine = m && /^\d+$/.test(m[1]!) ? Number(m[1]) : undefined;
  return {
    status,
    output,
    commands,
    ...(failedLine !== undefined ? { failedLine } : {}),
    ...(m ? { failure: m[3] ? `exit status ${m[2]}, the README promises ${m[3]}` : `status ${m[2]}` } : {}),
  };
}

/** Background processes the script started and did not stop (the script was killed): their groups go now. */
function stopBackground(logDir: string): void {
  const file = join(logDir, 'background.pids');
  if (!existsSync(file)) return;
  for (const pid of readFileSync(file, 'utf8').split('\n').filter(Boolean)) {
    try {
      process.kill(-Number(pid), 'SIGKILL');
    } catch {
      // stopped already
    }
  }
}

export function readmeBlocks(path = join(ROOT, 'README.md')): ShellBlock[] {
  return shellBlocks(readFileSync(path, 'utf8'));
}

/** What a failure report shows: the README's line and the end of the output. */
export function describeFailure(run: ReadmeRun, readme: string): string {
  const lines = readme.split('\n');
  const where = run.failedLine ? `README.md:${run.failedLine}: ${lines[run.failedLine - 1]?.trim()}` : 'README.md (line unknown)';
  return `${where}\n${run.failure ?? `bash exited with ${run.status}`}\n--- output (last 60 lines) ---\n${run.output.split('\n').slice(-60).join('\n')}`;
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
