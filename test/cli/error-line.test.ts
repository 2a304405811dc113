/**
 * A refusal is one line `jpki: … [CODE]`, whatever the user typed: a file name or option with a newline or
 * another control character is shown escaped (the CLI fuzzer found `jpki restore "\n"` printing two lines).
 */
import { describe, expect, it } from 'vitest';
import { JpkiError } from '../../src/common/errors.js';
import { describeError, oneLine } from '../../src/cli/exit.js';
import { jpki } from '../support/cli.js';

describe('the error line', () => {
  it('escapes control characters, keeps other text as it is', () => {
    expect(oneLine('a\nb\r\tc\u0000d\u007f\u2028e 東京都 ✓')).toBe('a\\nb\\r\\tc\\u0000d\\u007f\\u2028e 東京都 ✓');
    expect(describeError(new JpkiError('BACKUP_INVALID', 'malformed', '/tmp/x\ny holds no backup'))).toBe('/tmp/x\\ny holds no backup [BACKUP_INVALID]');
  });

  it('a path and an option with a newline come out on one line', () => {
    const restore = jpki(['--data', '/nonexistent-jpki-data', 'restore', 'in\nput']);
    expect(restore.status).not.toBe(0);
    expect(restore.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(restore.stderr).toMatch(/in\\nput/);
    const usage = jpki(['--x\ny']);
    expect(usage.status).toBe(64);
    expect(usage.stderr.trimEnd().split('\n')).toEqual(["jpki: unknown option '--x\\ny' (see `jpki --help`) [USAGE]"]);
  });
});
