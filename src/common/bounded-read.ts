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

/**
 * The body of an HTTP answer, but never more than `maxBytes`: a server that answers without end (or a
 * CRL of gigabytes) ends in a refusal once the limit is passed, not in a process that runs out of memory. A
 * Content-Length above the limit is refused before any of the body is read.
 */
export async function readResponseBounded(response: Response, maxBytes: number): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => undefined);
    throw new Error(`the answer is larger than ${maxBytes} bytes (Content-Length ${declared})`);
  }
  if (!response.body) return Buffer.alloc(0);
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new Error(`the answer is larger than ${maxBytes} bytes`);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

/**
 * What a relying party accepts from a revocation server: an OCSP response names one certificate or a few
 * (kilobytes); a CRL of a million entries is about 40 MB, so 256 MiB leaves room for a country's largest.
 */
export const MAX_OCSP_RESPONSE_BYTES = 1 << 20;
export const MAX_CRL_BYTES = 256 << 20;
