import type { Command } from 'commander';
import { JpkiError } from '../../common/errors.js';
import { globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import { print, printJson } from '../output.js';

export function registerAudit(program: Command): void {
  const audit = program.command('audit').description('the tamper-evident audit log');

  audit
    .command('verify')
    .description('check the hash chain; report the first broken record')
    .action(async (_o: unknown, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const v = await s.store.audit.verify();
        if (!v.ok)
          throw new JpkiError('AUDIT_CHAIN_BROKEN', 'conflict', `audit log broken at record ${v.brokenAt}: ${v.reason} (${v.records} records before it check out)`, {
            seq: v.brokenAt,
          });
        print(`audit log intact: ${v.records} records; head hash ${v.headHash}`);
        print('keep the head hash elsewhere: a truncated tail can only be seen against an outside copy');
      }),
    );

  audit
    .command('list')
    .description('show audit records')
    .option('--action <action>', 'only this action (e.g. certificate.revoke)')
    .option('--target <target>', 'only this target')
    .option('--limit <n>', 'at most n records', '100')
    .option('--json', 'machine-readable output')
    .action(async (o: { action?: string; target?: string; limit: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const records = await s.store.audit.list({ action: o.action, target: o.target, limit: Number(o.limit) || 100 });
        if (o.json) return printJson(records);
        for (const r of records) print(`${r.seq}\t${new Date(r.at).toISOString()}\t${r.actor}\t${r.action}\t${r.target}\t${JSON.stringify(r.details)}`);
      }),
    );
}
