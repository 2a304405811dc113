/**
 * Issue 11, trap 10: `npm ci` warned EBADENGINE — fastify's light-my-request 6.8 pulls cookie 2, which wants
 * Node ≥ 22, while the project supports Node 20.19+. package.json pins light-my-request to 6.6.0 (an npm
 * `overrides` entry; it takes cookie 1). This test reads the engines of every package the lock installs and of
 * every package really present in node_modules, and checks each accepts the oldest Node the project supports.
 */
import { describe, it, expect } from 'vitest';
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');
// semver is fastify's own dependency, hoisted: the same range logic npm applies
const semver = createRequire(join(ROOT, 'package.json'))('semver') as { satisfies(v: string, range: string): boolean; minVersion(range: string): { version: string } | null };

const project = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };
const lock = JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')) as { packages: Record<string, { version?: string; engines?: { node?: string } | string[] }> };
const OLDEST = semver.minVersion(project.engines.node)!.version;

function excluding(entries: [string, string | undefined][]): string[] {
  return entries.filter(([, range]) => range !== undefined && !semver.satisfies(OLDEST, range)).map(([name, range]) => `${name} wants node ${range}`);
}

describe('every dependency supports the project\u2019s oldest Node', () => {
  it('the project says Node 20.19+', () => {
    expect(OLDEST).toBe('20.19.0');
  });

  it('no package in package-lock.json excludes it (npm ci would warn EBADENGINE)', () => {
    const entries = Object.entries(lock.packages)
      .filter(([path]) => path !== '')
      .map(([path, p]): [string, string | undefined] => [`${path.replace(/^.*node_modules\//, '')}@${p.version}`, Array.isArray(p.engines) ? undefined : p.engines?.node]);
    expect(entries.length).toBeGreaterThan(100);
    expect(excluding(entries)).toEqual([]);
  });

  it('no package installed in node_modules excludes it', () => {
    const entries = Object.keys(lock.packages)
      .filter((path) => path !== '' && existsSync(join(ROOT, path, 'package.json')))
      .map((path): [string, string | undefined] => {
        const p = JSON.parse(readFileSync(join(ROOT, path, 'package.json'), 'utf8')) as { name: string; version: string; engines?: { node?: string } };
        return [`${p.name}@${p.version}`, typeof p.engines === 'object' && !Array.isArray(p.engines) ? p.engines.node : undefined];
      });
    expect(entries.length).toBeGreaterThan(100);
    expect(excluding(entries)).toEqual([]);
  });
});
