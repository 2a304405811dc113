import type { Command } from 'commander';
import { readFileBounded } from '../../common/bounded-read.js';

/** The largest register CSV `register import` reads (a million residents is about 80–100 MB). */
export const MAX_REGISTER_CSV_BYTES = 256 << 20;
import { JpkiError } from '../../common/errors.js';
import { residentView, type RegisterChangeResult } from '../../counter/index.js';
import { allMunicipalities, fullCode, ImportRejected, RENAME_REASONS, type RenameReason } from '../../register/index.js';
import { progressBar } from '../progress.js';
import { prefectureByCode } from '../../pki/prefectures.js';
import { RESIDENT_OPTION_HELP, globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import { print, printJson, printTable } from '../output.js';
import { wholeNumber } from '../option-values.js';

const REASON_NAMES: Record<number, string> = { 0: 'unspecified', 1: 'keyCompromise', 3: 'affiliationChanged', 4: 'superseded', 5: 'cessationOfOperation', 6: 'certificateHold' };

function printChange(r: RegisterChangeResult, json?: boolean): void {
  if (json) return printJson(r);
  print(`${r.event.type}${r.event.moveScope ? ` (${r.event.moveScope})` : ''} of resident ${r.resident.id} (record code ${r.resident.recordCode}) recorded as version ${r.event.version}, effective ${r.event.effectiveOn}`);
  if (r.event.changedFacts.length) print(`certified facts changed: ${r.event.changedFacts.join(', ')}`);
  if (r.revoked.length === 0) print('no live certificate was affected');
  for (const c of r.revoked) print(`revoked ${c.kind} certificate ${c.serial} of ${c.caId} (${c.reason})`);
}

/**
 * `jpki register …`: the Basic Resident Register. Changes (move, rename, correct, death) revoke the certificates
 * they invalidate in the same transaction (docs/counter.md); these commands act as `cli`.
 */
export function registerRegister(program: Command): void {
  const register = program.command('register').description('the Basic Resident Register (住民基本台帳): residents and their changes');

  register
    .command('add')
    .description("enter a resident; prints the resident's id (R…), and on a terminal the resident-record code (住民票コード); --json gives both")
    .requiredOption('--name <name>', 'surname and given name, separated by a space (stored with a full-width space)')
    .requiredOption('--birth <date>', 'date of birth, YYYY-MM-DD')
    .requiredOption('--sex <code>', '1 (male) or 2 (female)')
    .requiredOption('--address <address>', 'address from the prefecture on, e.g. 東京都港区虎ノ門5丁目')
    .requiredOption('--municipality <code>', 'JIS local-government code, e.g. 13103')
    .option('--name-substitute <flags>', 'one 0/1 per character of the name (1 = substitute character)')
    .option('--address-substitute <flags>', 'one 0/1 per character of the address')
    .option('--record-code <code>', 'an existing resident-record code (11 digits); generated otherwise')
    .option('--json', 'print the whole record as JSON')
    .action(
      async (
        o: { name: string; birth: string; sex: string; address: string; municipality: string; nameSubstitute?: string; addressSubstitute?: string; recordCode?: string; json?: boolean },
        cmd: Command,
      ) =>
        withServices(globalOptions(cmd), async (s) => {
          const r = await s.register.add(
            {
              name: o.name,
              dateOfBirth: o.birth,
              sex: o.sex,
              address: o.address,
              municipality: o.municipality,
              ...(o.nameSubstitute ? { nameSubstitute: o.nameSubstitute } : {}),
              ...(o.addressSubstitute ? { addressSubstitute: o.addressSubstitute } : {}),
              ...(o.recordCode ? { recordCode: o.recordCode } : {}),
            },
            'cli',
          );
          if (o.json) return printJson(residentView(r));
          print(r.id);
          // for a person at a terminal, the code the papers show too; a script reading stdout gets the id alone
          if (process.stderr.isTTY) process.stderr.write(`resident-record code (住民票コード) ${r.recordCode}\n`);
        }),
    );

  register
    .command('import')
    .description(
      'enter the residents of a CSV file in bulk (header: name,birth,sex,address,municipality[,name_substitute,address_substitute,record_code]). ' +
        'Every row is checked first: any bad row is reported with its line and nothing is loaded. Rows are then loaded in batches, ' +
        'each atomic with the position reached; running the same file again goes on after the rows already loaded',
    )
    .argument('<file>', 'UTF-8 CSV file')
    .option('--batch <rows>', 'rows per transaction', '5000')
    .option('--json', 'machine-readable output')
    .action(async (file: string, o: { batch: string; json?: boolean }, cmd: Command) => {
      const batchSize = Number(o.batch);
      if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 50_000) throw new JpkiError('REGISTER_OPTIONS_INVALID', 'malformed', '--batch must be a whole number from 1 to 50000');
      let text: string;
      try {
        text = readFileBounded(file, MAX_REGISTER_CSV_BYTES, 'register CSV').toString('utf8');
      } catch (e) {
        if (e instanceof JpkiError) throw e;
        throw new JpkiError('INPUT_UNREADABLE', 'not-found', `cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      await withServices(globalOptions(cmd), async (s) => {
        const bar = progressBar('register import');
        const started = Date.now();
        try {
          const r = await s.register.importCsv(text, 'cli', { batchSize, source: file, onProgress: (p) => bar.update(p.done, p.total, p.phase) });
          bar.done();
          const seconds = (Date.now() - started) / 1000;
          if (o.json) return printJson({ ...r, seconds });
          print(`imported ${r.loaded} residents${r.skipped ? ` (${r.skipped} loaded by an earlier run of this file were skipped)` : ''} in ${seconds.toFixed(1)} s`);
        } catch (e) {
          bar.done();
          // every bad row on standard error, one per line; the summary is the command's error
          if (e instanceof ImportRejected) for (const p of e.problems) process.stderr.write(`line ${p.line}: ${p.message} [${p.code}]\n`);
          throw e;
        }
      });
    });

  register
    .command('show')
    .description('a resident with certificates and every register event')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .option('--json', 'machine-readable output')
    .action(async (o: { resident: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const r = await s.register.get(o.resident);
        const events = await s.register.events(r.id);
        const certificates = (await s.ca.certificatesOf(r.id)).filter((c) => c.kind === 'sign' || c.kind === 'auth');
        const view = residentView(r);
        if (o.json)
          return printJson({
            resident: view,
            certificates: certificates.map((c) => ({ kind: c.kind, caId: c.caId, serial: c.serial, cardId: c.cardId, notAfter: new Date(c.notAfter).toISOString(), revokedAt: c.revokedAt && new Date(c.revokedAt).toISOString(), reason: c.revocationReason })),
            events,
          });
        print(`${view.id}  ${view.name}  (record code ${view.recordCode}, ${view.status})`);
        print(`  born      ${view.dateOfBirth} (${view.dateOfBirthJa})  sex ${view.sex === '1' ? '男' : '女'}`);
        print(`  address   ${view.address}  [${view.municipality} ${view.municipalityName}, ${view.prefectureName}]`);
        print('  certificates:');
        if (certificates.length === 0) print('    none');
        for (const c of certificates)
          print(`    ${c.kind.padEnd(4)} ${c.caId} ${c.serial}  ${c.revokedAt ? `revoked (${REASON_NAMES[c.revocationReason ?? 0] ?? c.revocationReason})` : `until ${new Date(c.notAfter).toISOString()}`}`);
        print('  events:');
        for (const e of events) print(`    v${e.version} ${e.type.padEnd(10)} ${e.effectiveOn}  by ${e.actor}  ${JSON.stringify(e.details)}`);
      }),
    );

  register
    .command('list')
    .description('residents, optionally of one municipality or matching a name or record code')
    .option('--municipality <code>', 'only this municipality')
    .option('--search <text>', 'part of the name, or the record code')
    .option('--limit <n>', 'at most n (1–10000)', wholeNumber(10_000), 100)
    .option('--json', 'machine-readable output')
    .action(async (o: { municipality?: string; search?: string; limit: number; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const list = (await s.register.search({ ...(o.municipality ? { municipality: o.municipality } : {}), ...(o.search ? { text: o.search } : {}), limit: o.limit })).map(residentView);
        if (o.json) return printJson(list);
        printTable([['ID', 'RECORD CODE', 'NAME', 'BORN', 'MUNICIPALITY', 'STATUS'], ...list.map((r) => [r.id, r.recordCode, r.name, r.dateOfBirth, `${r.municipality} ${r.municipalityName}`, r.status])]);
      }),
    );

  register
    .command('municipalities')
    .description('the municipalities the register knows (every municipality of Japan and the wards of the designated cities)')
    .option('--prefecture <code>', 'only this prefecture (2 digits)')
    .option('--search <text>', 'part of the name, kana or romanised name')
    .option('--json', 'machine-readable output')
    .action((o: { prefecture?: string; search?: string; json?: boolean }) => {
      const q = o.search?.normalize('NFKC').toLowerCase();
      const list = allMunicipalities().filter(
        (m) => (!o.prefecture || m.prefecture === o.prefecture.padStart(2, '0')) && (!q || m.name.includes(q) || m.kana.includes(q) || m.nameEn.toLowerCase().includes(q)),
      );
      if (o.json) return printJson(list.map((m) => ({ ...m, fullCode: fullCode(m) })));
      printTable([['CODE', 'NAME', 'ROMANISED', 'KIND', 'PREFECTURE'], ...list.map((m) => [fullCode(m), m.name, m.nameEn, m.kind, prefectureByCode(m.prefecture)!.name])]);
    });

  register
    .command('move')
    .description('a new address (within the municipality, or to another one with --municipality); revokes the signing certificate')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .requiredOption('--address <address>', 'the new address')
    .option('--municipality <code>', 'the municipality moved to (default: the same one)')
    .option('--address-substitute <flags>', 'substitute flags of the new address')
    .option('--on <date>', 'the day of the move (default today)')
    .option('--json', 'machine-readable output')
    .action(async (o: { resident: string; address: string; municipality?: string; addressSubstitute?: string; on?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) =>
        printChange(
          await s.counter.registerChanges.move('cli', o.resident, {
            address: o.address,
            ...(o.municipality ? { municipality: o.municipality } : {}),
            ...(o.addressSubstitute ? { addressSubstitute: o.addressSubstitute } : {}),
            ...(o.on ? { effectiveOn: o.on } : {}),
          }),
          o.json,
        ),
      ),
    );

  register
    .command('rename')
    .description('a new name (marriage…); revokes the signing certificate')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .requiredOption('--name <name>', 'the new name')
    .option('--name-substitute <flags>', 'substitute flags of the new name')
    .option('--reason <reason>', RENAME_REASONS.join(', '), 'marriage')
    .option('--on <date>', 'the day of the change (default today)')
    .option('--json', 'machine-readable output')
    .action(async (o: { resident: string; name: string; nameSubstitute?: string; reason: string; on?: string; json?: boolean }, cmd: Command) => {
      if (!(RENAME_REASONS as readonly string[]).includes(o.reason))
        throw new JpkiError('REGISTER_OPTIONS_INVALID', 'malformed', `--reason must be one of ${RENAME_REASONS.join(', ')}`);
      await withServices(globalOptions(cmd), async (s) =>
        printChange(
          await s.counter.registerChanges.rename('cli', o.resident, {
            name: o.name,
            reason: o.reason as RenameReason,
            ...(o.nameSubstitute ? { nameSubstitute: o.nameSubstitute } : {}),
            ...(o.on ? { effectiveOn: o.on } : {}),
          }),
          o.json,
        ),
      );
    });

  register
    .command('correct')
    .description('correct a recording error (only the fields given); a changed certified fact revokes the signing certificate')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .requiredOption('--reason <text>', 'what was wrong')
    .option('--name <name>')
    .option('--name-substitute <flags>')
    .option('--address <address>', 'the corrected address (same municipality)')
    .option('--address-substitute <flags>')
    .option('--birth <date>', 'YYYY-MM-DD')
    .option('--sex <code>', '1 or 2')
    .option('--json', 'machine-readable output')
    .action(
      async (
        o: { resident: string; reason: string; name?: string; nameSubstitute?: string; address?: string; addressSubstitute?: string; birth?: string; sex?: string; json?: boolean },
        cmd: Command,
      ) =>
        withServices(globalOptions(cmd), async (s) =>
          printChange(
            await s.counter.registerChanges.correct('cli', o.resident, {
              reason: o.reason,
              ...(o.name !== undefined ? { name: o.name } : {}),
              ...(o.nameSubstitute !== undefined ? { nameSubstitute: o.nameSubstitute } : {}),
              ...(o.address !== undefined ? { address: o.address } : {}),
              ...(o.addressSubstitute !== undefined ? { addressSubstitute: o.addressSubstitute } : {}),
              ...(o.birth !== undefined ? { dateOfBirth: o.birth } : {}),
              ...(o.sex !== undefined ? { sex: o.sex } : {}),
            }),
            o.json,
          ),
        ),
    );

  register
    .command('death')
    .description('record a death; revokes both certificates')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .option('--on <date>', 'the day of death (default today)')
    .option('--json', 'machine-readable output')
    .action(async (o: { resident: string; on?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => printChange(await s.counter.registerChanges.death('cli', o.resident, o.on ? { effectiveOn: o.on } : {}), o.json)),
    );
}
