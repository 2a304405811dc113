import type { Command } from 'commander';
import { accessSync, constants, mkdirSync, openSync, renameSync, statSync, writeFileSync, closeSync, fsyncSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readFileBounded } from '../../common/bounded-read.js';
import { JpkiError } from '../../common/errors.js';
import { authorityView } from '../../ca/authority-view.js';
import { fingerprint } from '../../pki/signed.js';
import { toPem } from '../../pki/pem.js';
import { globalOptions } from '../global-options.js';
import { withInstallation, withServices } from '../with-services.js';
import { print, printJson, printTable } from '../output.js';

/** A CSR or public key is a few KiB; 64 KiB is generous. */
const MAX_KEY_INPUT_BYTES = 64 << 10;

function readInput(path: string, what: string): Buffer {
  try {
    return readFileBounded(path, MAX_KEY_INPUT_BYTES, what);
  } catch (e) {
    if (e instanceof JpkiError) throw e;
    throw new JpkiError('INPUT_UNREADABLE', 'not-found', `cannot read the ${what} ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

export function registerCa(program: Command): void {
  const ca = program.command('ca').description('the certification authorities: list, export, issue, revoke, CRLs');

  ca.command('list')
    .description('every CA with its subject, validity and fingerprints')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) =>
      // read straight from the database: the quickest command people script against (issue 11)
      withInstallation(globalOptions(cmd), async ({ store }) => {
        const rows = (await store.authorities.list()).map(authorityView);
        if (rows.length === 0) throw new JpkiError('CA_NOT_INITIALIZED', 'conflict', 'no CAs yet: run `jpki init` first');
        // after a first `jpki serve`, the prefectural CAs it makes while serving
        const pending = await (await import('../../ca/promised.js')).pendingPrefectures(store);
        if (pending.length > 0)
          process.stderr.write(`jpki: ${pending.length} prefectural CA${pending.length === 1 ? ' is' : 's are'} still to be created (${pending.join(', ')}): \`jpki serve\` creates them while it serves, \`jpki init\` at once\n`);
        if (o.json) return printJson(rows);
        for (const r of rows) {
          print(`${r.id}  ${r.name}`);
          print(`  subject   ${r.subject}`);
          print(`  validity  ${r.notBefore} – ${r.notAfter}`);
          print(`  SHA-1     ${r.sha1}`);
          print(`  SHA-256   ${r.sha256}`);
        }
      }),
    );

  ca.command('export')
    .description('write every CA certificate and cross-certificate as PEM, with an index file')
    .argument('<dir>', 'output directory')
    .action(async (dir: string, _o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        mkdirSync(dir, { recursive: true });
        const index: Record<string, unknown>[] = [];
        for (const a of await s.ca.list()) {
          const file = `${a.id}.pem`;
          writeFileSync(join(dir, file), toPem(a.certificate, 'CERTIFICATE'));
          index.push({ file, type: 'self-signed', ca: a.id, name: a.name, sha1: fingerprint(a.certificate, 'sha1'), sha256: fingerprint(a.certificate, 'sha256') });
        }
        for (const c of await s.ca.certificates({ kind: 'cross' })) {
          const file = `cross-${c.caId}-to-${c.subjectCaId}.pem`;
          writeFileSync(join(dir, file), toPem(c.der, 'CERTIFICATE'));
          index.push({ file, type: 'cross', issuer: c.caId, subject: c.subjectCaId, serial: c.serial, revoked: c.revokedAt !== null, sha256: fingerprint(c.der, 'sha256') });
        }
        writeFileSync(join(dir, 'index.json'), `${JSON.stringify(index, null, 2)}\n`);
        print(`wrote ${index.length} certificates and index.json to ${dir}`);
      }),
    );

  ca.command('issue')
    .description("issue a resident certificate under a prefecture's CA")
    .requiredOption('--prefecture <code>', 'JIS prefecture code (01–47)')
    .option('--csr <file>', 'PKCS#10 request (PEM or DER)')
    .option('--public-key <file>', 'bare public key (PEM or DER SubjectPublicKeyInfo) instead of a CSR')
    .option('--name <name>', "holder's name, surname and given name separated by a full-width space")
    .option('--birth <date>', 'date of birth, YYYY-MM-DD')
    .option('--sex <code>', '1 (male) or 2 (female)')
    .option('--address <address>', 'address, from the prefecture on')
    .option('--municipality <code>', 'JIS local-government code (CRL partition)')
    .option('--kind <kind>', 'sign (署名用) or auth (利用者証明用)', 'sign')
    .requiredOption('--out <file>', 'where to write the certificate (PEM)')
    .option('--der', 'write DER instead of PEM')
    .action(
      async (
        o: { prefecture: string; csr?: string; publicKey?: string; name?: string; birth?: string; sex?: string; address?: string; municipality?: string; kind: string; out: string; der?: boolean },
        cmd: Command,
      ) =>
        withServices(globalOptions(cmd), async (s) => {
          if (!!o.csr === !!o.publicKey) throw new JpkiError('ISSUE_OPTIONS_INVALID', 'malformed', 'give exactly one of --csr FILE or --public-key FILE');
          if (o.kind !== 'sign' && o.kind !== 'auth') throw new JpkiError('ISSUE_OPTIONS_INVALID', 'malformed', `--kind must be sign or auth, not ${JSON.stringify(o.kind)}`);
          const publicKey = o.csr ? { csr: readInput(o.csr, 'CSR') } : { spki: readInput(o.publicKey!, 'public key') };
          let facts;
          if (o.kind === 'sign') {
            const missing = (['name', 'birth', 'sex', 'address'] as const).filter((k) => o[k] === undefined);
            if (missing.length) throw new JpkiError('ISSUE_OPTIONS_INVALID', 'malformed', `a signing certificate needs ${missing.map((m) => `--${m}`).join(', ')}`);
            facts = { name: o.name!, dateOfBirth: o.birth!, sex: o.sex!, address: o.address! };
          } else if (o.name || o.birth || o.sex || o.address) {
            throw new JpkiError('ISSUE_OPTIONS_INVALID', 'malformed', 'a user-authentication certificate carries no personal facts: drop --name/--birth/--sex/--address');
          }
          // The output is checked before anything is signed: a certificate that cannot be written is never made.
          const out = checkOutput(o.out);
          const reservation = await s.ca.reserve({
            prefecture: o.prefecture,
            kind: o.kind,
            publicKey,
            facts,
            ...(o.municipality ? { municipality: o.municipality } : {}),
            actor: 'cli',
          });
          const c = await s.ca.sign(reservation);
          try {
            writeOutput(out, o.der ? c.der : toPem(c.der, 'CERTIFICATE'));
          } catch (e) {
            await s.ca.abandon([c], 'cli', `the output ${out} could not be written`);
            throw new JpkiError('OUTPUT_UNWRITABLE', 'unavailable', `cannot write ${out}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}; certificate ${c.serial} was revoked`);
          }
          await s.ca.confirm([c], { actor: 'cli' });
          await s.audit.checkpoint();
          print(`issued ${c.kind} certificate ${c.serial} by ${c.caId}, valid until ${c.notAfter.toISOString()}; written to ${out}`);
        }),
    );

  ca.command('revoke')
    .description('revoke a certificate by serial number')
    .requiredOption('--serial <hex>', 'serial number (hex)')
    .option('--ca <id>', 'issuing CA (needed only when the serial exists under several CAs)')
    .requiredOption('--reason <reason>', 'unspecified, keyCompromise, cACompromise, affiliationChanged, superseded, cessationOfOperation, certificateHold')
    .action(async (o: { serial: string; ca?: string; reason: string }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const c = await s.ca.revoke({ serial: o.serial, ...(o.ca ? { caId: o.ca } : {}), reason: o.reason, actor: 'cli' });
        await s.audit.checkpoint();
        print(`revoked certificate ${c.serial} of ${c.caId} (reason ${c.revocationReason}) at ${new Date(c.revokedAt!).toISOString()}`);
      }),
    );

  ca.command('crl')
    .description('generate and sign a CRL now')
    .requiredOption('--ca <id>', 'CA id (see jpki ca list)')
    .option('--scope <scope>', 'full, arl, delta, or a municipality code (partition)', 'full')
    .requiredOption('--out <file>', 'where to write the CRL (DER unless --pem)')
    .option('--pem', 'write PEM (-----BEGIN X509 CRL-----)')
    .action(async (o: { ca: string; scope: string; out: string; pem?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const out = checkOutput(o.out);
        const { parseScope } = await import('../../ca/crl-publisher.js');
        const crl = await s.crls.generate(o.ca, parseScope(o.scope), 'cli');
        await s.audit.checkpoint();
        writeOutput(out, o.pem ? toPem(crl.der, 'X509 CRL') : crl.der);
        print(`CRL ${crl.crlNumber} of ${o.ca} (${crl.scope}): ${crl.entries} entries, next update ${new Date(crl.nextUpdate).toISOString()}; written to ${o.out}`);
      }),
    );

  ca.command('certificates')
    .description('list the certificates a CA issued, or fetch one by serial')
    .option('--ca <id>', 'only this CA')
    .option('--serial <hex>', 'just this certificate')
    .option('--pem', 'with --serial: print the certificate as PEM')
    .option('--json', 'machine-readable output')
    .action(async (o: { ca?: string; serial?: string; pem?: boolean; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        if (o.pem && !o.serial) throw new JpkiError('CERTIFICATES_OPTIONS_INVALID', 'malformed', '--pem needs --serial HEX');
        if (o.serial) {
          const c = await s.ca.findCertificate(o.serial, o.ca);
          if (o.pem) return print(toPem(c.der, 'CERTIFICATE').trimEnd());
        }
        const list = o.serial ? [await s.ca.findCertificate(o.serial, o.ca)] : await s.ca.certificates(o.ca ? { caId: o.ca } : {});
        const rows = list.map((c) => ({
          ca: c.caId,
          serial: c.serial,
          kind: c.kind,
          notAfter: new Date(c.notAfter).toISOString(),
          revoked: c.revokedAt ? new Date(c.revokedAt).toISOString() : null,
          reason: c.revocationReason,
        }));
        if (o.json) return printJson(rows);
        printTable([['CA', 'SERIAL', 'KIND', 'NOT AFTER', 'REVOKED'], ...rows.map((r) => [r.ca, r.serial, r.kind, r.notAfter, r.revoked ?? '-'])]);
      }),
    );

  ca.command('sweep')
    .description('revoke (or close) every reservation of the ledger past its deadline and not confirmed')
    .option('--grace <seconds>', 'also reservations younger than their deadline, if older than this (after a crash, when nothing is running)')
    .action(async (o: { grace?: string }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        let now: number | undefined;
        if (o.grace !== undefined) {
          const g = Number(o.grace);
          if (!Number.isFinite(g) || g < 0) throw new JpkiError('SWEEP_OPTIONS_INVALID', 'malformed', `--grace ${JSON.stringify(o.grace)} is not a number of seconds`);
          // a reservation's deadline is its reservation time + the reservation period: shift "now" by the difference
          const { DEFAULT_RESERVATION_MS } = await import('../../ca/certification-authorities.js');
          now = s.clock.now().getTime() + DEFAULT_RESERVATION_MS - g * 1000;
        }
        const report = await s.ca.sweep(now === undefined ? {} : { now });
        await s.registerEvents.settle();
        await s.audit.checkpoint();
        print(`swept the ledger: ${report.revoked.length} signed but unconfirmed certificates revoked, ${report.abandoned.length} unsigned reservations closed`);
        for (const r of report.revoked) print(`  revoked ${r.caId}/${r.serial}`);
      }),
    );

  ca.command('ledger')
    .description('how many ledger entries are reserved, signed, confirmed, abandoned')
    .option('--json', 'machine-readable output')
    .action(async (o: { json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const counts = await s.ca.ledgerCounts();
        if (o.json) return printJson(counts);
        printTable([['STATE', 'ENTRIES'], ...Object.entries(counts).map(([k, v]) => [k, String(v)])]);
      }),
    );
}

/**
 * Checks, before anything is signed, that `path` can be written: its directory exists and is writable, and
 * it is not a directory itself. Returns the absolute path.
 */
function checkOutput(path: string): string {
  const out = resolve(path);
  const dir = dirname(out);
  try {
    if (!statSync(dir).isDirectory()) throw Object.assign(new Error('not a directory'), { code: 'ENOTDIR' });
    accessSync(dir, constants.W_OK);
  } catch (e) {
    throw new JpkiError('OUTPUT_UNWRITABLE', 'unavailable', `cannot write ${out}: the directory ${dir} ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : 'is not writable'}; nothing was signed`);
  }
  let isDir = false;
  try {
    isDir = statSync(out).isDirectory();
  } catch {
    // does not exist yet: fine
  }
  if (isDir) throw new JpkiError('OUTPUT_UNWRITABLE', 'unavailable', `cannot write ${out}: it is a directory; nothing was signed`);
  return out;
}

/** Writes the file atomically (temporary file, fsync, rename): a kill leaves the old file or the new one. */
function writeOutput(out: string, content: string | Uint8Array): void {
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    writeFileSync(tmp, content, { mode: 0o644 });
    const fd = openSync(tmp, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, out);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      // nothing was written
    }
    throw e;
  }
}
