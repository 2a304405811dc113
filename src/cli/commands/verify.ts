import type { Command } from 'commander';
import { resolve } from 'node:path';
import { readFileBounded } from '../../common/bounded-read.js';
import { systemClock } from '../../common/clock.js';
import { JpkiError } from '../../common/errors.js';
import { globalOptions } from '../global-options.js';
import { print, printJson } from '../output.js';

/**
 * `jpki verify FILE.p7s`: the relying party's check of a signed application — the CMS signature, the path
 * from the relying party's anchor (the agency CA) through the bridges to the resident's prefectural CA, and
 * revocation of every certificate on it. Exit 0 only when valid; 1 invalid; 2 indeterminate (a status could
 * not be obtained). The text leads with the verdict and the signer's four facts; --json gives the report.
 */
export const EXIT_INVALID = 1;
export const EXIT_INDETERMINATE = 2;
const MAX_INPUT_BYTES = 64 << 20;

const SEX: Record<string, string> = { '1': '男', '2': '女', '3': '不明', '9': '適用不能' };

function readInput(path: string, what: string): Buffer {
  return readFileBounded(resolve(path), MAX_INPUT_BYTES, what);
}

function anchorOf(text: string | undefined): 'agency' | Uint8Array {
  if (text === undefined || text === 'agency') return 'agency';
  const raw = readInput(text, 'anchor certificate');
  const pem = /-----BEGIN CERTIFICATE-----([\s\S]*?)-----END CERTIFICATE-----/.exec(raw.toString('latin1'));
  return pem ? Buffer.from(pem[1]!.replace(/\s+/g, ''), 'base64') : raw;
}

function timeOf(text: string | undefined): Date | undefined {
  if (text === undefined) return undefined;
  const d = new Date(text);
  if (Number.isNaN(d.getTime())) throw new JpkiError('VERIFY_OPTIONS_INVALID', 'malformed', `--at ${JSON.stringify(text)} is not a time (use ISO 8601, e.g. 2026-04-01T09:00:00+09:00)`);
  return d;
}

export function registerVerify(program: Command): void {
  program
    .command('verify <file>')
    .description('verify a signed application (CMS .p7s): signature, certification path through the bridge CAs, revocation')
    .option('--content <file>', 'the signed content, when the signature is detached')
    .option('--anchor <anchor>', 'the trust anchor: agency (the agency CA, default) or a certificate file (PEM or DER)', 'agency')
    .option('--at <time>', 'validate at this time instead of now (ISO 8601)')
    .option('--timeout <ms>', 'per OCSP/CRL request', '5000')
    .option('--json', 'the full report as JSON')
    .action(async (file: string, o: { content?: string; anchor?: string; at?: string; timeout: string; json?: boolean }, cmd: Command) => {
      const signature = readInput(file, 'signature');
      const content = o.content !== undefined ? readInput(o.content, 'content') : undefined;
      const at = timeOf(o.at);
      const timeoutMs = Number(o.timeout);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > 120_000) throw new JpkiError('VERIFY_OPTIONS_INVALID', 'malformed', `--timeout ${JSON.stringify(o.timeout)}: give milliseconds, 1 to 120000`);
      const anchor = anchorOf(o.anchor);
      const { withInstallation } = await import('../with-services.js');
      const { relyingPartyVerifier } = await import('../../compose/verifier.js');
      const report = await withInstallation(globalOptions(cmd), async (i) => {
        const verifier = await relyingPartyVerifier(i.store, { anchor, clock: systemClock, timeoutMs });
        return verifier.verify({ signature, ...(content ? { content } : {}), ...(at ? { at } : {}) });
      });
      if (o.json) printJson(report);
      else {
        const label = { valid: 'VALID 有効', invalid: 'INVALID 無効', indeterminate: 'INDETERMINATE 判定不能' }[report.verdict];
        print(`${label}: ${file}`);
        const f = report.signer?.facts;
        if (f) {
          print(`氏名 name:            ${f.name}`);
          print(`生年月日 date of birth: ${f.dateOfBirthEra} (${f.dateOfBirth})`);
          print(`性別 sex:             ${SEX[f.sex] ?? f.sex}`);
          print(`住所 address:         ${f.address}`);
        } else if (report.signer) print(`signer: ${report.signer.subject}`);
        for (const r of report.reasons) print(`reason: ${r.code}: ${r.message}`);
        if (report.signingTime) print(`signing time: ${report.signingTime}`);
        print(`validated at: ${report.validatedAt}`);
        if (report.path.length) print(`path: ${report.path.map((p) => p.subject.replace(/^.*CN=/, '')).join(' → ')}`);
      }
      if (report.verdict !== 'valid') {
        // the report went to stdout; stderr gets the one line every refusal of the CLI has
        const first = report.reasons[0];
        const why = first ? `${first.code}: ${first.message}`.replace(/[\u0000-\u001f\u007f]+/g, ' ') : 'no reason';
        const code = report.verdict === 'indeterminate' ? 'SIGNATURE_INDETERMINATE' : 'SIGNATURE_INVALID';
        process.stderr.write(`jpki: ${report.verdict === 'indeterminate' ? 'indeterminate' : 'not valid'}: ${why} [${code}]\n`);
        process.exitCode = report.verdict === 'indeterminate' ? EXIT_INDETERMINATE : EXIT_INVALID;
      }
    });
}
