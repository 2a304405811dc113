import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { readFileBounded } from '../../common/bounded-read.js';
import { resolve } from 'node:path';
import { systemClock } from '../../common/clock.js';
import { JpkiError } from '../../common/errors.js';
import {
  buildAgent,
  certificateFromFile,
  certificateHtml,
  checkValidity,
  compareFingerprints,
  DEFAULT_AGENT_ORIGINS,
  DEFAULT_AGENT_PORT,
  loadFingerprintList,
  onlineRevocation,
  trustAnchorsOnCard,
  viewCertificate,
  viewerPlugin,
  withCard,
  ClientError,
  type CardSource,
  type CertificateView,
  type Lang,
} from '../../client/index.js';
import { VPCD_READER_NAME } from '../../reader/index.js';
import { globalOptions } from '../global-options.js';
import { print, printJson } from '../output.js';
import { readPin } from '../pin-prompt.js';

/**
 * `jpki client …`: the user client software (guide §4(5), (6), (9), (10)) — the certificate viewer, PIN
 * change, fingerprints, validity check, signing, online revocation, and the local agent for web pages. The
 * same commands work on a card image (`--card FILE`) and on any JPKI card in a PC/SC reader (`--reader NAME`).
 */
interface CardOptions {
  card?: string;
  reader?: string;
}

function cardSource(o: CardOptions, cmd: Command): CardSource {
  if (o.card && o.reader) throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', 'give either --card or --reader, not both');
  if (o.card) return { type: 'image', path: resolve(o.card), dataDir: globalOptions(cmd).dataDir };
  return { type: 'pcsc', readerName: o.reader ?? process.env.JPKI_READER ?? VPCD_READER_NAME };
}

function withCardOptions(c: Command): Command {
  return c
    .option('--card <file>', 'a card image (made by `jpki card new`, needs the --data directory that made it)')
    .option('--reader <name>', `a PC/SC reader with the card (env JPKI_READER; default "${VPCD_READER_NAME}")`);
}

function lang(text: string | undefined): Lang {
  const l = text ?? 'ja';
  if (l !== 'ja' && l !== 'en' && l !== 'ko') throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', `--lang ${JSON.stringify(l)}: use ja, en or ko`);
  return l;
}

/** The largest file `client` reads (a document to sign; certificates are far smaller). */
const MAX_CLIENT_INPUT_BYTES = 64 << 20;

