import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { JpkiError } from '../../common/errors.js';
import { toPem } from '../../pki/pem.js';
import { globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import { print } from '../output.js';

export function registerOcsp(program: Command): void {
  const ocsp = program.command('ocsp').description('the OCSP responder: delegated responder certificates, pre-signing');

  ocsp
    .command('responder')
    .description("write a CA's current delegated OCSP responder certificate (issuing one when there is none or it expires within 7 days)")
    .requiredOption('--ca <id>', 'CA id (see jpki ca list)')
    .requiredOption('--out <file>', 'where to write the certificate (PEM)')
    .option('--rotate', 'issue a new responder certificate now, whatever the current one')
    .action(async (o: { ca: string; out: string; rotate?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const r = o.rotate ? await s.ocspResponders.rotate(o.ca, 'cli') : await s.ocspResponders.current(o.ca);
        writeFileSync(o.out, toPem(r.certificate, 'CERTIFICATE'));
        print(`OCSP responder ${r.serial} of ${o.ca}, valid ${r.notBefore.toISOString()} – ${r.notAfter.toISOString()}; written to ${o.out}`);
      }),
    );

  ocsp
    .command('presign')
    .description('sign every unexpired certificate’s OCSP response ahead of time (missing, stale or past half its validity)')
    .option('--ca <id...>', 'only these CAs')
    .option('--hash <alg>', 'CertID hash algorithm: sha1 (RFC 5019 clients) or sha256', 'sha1')
    .action(async (o: { ca?: string[]; hash: string }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        if (o.hash !== 'sha1' && o.hash !== 'sha256') throw new JpkiError('OCSP_OPTIONS_INVALID', 'malformed', `--hash ${JSON.stringify(o.hash)}: use sha1 or sha256`);
        for (const id of o.ca ?? []) await s.ca.get(id);
        const r = await s.ocsp.presign({ ...(o.ca ? { caIds: o.ca } : {}), hash: o.hash });
        print(`signed ${r.signed} OCSP responses in ${r.seconds.toFixed(1)} s (${Math.round(r.perSecond)}/s)`);
      }),
    );
}
