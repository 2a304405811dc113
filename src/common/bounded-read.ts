import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { JpkiError } from './errors.js';

/**
 * Reads a whole file, but never more than `maxBytes`: an input named on a command line can be anything —
 * `/dev/zero`, a FIFO, a log of gigabytes — and must end in a clear refusal, not a process that reads for ever
 * or runs out of memory. A regular file is judged by its size first; anything else is read until the limit.
 */
export function readFileBounded(path: string, maxBytes: number, what = 'file'): Buffer {
  // no file name holds a NUL byte (node would throw a TypeError, not a reason)
  if (path.includes('\0')) throw new JpkiError('INPUT_UNREADABLE', 'malformed', `the ${what} name ${JSON.stringify(path)} contains a NUL byte: no file has such a name`);
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw new JpkiError('INPUT_UNREADABLE', 'malformed', `the ${what} ${path} is a directory`);
    if (st.isFile() && st.size > maxBytes) throw tooLarge(path, what, maxBytes);
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const chunk = Buffer.allocUnsafe(Math.min(1 << 16, maxBytes + 1 - total));
      const n = readSync(fd, chunk, 0, chunk.length, null);
      if (n === 0) break;
      chunks.push(chunk.subarray(0, n));
      total += n;
      if (total > maxBytes) throw tooLarge(path, what, maxBytes);
    }
    return Buffer.concat(chunks, total);
  } finally {
    closeSync(fd);
  }
}

function tooLarge(path: string, what: string, maxBytes: number): JpkiError {
  return new JpkiError('INPUT_TOO_LARGE', 'malformed', `the ${what} ${path} is larger than ${maxBytes} bytes`, { limit: maxBytes });
}
