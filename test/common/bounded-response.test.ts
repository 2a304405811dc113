import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CRL_BYTES, MAX_OCSP_RESPONSE_BYTES, readResponseBounded } from '../../src/common/bounded-read.js';
import { httpFetcher } from '../../src/compose/verifier.js';

/**
 * Answers from revocation servers are read with a bound (the relying party's fetcher, the client's OCSP and
 * CRL checks): a server that sends without end, or declares a body over the limit, is refused with a reason.
 */
let server: Server;
let base: string;
let endlessBytesSent = 0;

beforeAll(async () => {
  server = createServer((req, res) => {
    if (req.url === '/small.crl') {
      res.writeHead(200, { 'content-type': 'application/pkix-crl' });
      return res.end(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
    }
    if (req.url === '/declared-huge') {
      // declares more than the OCSP limit and sends nothing of it
      res.writeHead(200, { 'content-type': 'application/ocsp-response', 'content-length': String(MAX_OCSP_RESPONSE_BYTES + 1) });
      return res.flushHeaders();
    }
    // without end, no Content-Length (chunked)
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const chunk = Buffer.alloc(1 << 20, 0x41);
    const pump = () => {
      while (!res.destroyed && res.write(chunk)) endlessBytesSent += chunk.length;
      if (!res.destroyed) res.once('drain', pump);
    };
    res.on('close', () => res.removeAllListeners('drain'));
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const signal = () => AbortSignal.timeout(30_000);

describe('the relying party reads revocation answers with a bound', () => {
  it('hands back a small CRL whole', async () => {
    expect(Buffer.from(await httpFetcher.fetch(`${base}/small.crl`, { signal: signal() }))).toEqual(Buffer.from([0x30, 0x03, 0x02, 0x01, 0x05]));
  });

  it('refuses an OCSP answer whose declared length passes the limit, before reading it', async () => {
    await expect(httpFetcher.fetch(`${base}/declared-huge`, { body: new Uint8Array([0x30, 0x00]), signal: signal() })).rejects.toThrow(
      new RegExp(`larger than ${MAX_OCSP_RESPONSE_BYTES} bytes \\(Content-Length ${MAX_OCSP_RESPONSE_BYTES + 1}\\)`),
    );
  });

  it('stops an OCSP answer that never ends just past the OCSP limit', async () => {
    endlessBytesSent = 0;
    await expect(httpFetcher.fetch(`${base}/endless`, { body: new Uint8Array([0x30, 0x00]), signal: signal() })).rejects.toThrow(`larger than ${MAX_OCSP_RESPONSE_BYTES} bytes`);
    // the server was cut off long before the CRL limit (socket buffers hold a few MiB at most)
    expect(endlessBytesSent).toBeLessThan(64 << 20);
  });

  it('stops a CRL download that never ends at the CRL limit', async () => {
    await expect(httpFetcher.fetch(`${base}/endless`, { signal: signal() })).rejects.toThrow(`larger than ${MAX_CRL_BYTES} bytes`);
  }, 60_000);

  it('reads a body up to the limit exactly', async () => {
    const r = new Response(new Uint8Array(1000));
    expect((await readResponseBounded(r, 1000)).length).toBe(1000);
    await expect(readResponseBounded(new Response(new Uint8Array(1001)), 1000)).rejects.toThrow('larger than 1000 bytes');
  });
});
