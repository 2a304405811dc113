// @peculiar/x509 needs the Reflect polyfill before it loads (this is the CLI's only user of it)
import 'reflect-metadata';
import type { Command } from 'commander';
import { X509Certificate } from '@peculiar/x509';
import { resolve } from 'node:path';
import { JpkiError } from '../../common/errors.js';
import { globalOptions } from '../global-options.js';
import { withCardIssuer } from '../../compose/card-issuer.js';
import { CERTIFICATES, CERTIFICATE_FILES, KEYS, PINS, toHex, type CardDescription, type CardHooks, type TearingPoint } from '../../card/index.js';
import { createCardFile, openCardFile, parseVpcdAddress, VpcdBridge, VPCD_DEFAULT_HOST, VPCD_DEFAULT_PORT } from '../../reader/index.js';

/**
 * `jpki card new | status | serve`: make a blank card image, show one, and put one into pcscd's vpcd reader
 * so that OpenSC and any PC/SC application can use it (docs/card.md).
 */
export function registerCard(program: Command): void {
  const card = program.command('card').description('the resident\u2019s IC card (software JPKI card): make, inspect, serve to pcscd');

  card
    .command('new')
    .description('make a blank card image: no keys, no certificates, PINs unset (what the resident brings to the counter)')
    .requiredOption('--out <file>', 'card image to create (must not exist)')
    .option('--token <name>', 'token name in EF 0006', 'JPKIAPICCTOKEN2')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { out: string; token: string; json?: boolean }, cmd: Command) => {
      const { dataDir } = globalOptions(cmd);
      if (!/^[\x20-\x7e]{1,32}$/.test(opts.token)) throw new JpkiError('card.token', 'malformed', '--token must be 1–32 printable ASCII characters');
      const path = resolve(opts.out);
      const { cardId } = await withCardIssuer(dataDir, (issuer) => createCardFile(path, { dataDir, issuer, token: opts.token }));
      if (opts.json) console.log(JSON.stringify({ cardId, file: path }));
      else console.log(`made blank card ${cardId} in ${path}`);
    });

  card
    .command('status')
    .description('show a card image: token, files present, tries left on each PIN')
    .requiredOption('--card <file>', 'card image')
    .option('--json', 'print as JSON')
    .action(async (opts: { card: string; json?: boolean }, cmd: Command) => {
      const { dataDir } = globalOptions(cmd);
      const opened = await openCardFile(resolve(opts.card), { dataDir, lock: false });
      const description = opened.describe();
      await opened.close();
      const status = cardStatus(description);
      console.log(opts.json ? JSON.stringify(status, null, 2) : formatStatus(status));
    });

  card
    .command('serve')
    .description('put the card into pcscd\u2019s vpcd reader (reconnects when pcscd restarts; Ctrl-C takes it out)')
    .requiredOption('--card <file>', 'card image')
    .option('--vpcd <host:port>', 'where pcscd\u2019s vpcd driver listens', `${VPCD_DEFAULT_HOST}:${VPCD_DEFAULT_PORT}`)
    .option('--trace', 'log every APDU to stderr (PIN and cryptogram bytes masked)')
    .action(async (opts: { card: string; vpcd: string; trace?: boolean }, cmd: Command) => {
      const { dataDir } = globalOptions(cmd);
      const address = parseVpcdAddress(opts.vpcd);
      if (!address) throw new JpkiError('card.vpcd-address', 'malformed', `--vpcd must be host:port, got ${JSON.stringify(opts.vpcd)}`);
      const path = resolve(opts.card);
      const served = await openCardFile(path, { dataDir, lock: true, applet: { hooks: testTearingHooks() } });
      const log = (line: string) => process.stderr.write(`jpki card serve: ${line}\n`);
      const bridge = new VpcdBridge(served, {
        ...address,
        onApdu: opts.trace
          ? (direction, bytes) => log(direction === 'command' ? `> ${maskSecrets(Buffer.from(bytes))}` : `< ${toHex(bytes)}`)
          : undefined,
      });
      let lastError = '';
      bridge.on('connected', () => log(`card ${served.cardId} inserted into vpcd at ${address.host}:${address.port}`));
      bridge.on('disconnected', () => log('vpcd went away; retrying every second'));
      bridge.on('connection-error', (e: Error) => {
        if (e.message !== lastError) log(`cannot reach vpcd at ${address.host}:${address.port} (${e.message}); retrying every second`);
        lastError = e.message;
      });
      if (opts.trace) for (const event of ['power-on', 'power-off', 'reset'] as const) bridge.on(event, () => log(event));
      log(`serving card ${served.cardId} (${path})`);
      bridge.start();
      await new Promise<void>((done) => {
        const stop = () => done();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await bridge.stop();
      await served.close();
      log('card removed');
    });
}

/**
 * Test-only: `JPKI_CARD_TEST_TEAR_AT=pin-try-spent` (or issuer-try-spent) makes the serving process kill itself
 * with SIGKILL right after a spent try reached the disk and before the comparison, like pulling a card out
 * mid-command. It can only ever lose the try the card already counted.
 */
function testTearingHooks(): CardHooks {
  const at = process.env.JPKI_CARD_TEST_TEAR_AT as TearingPoint | undefined;
  if (!at) return {};
  return {
    tearingPoint(point) {
      if (point === at) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** VERIFY, CHANGE REFERENCE DATA, RESET RETRY COUNTER and EXTERNAL AUTHENTICATE carry secrets in their data. */
function maskSecrets(apdu: Buffer): string {
  const ins = apdu[1];
  if (apdu.length > 5 && (ins === 0x20 || ins === 0x24 || ins === 0x2c || ins === 0x82)) {
    return `${toHex(apdu.subarray(0, 5))} ${'**'.repeat(apdu.length - 5)}`;
  }
  return toHex(apdu);
}

interface CertificateStatus {
  fid: string;
  present: boolean;
  size: number;
  subject?: string;
  issuer?: string;
  notAfter?: string;
}

export interface CardStatusReport {
  cardId: string;
  token: string;
  certificates: Record<string, CertificateStatus>;
  keys: Record<string, { fid: string; present: boolean }>;
  pins: Record<string, { fid: string; set: boolean; triesLeft: number; maxTries: number; blocked: boolean }>;
  issuer: { triesLeft: number; maxTries: number; locked: boolean };
}

function cardStatus(d: CardDescription): CardStatusReport {
  const fid = (n: number) => n.toString(16).toUpperCase().padStart(4, '0');
  const certificates: Record<string, CertificateStatus> = {};
  for (const file of CERTIFICATE_FILES) {
    const size = d.certificates[file];
    const entry: CertificateStatus = { fid: fid(CERTIFICATES[file].fid), present: size > 0, size };
    if (size > 0) {
      try {
        const cert = new X509Certificate(new Uint8Array(d.certificateBytes[file]));
        Object.assign(entry, { subject: cert.subject, issuer: cert.issuer, notAfter: cert.notAfter.toISOString() });
      } catch {
        // not parseable as X.509: report size only
      }
    }
    certificates[file] = entry;
  }
  return {
    cardId: d.cardId,
    token: d.token,
    certificates,
    keys: { auth: { fid: fid(KEYS.auth.fid), present: d.keys.auth }, sign: { fid: fid(KEYS.sign.fid), present: d.keys.sign } },
    pins: {
      auth: { fid: fid(PINS.auth.fid), ...d.pins.auth, blocked: d.pins.auth.set && d.pins.auth.triesLeft === 0 },
      sign: { fid: fid(PINS.sign.fid), ...d.pins.sign, blocked: d.pins.sign.set && d.pins.sign.triesLeft === 0 },
    },
    issuer: { ...d.issuer, locked: d.issuer.triesLeft === 0 },
  };
}

function formatStatus(s: CardStatusReport): string {
  const lines = [`card ${s.cardId}   token ${s.token}`, 'certificates:'];
  for (const [name, c] of Object.entries(s.certificates)) {
    lines.push(`  ${name.padEnd(8)} EF ${c.fid}  ${c.present ? `${c.size} bytes${c.subject ? `  ${c.subject}  (not after ${c.notAfter})` : ''}` : 'not written'}`);
  }
  lines.push('keys:');
  for (const [name, k] of Object.entries(s.keys)) lines.push(`  ${name.padEnd(8)} EF ${k.fid}  ${k.present ? 'RSA-2048 key pair on the card' : 'none'}`);
  lines.push('PINs:');
  for (const [name, p] of Object.entries(s.pins)) {
    const state = !p.set ? 'not set' : p.blocked ? `LOCKED (0 of ${p.maxTries} tries left)` : `${p.triesLeft} of ${p.maxTries} tries left`;
    lines.push(`  ${name.padEnd(8)} EF ${p.fid}  ${state}`);
  }
  lines.push(`issuer interface: ${s.issuer.locked ? 'LOCKED' : `${s.issuer.triesLeft} of ${s.issuer.maxTries} tries left`}`);
  return lines.join('\n');
}
