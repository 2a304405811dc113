import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

/**
 * Once before the tests: build the CLI (scripts/build.js), so that tests which run `jpki` as a child process
 * run today's sources at the speed users get. bin/jpki.js would fall back to the TypeScript anyway if a
 * source changed after this build (it never runs a stale build), only slower.
 */
export default function setup(): void {
  execFileSync(process.execPath, [join(import.meta.dirname, '..', '..', 'scripts', 'build.js'), '--quiet'], { stdio: 'inherit' });
}
