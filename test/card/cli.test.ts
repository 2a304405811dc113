import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { jpki } from '../support/cli.js';

/** `jpki card new | status | serve` through the real CLI: results, and clear errors with exit codes. */
describe('jpki card (CLI)', () => {
  let dir: string;
  let dataDir: string;
  let cardFile: string;
  let cardId: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-card-cli-'));
    dataDir = join(dir, 'data');
    cardFile = join(dir, 'blank.card');
    const r = jpki(['--data', dataDir, 'card', 'new', '--out', cardFile, '--json']);
    expect(r.status, r.stderr).toBe(0);
    cardId = JSON.parse(r.stdout).cardId;
  });

  it('card new makes a blank card with a 16-hex-digit ID, and the installation\u2019s two secrets', () => {
    expect(cardId).toMatch(/^[0-9A-F]{16}$/);
    const again = jpki(['--data', dataDir, 'card', 'new', '--out', join(dir, 'second.card')]);
    expect(again.status, again.stderr).toBe(0);
    expect(again.stdout).toMatch(/^made blank card [0-9A-F]{16} in .*second\.card\n$/);
    expect(again.stdout).not.toContain(cardId);
  });

  it('card status --json shows a blank card: no certificates, no keys, PINs unset with full counters', () => {
    const r = jpki(['--data', dataDir, 'card', 'status', '--card', cardFile, '--json']);
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({
      cardId,
      token: 'JPKIAPICCTOKEN2',
      certificates: {
        sign: { fid: '0001', present: false, size: 0 },
        'sign-ca': { fid: '0002', present: false, size: 0 },
        auth: { fid: '000A', present: false, size: 0 },
        'auth-ca': { fid: '000B', present: false, size: 0 },
      },
      keys: { auth: { fid: '0017', present: false }, sign: { fid: '001A', present: false } },
      pins: {
        auth: { fid: '0018', set: false, triesLeft: 3, maxTries: 3, blocked: false },
        sign: { fid: '001B', set: false, triesLeft: 5, maxTries: 5, blocked: false },
      },
      issuer: { triesLeft: 10, maxTries: 10, locked: false },
    });
  });

  it('card status prints a readable summary', () => {
    const r = jpki(['--data', dataDir, 'card', 'status', '--card', cardFile]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`card ${cardId}   token JPKIAPICCTOKEN2`);
    expect(r.stdout).toMatch(/sign\s+EF 001B\s+not set/);
  });

  it.each([
    ['card new over an existing image', () => ['card', 'new', '--out', cardFile], 75, /already holds a card image \[card\.exists\]/],
    ['card new with a token name too long', () => ['card', 'new', '--out', join(dir, 'x.card'), '--token', 'X'.repeat(40)], 65, /--token must be/],
    ['card new without --out', () => ['card', 'new'], 64, /required option '--out <file>'/],
    ['card status of a missing file', () => ['card', 'status', '--card', join(dir, 'none.card')], 66, /no card image at .*none\.card \[card\.image-missing\]/],
    ['card status of a file that is not a card', () => ['card', 'status', '--card', join(dir, 'not-a-card.txt')], 65, /not a card image \(not JSON\) \[card\.image-malformed\]/],
    ['card status from another data directory', () => ['card', 'status', '--card', cardFile, '--data-override'], 66, /no card fabrication secret/],
    ['card serve with a bad --vpcd', () => ['card', 'serve', '--card', cardFile, '--vpcd', 'localhost:port'], 65, /--vpcd must be host:port/],
    ['card serve of a card already in use', () => ['card', 'serve', '--card', join(dir, 'locked.card')], 75, /is in use by process \d+: a card is in one reader at a time \[card\.image-in-use\]/],
  ] as const)('%s fails with a clear message, its exit code and no stack trace', (name, args, exitCode, stderr) => {
    writeFileSync(join(dir, 'not-a-card.txt'), 'hello\n');
    if (name.includes('already in use')) {
      jpki(['--data', dataDir, 'card', 'new', '--out', join(dir, 'locked.card')]);
      writeFileSync(join(dir, 'locked.card.lock'), `${process.pid}\n`);
    }
    let argv = [...args()] as string[];
    let data = dataDir;
    if (argv.includes('--data-override')) {
      argv = argv.filter((a) => a !== '--data-override');
      data = join(dir, 'elsewhere');
    }
    const r = jpki(['--data', data, ...argv]);
    expect(r.status, r.stderr).toBe(exitCode);
    expect(r.stderr).toMatch(stderr);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});
