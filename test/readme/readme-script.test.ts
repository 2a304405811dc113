import { afterEach, describe, expect, it } from 'vitest';
import { marksOf, shellBlocks, splitComment } from './readme-script.js';
import { freshWorkDir, removeDir, runBlocks } from './run-readme.js';

const fence = '```';
const md = (...blocks: [string, string][]) => blocks.map(([info, body]) => `text\n\n${fence}${info}\n${body}\n${fence}\n`).join('\n');

describe('the README-test convention: reading the README', () => {
  it('runs ```sh blocks and shows ```sh no-run and other languages only', () => {
    const blocks = shellBlocks(md(['sh', 'echo a'], ['sh no-run', 'npm start'], ['text', 'output'], ['bash', 'echo b']));
    expect(blocks.map((b) => [b.info, b.run])).toEqual([
      ['sh', true],
      ['sh no-run', false],
      ['text', false],
      ['bash', true],
    ]);
    expect(blocks[0]!.firstLine).toBe(4);
  });

  it('refuses a block that is never closed', () => {
    expect(() => shellBlocks(`${fence}sh\necho a\n`)).toThrow(/never closed/);
  });

  it('reads `# exit N`, a trailing `&` and `# ready: TEXT`; a # inside quotes or a word is not a comment', () => {
    expect(marksOf('npx jpki init --key-algorithm p256   # exit 75: differs')).toEqual({ command: 'npx jpki init --key-algorithm p256', background: false, expectedExit: 75 });
    expect(marksOf('npx jpki serve &   # ready: listening on')).toEqual({ command: 'npx jpki serve &', background: true, ready: 'listening on' });
    expect(marksOf('a && b')).toMatchObject({ background: false });
    expect(splitComment("echo '# not' \"#x\" a#b # yes")).toEqual({ code: "echo '# not' \"#x\" a#b ", comment: 'yes' });
    expect(marksOf('echo 1   # exits with 0 here, says the text')).not.toHaveProperty('expectedExit');
  });
});

describe('the README-test convention: running it', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) removeDir(dir);
    dir = undefined;
  });

  it('runs blocks in order in one shell: variables carry over; a promised exit status passes', async () => {
    dir = freshWorkDir();
    const r = await runBlocks(shellBlocks(md(['sh', 'X=$(echo hello)\nsh -c "exit 3"   # exit 3'], ['sh', 'test "$X" = hello && echo "x is $X" \\\n  > out.txt'])), dir);
    expect(r.output).not.toContain('::readme-failed');
    expect(r.status).toBe(0);
    expect(r.commands).toBe(3);
  });

  it('fails on an unpromised non-zero exit, naming the README line', async () => {
    dir = freshWorkDir();
    const r = await runBlocks(shellBlocks(md(['sh', 'echo one\nfalse\necho never'])), dir);
    expect(r.status).not.toBe(0);
    expect(r.failedLine).toBe(5);
    expect(r.output).not.toContain('never');
  });

  it('fails when a promised failure succeeds or fails differently', async () => {
    dir = freshWorkDir();
    const zero = await runBlocks(shellBlocks(md(['sh', 'true   # exit 64'])), dir);
    expect(zero.status).not.toBe(0);
    expect(zero.failure).toBe('exit status 0, the README promises 64');
    const other = await runBlocks(shellBlocks(md(['sh', 'sh -c "exit 2" \\\n  -- x   # exit 64'])), dir);
    expect(other.failedLine).toBe(5);
    expect(other.failure).toBe('exit status 2, the README promises 64');
  });

  it('fails on a failure inside a pipeline (pipefail)', async () => {
    dir = freshWorkDir();
    const r = await runBlocks(shellBlocks(md(['sh', 'false | cat'])), dir);
    expect(r.status).not.toBe(0);
  });

  it('substitutes the port, waits for a background command to be ready and stops it at the end', async () => {
    dir = freshWorkDir();
    const server = `node -e "require('http').createServer((q,s)=>s.end('up')).listen(8080,()=>console.log('listening on 8080'))" &   # ready: listening on`;
    const r = await runBlocks(shellBlocks(md(['sh', `${server}\ncurl -sf http://127.0.0.1:8080/ > got.txt\ngrep -q up got.txt`])), dir, {
      substitutions: [['8080', '0']],
    });
    // port 0 cannot be reached: the substitution happened, so curl fails on the right line
    expect(r.failedLine).toBe(5);
    const ok = await runBlocks(
      shellBlocks(md(['sh', `node -e "setTimeout(()=>console.log('ready now'),300); setInterval(()=>{},1000)" &   # ready: ready now\necho after`])),
      dir,
    );
    expect(ok.status).toBe(0);
    expect(ok.output).toContain('after');
  });

  it('reports a background command that exits before it is ready', async () => {
    dir = freshWorkDir();
    const r = await runBlocks(shellBlocks(md(['sh', 'sh -c "echo starting; exit 1" &   # ready: never printed'])), dir);
    expect(r.status).not.toBe(0);
    expect(r.failure).toBe('status background-exited');
  });
});
