import type { Command } from 'commander';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { readFileBounded } from '../../common/bounded-read.js';
import { JpkiError } from '../../common/errors.js';
import { globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import { print, printJson } from '../output.js';
import { wholeNumber } from '../option-values.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('check the hash chain, the signed checkpoints and the certificates against the audit records')
    .option('--public-key <file>', 'the audit public key (PEM) to check checkpoints with, instead of the pinned one')
    .option('--json', 'machine-readable output')
    .action(async (o: { publicKey?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const report = await s.audit.verify(o.publicKey ? { publicKey: readKey(o.publicKey) } : {});
        if (o.json) printJson(report);
        if (!report.ok)
          throw new JpkiError('AUDIT_CHAIN_BROKEN', 'conflict', `audit log does not verify: ${report.problems[0]}${report.problems.length > 1 ? ` (and ${report.problems.length - 1} more problems)` : ''}`, {
            problems: report.problems.length,
          });
        if (o.json) return;
        print(`audit log intact: ${report.records} records; head hash ${report.headHash}`);
        print(
          `checkpoints: ${report.checkpoints.total} (${report.checkpoints.verified} verified with the audit key${report.checkpoints.otherKeys ? `, ${report.checkpoints.otherKeys} signed by another node's key` : ''}); newest at record ${report.checkpoints.latestSeq ?? '-'}`,
        );
        print(`certificates checked against the audit records: ${report.certificatesChecked}`);
        if (report.checkpoints.latestSeq !== report.headSeq) print(`records after the newest checkpoint: ${report.headSeq - (report.checkpoints.latestSeq ?? 0)} (run jpki audit checkpoint)`);
      }),
    );

  audit
    .command('checkpoint')
    .description('sign a checkpoint of the chain head with the audit key now')
    .action(async (_o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const c = await s.audit.checkpoint();
        if (c) print(`checkpoint signed at record ${c.seq}: head hash ${c.headHash}`);
        else print('no new records since the last checkpoint; nothing signed');
      }),
    );

  audit
    .command('key')
    .description('print the audit public key (PEM): keep a copy outside the installation')
    .action(async (_o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const spki = await s.audit.publicKey();
        print(createPublicKey({ key: spki, format: 'der', type: 'spki' }).export({ type: 'spki', format: 'pem' }).toString().trimEnd());
      }),
    );

  audit
    .command('list')
    .description('show audit records')
    .option('--action <action>', 'only this action (e.g. certificate.revoke)')
    .option('--target <target>', 'only this target')
    .option('--limit <n>', 'at most n records (1–10000)', wholeNumber(10_000), 100)
    .option('--json', 'machine-readable output')
    .action(async (o: { action?: string; target?: string; limit: number; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const records = await s.store.audit.list({ action: o.action, target: o.target, limit: o.limit });
        if (o.json) return printJson(records);
        for (const r of records) print(`${r.seq}\t${new Date(r.at).toISOString()}\t${r.actor}\t${r.action}\t${r.target}\t${JSON.stringify(r.details)}`);
      }),
    );
}

/** An audit public key is a few hundred bytes of PEM; /dev/zero or a log named by mistake is refused, not read for ever. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

function readKey(path: string): KeyObject {
  const pem = readFileBounded(path, MAX_KEY_FILE_BYTES, 'audit public key file');
  try {
    return createPublicKey(pem);
  } catch (e) {
    throw new JpkiError('AUDIT_KEY_FILE_INVALID', 'malformed', `cannot read an audit public key from ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
