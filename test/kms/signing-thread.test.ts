/**
 * The software key store's signing thread (src/kms/signing-thread.ts): its signatures are node:crypto's, it
 * keeps many in flight for several keys apart, a failed signature fails alone, the event loop runs while it
 * signs, and an idle thread does not keep a process alive.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync, sign, verify } from 'node:crypto';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { signingThreadTime, signOnThread } from '../../src/kms/signing-thread.js';

const run = promisify(execFile);
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });

describe('the signing thread', () => {
  it('makes the same RSA PKCS#1 signatures as node:crypto on the event loop, and ECDSA ones that verify', async () => {
    const data = Buffer.from('TBSCertificate bytes');
    expect(Buffer.compare(await signOnThread('sha256', data, rsa.privateKey), sign('sha256', data, rsa.privateKey))).toBe(0);
    expect(Buffer.compare(await signOnThread('sha384', data, rsa.privateKey), sign('sha384', data, rsa.privateKey))).toBe(0);
    const ecdsa = await signOnThread('sha256', data, ec.privateKey);
    expect(ecdsa[0]).toBe(0x30); // DER Ecdsa-Sig-Value, node's default encoding
    expect(verify('sha256', data, ec.publicKey, ecdsa)).toBe(true);
  });

  it('keeps a hundred signatures for two keys in flight, each with its own key and data', async () => {
    const jobs = Array.from({ length: 100 }, (_, i) => ({ data: Buffer.from(`document ${i}`), pair: i % 3 === 0 ? ec : rsa }));
    const signatures = await Promise.all(jobs.map((j) => signOnThread('sha256', j.data, j.pair.privateKey)));
    jobs.forEach((j, i) => expect(verify('sha256', j.data, j.pair.publicKey, signatures[i]!)).toBe(true));
    // and not for another document
    expect(verify('sha256', jobs[1]!.data, rsa.publicKey, signatures[2]!)).toBe(false);
  });

  it('counts the time it spends signing (bench/issuance.ts: is the signing thread the limit?)', async () => {
    await signOnThread('sha256', Buffer.from('start the thread'), rsa.privateKey);
    const before = signingThreadTime();
    await Promise.all(Array.from({ length: 40 }, (_, i) => signOnThread('sha256', Buffer.from(`busy ${i}`), rsa.privateKey)));
    const after = signingThreadTime();
    // forty RSA-2048 signatures: well over a millisecond of signing, all of it counted as busy
    expect(after.active - before.active).toBeGreaterThan(1);
    expect(after.idle).toBeGreaterThanOrEqual(before.idle);
    await new Promise((r) => setTimeout(r, 50));
    const rested = signingThreadTime();
    expect(rested.idle - after.idle).toBeGreaterThan(rested.active - after.active);
  });

  it('fails a signature it cannot make with the reason, and goes on signing', async () => {
    await expect(signOnThread('no-such-digest', Buffer.from('x'), rsa.privateKey)).rejects.toThrow(/digest/i);
    const data = Buffer.from('after the failure');
    expect(verify('sha256', data, rsa.publicKey, await signOnThread('sha256', data, rsa.privateKey))).toBe(true);
  });

  it('leaves the event loop free while it signs', async () => {
    let finished = 0;
    const all = Promise.all(Array.from({ length: 200 }, () => signOnThread('sha256', Buffer.from('y'), rsa.privateKey).then(() => finished++)));
    // 200 RSA-2048 signatures take ~50 ms or more: a timer set now fires long before the last one is made
    const atTimer = await new Promise<number>((resolve) => setTimeout(() => resolve(finished), 0));
    await all;
    expect(atTimer).toBeLessThan(200);
    expect(finished).toBe(200);
  });

  it('does not keep a process alive once its signatures are made', async () => {
    const script = [
      "import { generateKeyPairSync, verify } from 'node:crypto';",
      "import { signOnThread } from './src/kms/signing-thread.ts';",
      "const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });",
      "const s = await signOnThread('sha256', Buffer.from('z'), privateKey);",
      "console.log(verify('sha256', Buffer.from('z'), publicKey, s) ? 'signed' : 'wrong');",
    ].join('\n');
    const { stdout } = await run(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: `${import.meta.dirname}/../..`, timeout: 20_000 });
    expect(stdout.trim()).toBe('signed');
  });
});
