import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { needs } from '../support/system.js';
import { JPKI_BIN, jpki } from '../support/cli.js';
import { JpkiClient, PcscReader, PinBlockedError, openInProcessReader } from '../../src/reader/index.js';
import { withCardIssuer } from '../../src/compose/card-issuer.js';
import { AUTH_PIN, SIGN_PIN, personalise, type IssuedCertificates } from './support/cards.js';
import { OPENSC_PKCS11, acquirePcscdLock, cardInReader, ensurePcscd, middlewareAvailable, slotOf, tool, waitForCard, type Pcscd } from './support/pcscd.js';

/**
 * The card through the real stack: `jpki card serve` (the real CLI, as a child process) → vpcd → Debian's
 * pcscd → OpenSC's jpki driver, PKCS#15 emulation and PKCS#11 module → pkcs11-tool, checked with openssl.
 * Everything that goes through pcscd lives in this one file: there is one pcscd per machine and one vpcd
 * port (35963, reader "Virtual PCD 00 00"), so these tests must not run in parallel with each other.
 */
const SIGN_TOKEN = 'JPKI (Digital Signature PIN)';
const AUTH_TOKEN = 'JPKI (User Authentication PIN)';

interface Served {
  child: ChildProcess;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stop: () => Promise<void>;
}