function readFileOrFail(path: string, what: string): Buffer {
  try {
    // bounded: `client sign /dev/zero` read for ever (found by fuzzing)
    return readFileBounded(path, MAX_CLIENT_INPUT_BYTES, what.replace(/^the /, ''));
  } catch (e) {
    if (e instanceof JpkiError) throw e;
    throw new ClientError('CLIENT_FILE_UNREADABLE', 'not-found', `cannot read ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

function writeFileOrFail(path: string, data: string | Buffer, what: string): void {
  try {
    writeFileSync(path, data);
  } catch (e) {
    throw new ClientError('CLIENT_FILE_UNWRITABLE', 'unavailable', `cannot write ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** The 基本 tab as text: one `label: value` a line. */
export function basicText(view: CertificateView, l: Lang): string {
  return view.basic.map((r) => `${r.label[l]}: ${r.value[l]}`).join('\n');
}

/** The 詳細 tab as text, nested rows indented. */
export function detailsText(view: CertificateView, l: Lang): string {
  const lines: string[] = [];
  const walk = (rows: CertificateView['details'], depth: number) => {
    for (const r of rows) {
      const critical = r.critical ? ` [${l === 'ja' ? '重要' : l === 'ko' ? '중요' : 'critical'}]` : '';
      const value = r.value ? r.value[l].split('\n') : [];
      lines.push(`${'  '.repeat(depth)}${r.label[l]}${critical}:${value.length === 1 ? ` ${value[0]}` : ''}`);
      if (value.length > 1) for (const v of value) lines.push(`${'  '.repeat(depth + 1)}${v}`);
      if (r.rows) walk(r.rows, depth + 1);
    }
  };
  walk(view.details, 0);
  return lines.join('\n');
}

export function registerClient(program: Command): void {
  const client = program.command('client').description('the user client software: certificate viewer, PIN change, fingerprints, validity check, signing, online revocation, local agent');

  withCardOptions(
    client
      .command('show')
      .description('show the signing certificate as the viewer does (基本 tab by default); the signing password is asked for on a card')
      .option('--cert <file>', 'a certificate file instead of the card (PEM or DER)')
      .option('--auth', 'the user-authentication certificate instead (no password needed)')
      .option('--details', 'every field and extension (the 詳細 tab)')
      .option('--html <out>', 'write the certificate as a standalone HTML page (HTML表示)')
      .option('--json', 'the whole view as JSON')
      .option('--lang <lang>', 'ja, en or ko', 'ja'),
  ).action(async (o: CardOptions & { cert?: string; auth?: boolean; details?: boolean; html?: string; json?: boolean; lang?: string }, cmd: Command) => {
    const l = lang(o.lang);
    let der: Buffer;
    if (o.cert) {
      if (o.card || o.reader) throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', 'give --cert, or --card / --reader, not both');
      der = certificateFromFile(readFileOrFail(o.cert, 'the certificate file'), o.cert);
    } else {
      const source = cardSource(o, cmd);
      const file = o.auth ? 'auth' : 'sign';
      const pin = file === 'sign' ? await readPin('sign') : undefined;
      der = await withCard(source, (card) => card.certificate(file, pin));
    }
    const view = viewCertificate(der);
    if (o.html) {
      writeFileOrFail(o.html, certificateHtml(view, l), 'the HTML page');
      print(`wrote ${resolve(o.html)}`);
      return;
    }
    if (o.json) return printJson(view);
    print(o.details ? detailsText(view, l) : basicText(view, l));
  });

  const pin = client.command('pin').description('the card\u2019s PINs: tries left, change');
  withCardOptions(pin.command('status').description('tries left on both PINs').option('--json', 'as JSON')).action(async (o: CardOptions & { json?: boolean }, cmd: Command) => {
    const status = await withCard(cardSource(o, cmd), async (card) => ({ sign: await card.pinStatus('sign'), auth: await card.pinStatus('auth') }));
    if (o.json) return printJson(status);
    print(`署名用パスワード (sign): ${status.sign.blocked ? 'ロック中 (LOCKED) — go to the municipal counter for a lock-release application' : `${status.sign.triesLeft}/${status.sign.maxTries} tries left`}`);
    print(`利用者証明用暗証番号 (auth): ${status.auth.blocked ? 'ロック中 (LOCKED) — go to the municipal counter for a lock-release application' : `${status.auth.triesLeft}/${status.auth.maxTries} tries left`}`);
  });
  withCardOptions(
    pin
      .command('change')
      .description('change a PIN (asks for the current one, then the new one twice; or JPKI_SIGN_PIN/JPKI_AUTH_PIN and JPKI_NEW_PIN)')
      .requiredOption('--pin <which>', 'sign (署名用パスワード) or auth (利用者証明用暗証番号)'),
  ).action(async (o: CardOptions & { pin: string }, cmd: Command) => {
    if (o.pin !== 'sign' && o.pin !== 'auth') throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', `--pin ${JSON.stringify(o.pin)}: use sign or auth`);
    const which = o.pin;
    const source = cardSource(o, cmd);
    const current = await readPin(which);
    const next = await readPin(which, `new ${which === 'sign' ? '署名用パスワード' : '利用者証明用暗証番号'}: `, 'JPKI_NEW_PIN');
    const again = process.env.JPKI_NEW_PIN ? next : await readPin(which, 'again / もう一度: ', 'JPKI_NEW_PIN');
    if (again !== next) throw new ClientError('PIN_MISMATCH', 'malformed', 'the two new PINs differ; nothing was changed');
    await withCard(source, (card) => card.changePin(which, current, next));
    print(`${which === 'sign' ? '署名用パスワード' : '利用者証明用暗証番号'} changed`);
  });

  withCardOptions(
    client
      .command('sign <file>')
      .description('sign FILE with the card: a detached CMS SignedData (CAdES-BES attributes, certificate included)')
      .requiredOption('--out <file>', 'where to write the signature (DER, .p7s)')
      .option('--key <key>', 'sign (署名用, default) or auth (利用者証明用)', 'sign'),
  ).action(async (file: string, o: CardOptions & { out: string; key: string }, cmd: Command) => {
    if (o.key !== 'sign' && o.key !== 'auth') throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', `--key ${JSON.stringify(o.key)}: use sign or auth`);
    const key = o.key;
    const content = readFileOrFail(file, 'the file to sign');
    const source = cardSource(o, cmd);
    const pinValue = await readPin(key);
    const signed = await withCard(source, (card) => card.signDetached(key, content, pinValue, systemClock));
    writeFileOrFail(o.out, signed.signature, 'the signature');
    print(`signed ${file} (${content.length} bytes) → ${o.out}`);
  });

  withCardOptions(
    client
      .command('fingerprints')
      .description('SHA-1 and SHA-256 fingerprints of the CA self-signed certificates on the card (and the bridge CA\u2019s), optionally compared with the portal\u2019s list')
      .option('--bridge <file>', 'the bridge CA\u2019s self-signed certificate (from the client download) to show as well')
      .option('--compare <url-or-file>', 'the portal\u2019s machine-readable list (/api/portal/trust-anchors) to compare with; exit 1 on a mismatch')
      .option('--json', 'as JSON'),
  ).action(async (o: CardOptions & { bridge?: string; compare?: string; json?: boolean }, cmd: Command) => {
    const anchors = await withCard(cardSource(o, cmd), (card) => trustAnchorsOnCard(card));
    if (o.bridge) anchors.push({ source: 'file', der: certificateFromFile(readFileOrFail(o.bridge, 'the bridge CA certificate'), o.bridge) });
    const shown = anchors.map((a) => ({ source: a.source, ...summary(viewCertificate(a.der)) }));
    const comparison = o.compare ? compareFingerprints(shown, await loadFingerprintList(o.compare)) : null;
    if (o.json) printJson({ certificates: shown, ...(comparison ? { comparison } : {}) });
    else {
      for (const c of shown) {
        print(`${c.name}  (${c.source === 'file' ? 'bridge CA certificate file' : `on the card, EF ${c.source}`})`);
        print(`  subject: ${c.subject}`);
        print(`  SHA-1:   ${c.sha1}`);
        print(`  SHA-256: ${c.sha256}`);
        const m = comparison?.find((x) => x.sha256 === c.sha256);
        if (m) print(`  portal:  ${m.match ? `一致 (match: ${m.listed})` : `不一致 (MISMATCH: ${m.reason})`}`);
      }
    }
    if (comparison?.some((c) => !c.match)) {
      process.stderr.write('jpki: a fingerprint does not match the portal\u2019s list: do not trust this card\u2019s CA certificate [FINGERPRINT_MISMATCH]\n');
      process.exitCode = 1;
    }
  });

  withCardOptions(
    client
      .command('check')
      .description('validity of the card\u2019s certificate: expiry, then revocation by OCSP (the CRL as fallback); one verdict')
      .option('--cert <file>', 'a certificate file instead of the card')
      .option('--issuer <file>', 'the issuing CA\u2019s certificate (with --cert; the card has its own)')
      .option('--auth', 'the user-authentication certificate (default: the signing certificate, which needs the signing password)')
      .option('--responder <url>', 'ask this OCSP responder instead of the one the certificate names')
      .option('--json', 'as JSON'),
  ).action(async (o: CardOptions & { cert?: string; issuer?: string; auth?: boolean; responder?: string; json?: boolean }, cmd: Command) => {
    let certificate: Buffer;
    let issuer: Buffer;
    if (o.cert) {
      certificate = certificateFromFile(readFileOrFail(o.cert, 'the certificate file'), o.cert);
      if (!o.issuer) throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', '--cert needs --issuer (the CA certificate that issued it)');
      issuer = certificateFromFile(readFileOrFail(o.issuer, 'the issuer certificate'), o.issuer);
    } else {
      const file = o.auth ? 'auth' : 'sign';
      const pinValue = file === 'sign' ? await readPin('sign') : undefined;
      [certificate, issuer] = await withCard(cardSource(o, cmd), async (card) => [await card.certificate(file, pinValue), await card.certificate(file === 'sign' ? 'sign-ca' : 'auth-ca')]);
    }
    if (o.responder !== undefined && !/^https?:\/\/\S+$/.test(o.responder)) throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', `--responder ${JSON.stringify(o.responder)} is not an http(s) URL`);
    const verdict = await checkValidity({ certificate, issuer, clock: systemClock, ...(o.responder ? { responders: [o.responder] } : {}) });
    if (o.json) printJson(verdict);
    else print(verdict.text);
    if (verdict.status !== 'valid') process.exitCode = verdict.status === 'unavailable' ? 3 : 2;
  });

  withCardOptions(
    client
      .command('revoke')
      .description('online revocation through the portal\u2019s online window: the card signs the portal\u2019s fresh challenge')
      .requiredOption('--portal <url>', 'the portal\u2019s base URL, e.g. http://127.0.0.1:8080')
      .option('--reason <reason>', 'unspecified, keyCompromise, affiliationChanged, superseded or cessationOfOperation', 'unspecified')
      .option('--auth', 'revoke the user-authentication certificate (default: the signing certificate)')
      .option('--yes', 'do not ask for confirmation')
      .option('--json', 'as JSON'),
  ).action(async (o: CardOptions & { portal: string; reason: string; auth?: boolean; yes?: boolean; json?: boolean }, cmd: Command) => {
    const key = o.auth ? 'auth' : 'sign';
    const pinValue = await readPin(key);
    if (!o.yes && process.stdin.isTTY) {
      const answer = await readPin(key, `revoke the ${key === 'sign' ? '署名用' : '利用者証明用'} certificate? It cannot be undone. Type yes: `, 'JPKI_CONFIRM');
      if (answer !== 'yes') throw new ClientError('CLIENT_ABORTED', 'malformed', 'not revoked');
    }
    const notice = await onlineRevocation({ portal: o.portal, key, reason: o.reason, clock: systemClock, sign: (content) => withCard(cardSource(o, cmd), (card) => card.signDetached(key, content, pinValue, systemClock)) });
    if (o.json) return printJson(notice);
    print(`受理しました (accepted): certificate ${notice.serial} of ${notice.issuer} revoked at ${notice.revokedAt} (${notice.reason}); notice ${notice.noticeNumber}`);
  });

  withCardOptions(
    client
      .command('agent')
      .description('the local client agent: lets allow-listed web pages read the certificate and have something signed, with the PIN typed in the agent\u2019s own window')
      .option('--port <port>', 'TCP port on 127.0.0.1', String(DEFAULT_AGENT_PORT))
      .option('--allow-origin <origin>', 'an origin allowed to use the agent (repeatable; env JPKI_AGENT_ORIGINS, comma-separated)', (v: string, acc: string[]) => [...acc, v], [] as string[]),
  ).action(async (o: CardOptions & { port: string; allowOrigin: string[] }, cmd: Command) => {
    const port = Number(o.port);
    if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ClientError('CLIENT_OPTIONS_INVALID', 'malformed', `--port ${o.port} is not a TCP port`);
    const origins = o.allowOrigin.length ? o.allowOrigin : process.env.JPKI_AGENT_ORIGINS ? process.env.JPKI_AGENT_ORIGINS.split(',').map((s) => s.trim()).filter(Boolean) : DEFAULT_AGENT_ORIGINS;
    const source = cardSource(o, cmd);
    const app = await buildAgent({ card: source, allowedOrigins: origins, clock: systemClock, onEvent: (line) => process.stderr.write(`jpki client agent: ${line}\n`), plugins: [viewerPlugin({ card: source })] });
    try {
      await app.listen({ port, host: '127.0.0.1' });
    } catch (e) {
      throw new JpkiError('AGENT_LISTEN_FAILED', 'unavailable', `cannot listen on 127.0.0.1:${port}: ${(e as Error).message}`);
    }
    const address = app.server.address();
    const actual = typeof address === 'object' && address ? address.port : port;
    print(`jpki client agent listening on http://127.0.0.1:${actual} (allowed origins: ${origins.join(', ')}; viewer: http://127.0.0.1:${actual}/viewer)`);
    await new Promise<void>((done) => {
      process.once('SIGINT', () => done());
      process.once('SIGTERM', () => done());
    });
    await app.close();
  });

  client
    .command('viewer')
    .description('the certificate viewer in the browser for a certificate file (for the card, use the agent\u2019s /viewer)')
    .requiredOption('--cert <file>', 'a certificate file (PEM or DER)')
    .option('--port <port>', 'TCP port on 127.0.0.1', '0')
    .action(async (o: { cert: string; port: string }) => {
      const der = certificateFromFile(readFileOrFail(o.cert, 'the certificate file'), o.cert);
      const app = await buildAgent({ card: { type: 'pcsc', readerName: VPCD_READER_NAME }, allowedOrigins: [], clock: systemClock, plugins: [viewerPlugin({ certificate: der })] });
      await app.listen({ port: Number(o.port) || 0, host: '127.0.0.1' });
      const address = app.server.address();
      const actual = typeof address === 'object' && address ? address.port : 0;
      print(`certificate viewer at http://127.0.0.1:${actual}/viewer`);
      await new Promise<void>((done) => {
        process.once('SIGINT', () => done());
        process.once('SIGTERM', () => done());
      });
      await app.close();
    });
}

function summary(view: CertificateView): { name: string; subject: string; sha1: string; sha256: string } {
  const cn = /CN=([^,]+)/.exec(view.subject)?.[1] ?? view.subject;
  return { name: cn, subject: view.subject, sha1: view.fingerprints.sha1, sha256: view.fingerprints.sha256 };
}
