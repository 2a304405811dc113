/** `jpki serve --workers N`: the young generation each worker runs with, and the operator's own choice kept. */
import { describe, it, expect } from 'vitest';
import { workerExecArgv } from '../../src/cli/commands/serve.js';

describe('workerExecArgv', () => {
  it('gives a worker an 8 MiB semi-space after the primary’s own flags', () => {
    expect(workerExecArgv(['--enable-source-maps'], undefined)).toEqual(['--enable-source-maps', '--max-semi-space-size=8']);
    expect(workerExecArgv([], '')).toEqual(['--max-semi-space-size=8']);
  });

  it('keeps a size the operator chose on the command line or in NODE_OPTIONS', () => {
    expect(workerExecArgv(['--max-semi-space-size=32'], undefined)).toEqual(['--max-semi-space-size=32']);
    expect(workerExecArgv(['--max_semi_space_size=2'], undefined)).toEqual(['--max_semi_space_size=2']);
    expect(workerExecArgv([], '--require x.cjs --max-semi-space-size=4')).toEqual([]);
  });

  it('is not fooled by a flag that only starts alike', () => {
    expect(workerExecArgv(['--max-semi-space-sizes-are-fun'], undefined)).toEqual(['--max-semi-space-sizes-are-fun', '--max-semi-space-size=8']);
  });
});