describe.runIf(needs('pcscd + vpcd + OpenSC + openssl', middlewareAvailable()))('the card through pcscd, vpcd and OpenSC', () => {
  let pcscd: Pcscd;
  let dir: string;
  let dataDir: string;
  let cardFile: string;
  let certificates: IssuedCertificates;
  let served: Served | null = null;
  let releasePcscd: (() => Promise<void>) | undefined;
  const message = join(tmpdir(), `jpki-card-message-${process.pid}.txt`);

  function serve(env: Record<string, string> = {}): Promise<Served> {
    const child = spawn(process.execPath, [JPKI_BIN, '--data', dataDir, 'card', 'serve', '--card', cardFile], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`jpki card serve did not reach vpcd: ${out}`)), 60_000);
      child.stderr!.on('data', () => {
        if (!/inserted into vpcd/.test(out)) return;
        clearTimeout(timer);
        resolve({
          child,
          output: () => out,
          exit,
          stop: async () => {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
            await exit;
            await waitForCard(false);
          },
        });
      });
      void exit.then((e) => {
        clearTimeout(timer);
        reject(new Error(`jpki card serve exited (${e.code ?? e.signal}) before reaching vpcd: ${out}`));
      });
    }).then(async (s) => {
      await waitForCard(true);
      return s as Served;
    });
  }

  async function reserve(env: Record<string, string> = {}): Promise<void> {
    if (served) await served.stop();
    served = await serve(env);
  }

  const slots = new Map<string, string>();
  /**
   * `env` may force OpenSC's jpki driver (OPENSC_DRIVER=jpki) to skip the other drivers' probes in the
   * repetitive lockout loops: at about 44 ms per APDU through Debian's vpcd (docs/card.md, "Measured") the
   * probes cost 1.5 s per run, and card detection is already covered by the tests above.
   */
  function signWithPkcs11Tool(token: string, pin: string, id: '01' | '02', out: string, env: Record<string, string> = {}) {
    if (!slots.has(token)) slots.set(token, slotOf(token));
    return tool('pkcs11-tool', ['--module', OPENSC_PKCS11, '--slot', slots.get(token)!, '--login', '--pin', pin, '--sign', '--mechanism', 'SHA256-RSA-PKCS', '--id', id, '-i', message, '-o', out], env);
  }
  const JPKI_DRIVER_ONLY = { OPENSC_DRIVER: 'jpki' };

  function opensslVerifies(certificate: Buffer, signatureFile: string): { status: number; output: string } {
    const pub = join(dir, `pub-${Math.random().toString(36).slice(2)}.pem`);
    writeFileSync(pub, new X509Certificate(certificate).publicKey.export({ type: 'spki', format: 'pem' }));
    return tool('openssl', ['dgst', '-sha256', '-verify', pub, '-signature', signatureFile, message]);
  }

  function cardStatus(): { pins: Record<string, { triesLeft: number; blocked: boolean }> } {
    const r = jpki(['--data', dataDir, 'card', 'status', '--card', cardFile, '--json']);
    expect(r.status, r.stderr).toBe(0);
    return JSON.parse(r.stdout);
  }

  beforeAll(async () => {
    // pcscd is shared with the other test files that drive it (the counter's e2e test): one at a time.
    releasePcscd = await acquirePcscdLock();
    pcscd = await ensurePcscd();
    if (cardInReader()) throw new Error('another card is already in "Virtual PCD 00 00" (a `jpki card serve` left running?); these tests need the reader');
    dir = mkdtempSync(join(tmpdir(), 'jpki-card-stack-'));
    dataDir = join(dir, 'data');
    cardFile = join(dir, 'resident.card');
    writeFileSync(message, '電子申請書 — signed through pcscd and OpenSC\n');
    const made = jpki(['--data', dataDir, 'card', 'new', '--out', cardFile, '--json']);
    expect(made.status, made.stderr).toBe(0);
    served = await serve();
    // Personalise as the counter will, but through pcscd: keys on the card, certificates, PINs.
    const reader = await PcscReader.connect({ timeoutMs: 20_000 });
    try {
      ({ certificates } = await withCardIssuer(dataDir, (issuer) => personalise(new JpkiClient(reader), issuer)));
    } finally {
      await reader.close();
    }
  }, 20 * 60_000);

  afterAll(async () => {
    await served?.stop();
    await pcscd?.stop();
    await releasePcscd?.();
  });

  it('opensc-tool names the driver: jpki', () => {
    const r = tool('opensc-tool', ['-r', '0', '-n']);
    expect(r.status, r.output).toBe(0);
    expect(r.output.trim().split('\n').pop()).toBe('jpki');
    expect(tool('opensc-tool', ['-r', '0', '-a']).output).toContain('3b:e0:00:ff:81:31:fe:45:14');
  });

  it('pkcs15-tool lists both certificates and both CA certificates', () => {
    const r = tool('pkcs15-tool', ['--list-certificates']);
    expect(r.status, r.output).toBe(0);
    for (const label of ['User Authentication Certificate]', 'Digital Signature Certificate]', 'User Authentication Certificate CA]', 'Digital Signature Certificate CA]']) {
      expect(r.output).toContain(`X.509 Certificate [${label}`);
    }
    expect(r.output).toMatch(/Digital Signature Certificate\]\n\tObject Flags\s+: \[0x01\], private/);
  });

  it('pkcs15-tool reads the signing certificate only with the signing PIN', () => {
    const without = tool('pkcs15-tool', ['--read-certificate', '02']);
    expect(without.output).not.toContain('BEGIN CERTIFICATE');
    const withPin = tool('pkcs15-tool', ['--read-certificate', '02', '--verify-pin', '--auth-id', '02', '--pin', SIGN_PIN]);
    expect(withPin.status, withPin.output).toBe(0);
    expect(withPin.output).toContain(new X509Certificate(certificates.sign).toString().split('\n')[1]);
  });

  it('pkcs11-tool signs with the signing key (slot of the Digital Signature PIN, id 02); openssl verifies with the card\u2019s certificate', () => {
    const sig = join(dir, 'sign.sig');
    const r = signWithPkcs11Tool(SIGN_TOKEN, SIGN_PIN, '02', sig);
    expect(r.status, r.output).toBe(0);
    expect(readFileSync(sig).length).toBe(256);
    const v = opensslVerifies(certificates.sign, sig);
    expect(v.output.trim()).toBe('Verified OK');
    expect(opensslVerifies(certificates.auth, sig).output).not.toContain('Verified OK');
  });

  it('pkcs11-tool signs with the user-authentication key (slot of the User Authentication PIN, id 01); openssl verifies', () => {
    const sig = join(dir, 'auth.sig');
    const r = signWithPkcs11Tool(AUTH_TOKEN, AUTH_PIN, '01', sig);
    expect(r.status, r.output).toBe(0);
    expect(opensslVerifies(certificates.auth, sig).output.trim()).toBe('Verified OK');
  });

  it('five wrong signing PINs lock it (OpenSC reports the lock); the right PIN then fails; an issuer unlock restores it', async () => {
    for (let i = 1; i <= 5; i++) {
      const r = signWithPkcs11Tool(SIGN_TOKEN, 'WRONG1', '02', join(dir, `wrong${i}.sig`), JPKI_DRIVER_ONLY);
      expect(r.status, `attempt ${i}`).not.toBe(0);
      expect(r.output, `attempt ${i}`).toContain('CKR_PIN_INCORRECT');
    }
    const listing = tool('pkcs11-tool', ['--module', OPENSC_PKCS11, '-L']).output;
    expect(listing).toMatch(/token label\s+: JPKI \(Digital Signature PIN\)[\s\S]*?token flags\s+:[^\n]*user PIN locked/);
    expect(tool('pkcs15-tool', ['--list-pins']).output).toMatch(/PIN \[Digital Signature PIN\][\s\S]*?Tries left\s+: 0/);

    const sixth = join(dir, 'sixth.sig');
    const r6 = signWithPkcs11Tool(SIGN_TOKEN, SIGN_PIN, '02', sixth);
    expect(r6.status).not.toBe(0);
    expect(r6.output).toMatch(/C_Login failed/);
    expect(existsSync(sixth) && readFileSync(sixth).length === 256).toBe(false);
    // The auth PIN is a different counter and still works.
    expect(signWithPkcs11Tool(AUTH_TOKEN, AUTH_PIN, '01', join(dir, 'auth-after.sig')).status).toBe(0);

    // The counter's lock release, in-process on the card image while it is out of the reader.
    await served!.stop();
    served = null;
    expect(cardStatus().pins.sign).toMatchObject({ triesLeft: 0, blocked: true });
    const reader = await openInProcessReader(cardFile, { dataDir });
    try {
      const client = new JpkiClient(reader);
      await client.selectAp();
      await expect(client.verifyPin('sign', SIGN_PIN)).rejects.toBeInstanceOf(PinBlockedError);
      await withCardIssuer(dataDir, (issuer) => client.authenticateIssuer(issuer));
      await client.unlockPin('sign');
    } finally {
      await reader.close();
    }
    expect(cardStatus().pins.sign).toMatchObject({ triesLeft: 5, blocked: false });

    await reserve();
    const after = join(dir, 'after-unlock.sig');
    const r = signWithPkcs11Tool(SIGN_TOKEN, SIGN_PIN, '02', after);
    expect(r.status, r.output).toBe(0);
    expect(opensslVerifies(certificates.sign, after).output.trim()).toBe('Verified OK');
  }, 240_000);

  it('an issuer unlock also works through pcscd while the card is served', async () => {
    for (let i = 0; i < 3; i++) expect(signWithPkcs11Tool(AUTH_TOKEN, '0000', '01', join(dir, 'x.sig'), JPKI_DRIVER_ONLY).output).toContain('CKR_PIN_INCORRECT');
    expect(tool('pkcs11-tool', ['--module', OPENSC_PKCS11, '-L']).output).toMatch(/token label\s+: JPKI \(User Authentication PIN\)[\s\S]*?token flags\s+:[^\n]*user PIN locked/);
    const reader = await PcscReader.connect({ timeoutMs: 20_000 });
    try {
      const client = new JpkiClient(reader);
      await withCardIssuer(dataDir, (issuer) => client.authenticateIssuer(issuer));
      await client.unlockPin('auth');
      await client.selectAp();
      expect(await client.pinStatus('auth')).toEqual({ triesLeft: 3, maxTries: 3, blocked: false });
    } finally {
      await reader.close();
    }
    expect(signWithPkcs11Tool(AUTH_TOKEN, AUTH_PIN, '01', join(dir, 'auth-unlocked.sig')).status).toBe(0);
  }, 120_000);

  it('killing the card between the counter decrement and the PIN comparison spends the try, even for the right PIN', async () => {
    expect(cardStatus().pins.sign.triesLeft).toBe(5);
    await reserve({ JPKI_CARD_TEST_TEAR_AT: 'pin-try-spent' });
    const killed = served!;
    // VERIFY with the right signing PIN, as raw APDUs through pcscd: the card dies right after persisting the decrement.
    tool('opensc-tool', ['-r', '0', '-s', '00A4040C0AD392F000260100000001', '-s', '00A4020C02001B', '-s', `002000800${SIGN_PIN.length.toString(16)}${Buffer.from(SIGN_PIN).toString('hex')}`]);
    expect(await killed.exit).toEqual({ code: null, signal: 'SIGKILL' });
    served = null;
    await waitForCard(false);
    expect(cardStatus().pins.sign).toMatchObject({ triesLeft: 4 });

    // Back in the reader without the hook: the right PIN verifies and the counter is full again.
    await reserve();
    const reader = await PcscReader.connect({ timeoutMs: 20_000 });
    try {
      const client = new JpkiClient(reader);
      await client.selectAp();
      expect(await client.pinStatus('sign')).toMatchObject({ triesLeft: 4 });
      await client.verifyPin('sign', SIGN_PIN);
      expect(await client.pinStatus('sign')).toMatchObject({ triesLeft: 5 });
    } finally {
      await reader.close();
    }
  }, 120_000);
});
