import type { Command } from 'commander';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JpkiError } from '../../common/errors.js';
import { FileCardStorage, SoftCard } from '../../card/index.js';
import {
  COUNTER_REVOCATION_REASONS,
  PHOTO_ID_TYPES,
  formFromRegister,
  isEmptyCounter,
  seedDemo,
  type ApplicationForm,
  type DeviceRef,
  type DemoSeed,
  type Operator,
  type PhotoId,
} from '../../counter/index.js';
import { cardFabricationSecret } from '../../reader/index.js';
import { RESIDENT_OPTION_HELP, globalOptions } from '../global-options.js';
import { withServices } from '../with-services.js';
import type { Services } from '../../compose/services.js';
import { print, printJson, printTable } from '../output.js';
import { secret } from './operator.js';

/** One idempotency key per CLI run: a retried *process* is a new submission; within the run it is one. */
const runKey = () => `cli-${randomUUID()}`;

interface DeskOptions {
  operator: string;
  resident: string;
  card?: string;
  device?: string;
  idType: string;
  idNumber: string;
  phone?: string;
  json?: boolean;
}

function withDesk(cmd: Command, opts: { device?: boolean } = {}): Command {
  cmd
    .requiredOption('--operator <name>', 'the operator at the counter (password from JPKI_OPERATOR_PASSWORD or a prompt)')
    .requiredOption('--resident <id>', RESIDENT_OPTION_HELP)
    .requiredOption('--id-type <type>', `photo ID shown: ${PHOTO_ID_TYPES.join(', ')}`)
    .requiredOption('--id-number <number>', 'number of the photo ID')
    .option('--phone <number>', "the resident's contact number, as written on the form")
    .option('--json', 'machine-readable output');
  if (opts.device) {
    cmd.option('--card <file>', 'the card image (made by `jpki card new`) in the key-pair generation device');
    cmd.option('--device <device>', 'a registered device id (jpki counter device list), or file:<image> / pcsc:<reader name>');
  }
  return cmd;
}

function deviceOf(o: { card?: string; device?: string }): DeviceRef {
  if (!!o.card === !!o.device) throw new JpkiError('COUNTER_OPTIONS_INVALID', 'malformed', 'give exactly one of --card FILE or --device ID|URI');
  if (o.card) return { uri: `file:${resolve(o.card)}` };
  const d = o.device!;
  if (d.startsWith('file:')) return { uri: `file:${resolve(d.slice(5))}` };
  if (d.startsWith('pcsc:')) return { uri: d };
  return { id: d };
}

/** The operator, authenticated with their password (a wrong one counts towards the lock-out). */
async function signIn(s: Services, name: string): Promise<Operator> {
  const password = await secret('JPKI_OPERATOR_PASSWORD', `password of operator ${name}`);
  return s.counter.operators.authenticate(name, password);
}

/** The application form: the register's facts as the operator confirms them with the resident. */
async function formFor(s: Services, residentId: string, phone?: string): Promise<ApplicationForm> {
  const r = await s.register.get(residentId);
  return { ...formFromRegister(r), ...(phone ? { phone } : {}) };
}

const photoId = (o: DeskOptions) => ({ type: o.idType, number: o.idNumber }) as PhotoId;

const PIN_ENV = { sign: 'JPKI_SIGN_PIN', auth: 'JPKI_AUTH_PIN' } as const;
const PIN_WORDS = { sign: 'new signing password (6–16 of A–Z 0–9, a letter and a digit)', auth: 'new user-authentication PIN (4 digits)' } as const;

function pinOf(v: string): 'sign' | 'auth' {
  if (v !== 'sign' && v !== 'auth') throw new JpkiError('COUNTER_OPTIONS_INVALID', 'malformed', `--pin must be sign or auth, not ${JSON.stringify(v)}`);
  return v;
}

/**
 * `jpki counter …`: the municipal counter without a browser — issuance onto a card, revocation, PIN
 * services, papers, the ledger, devices. Every command acts as the operator given, who must authenticate.
 */
export function registerCounter(program: Command): void {
  const counter = program.command('counter').description('the municipal counter: issuance, revocation, PIN services, receipts and notices');

  withDesk(counter.command('issue').description('new issuance (guide §4(3)): application, photo ID, 500-yen fee, key pairs generated on the card, certificates written; prints the receipt number'), {
    device: true,
  }).action(async (o: DeskOptions, cmd: Command) => {
    const device = deviceOf(o);
    await withServices(globalOptions(cmd), async (s) => {
      const op = await signIn(s, o.operator);
      const form = await formFor(s, o.resident, o.phone);
      const signPin = await secret(PIN_ENV.sign, PIN_WORDS.sign, { confirm: true });
      const authPin = await secret(PIN_ENV.auth, PIN_WORDS.auth, { confirm: true });
      const { issuance } = s.counter;
      const app = (await issuance.open(op, { residentId: o.resident, form }, runKey())).result;
      await issuance.identity(op, app.number, photoId(o), runKey());
      await issuance.fee(op, app.number, { amount: 500 }, runKey());
      const done = (await issuance.device(op, app.number, { device, signPin, authPin }, runKey())).result;
      if (o.json) return printJson(done);
      const resident = await s.register.get(app.residentId);
      print(`issued to ${form.name} (${resident.id}, record code ${resident.recordCode}) on card ${done.cardId} by ${done.certificates.sign.caId}`);
      print(`  signing certificate              ${done.certificates.sign.serial} (until ${done.certificates.sign.notAfter})`);
      print(`  user-authentication certificate  ${done.certificates.auth.serial}`);
      for (const x of done.superseded) print(`  superseded ${x.kind} certificate ${x.serial}`);
      print(`application ${done.application.number}`);
      print(`receipt ${done.receipt.number} (${done.receipt.amount} yen)`);
    });
  });

  withDesk(counter.command('revoke').description('revocation application / private-key compromise report (guide §4(4)); prints the notice number'))
    .requiredOption('--reason <reason>', COUNTER_REVOCATION_REASONS.join(', '))
    .option('--card-taken-back', 'the resident handed the card in')
    .option('--certificates <kinds>', 'sign, auth or sign,auth (default both)')
    .action(async (o: DeskOptions & { reason: string; cardTakenBack?: boolean; certificates?: string }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const op = await signIn(s, o.operator);
        const { result } = await s.counter.revocation.revoke(
          op,
          {
            residentId: o.resident,
            form: await formFor(s, o.resident, o.phone),
            identity: photoId(o),
            reason: o.reason as 'lost',
            cardTakenBack: o.cardTakenBack === true,
            ...(o.certificates ? { certificates: o.certificates.split(',').map((k) => k.trim()) as ('sign' | 'auth')[] } : {}),
          },
          runKey(),
        );
        if (o.json) return printJson(result);
        for (const c of result.revoked) print(`revoked ${c.kind} certificate ${c.serial} of ${c.caId} (${c.reason})`);
        print(`application ${result.application.number}`);
        print(`notice ${result.notice.number}`);
      }),
    );

  const pinService = (name: 'pin-change' | 'pin-reset' | 'unlock', description: string) =>
    withDesk(counter.command(name).description(description), { device: true })
      .requiredOption('--pin <pin>', 'sign (signing password) or auth (user-authentication PIN)')
      .action(async (o: DeskOptions & { pin: string }, cmd: Command) => {
        const pin = pinOf(o.pin);
        const device = deviceOf(o);
        await withServices(globalOptions(cmd), async (s) => {
          const op = await signIn(s, o.operator);
          const base = { residentId: o.resident, form: await formFor(s, o.resident, o.phone), identity: photoId(o), pin, device };
          const currentPin = name === 'pin-change' ? await secret('JPKI_CURRENT_PIN', `current ${pin === 'sign' ? 'signing password' : 'user-authentication PIN'}`) : undefined;
          const newPin = await secret(PIN_ENV[pin], PIN_WORDS[pin], { confirm: true });
          const { pins } = s.counter;
          const { result } =
            name === 'pin-change'
              ? await pins.change(op, { ...base, currentPin: currentPin!, newPin }, runKey())
              : name === 'pin-reset'
                ? await pins.reset(op, { ...base, newPin }, runKey())
                : await pins.unlock(op, { ...base, newPin }, runKey());
          if (o.json) return printJson(result);
          print(`${name === 'unlock' ? 'released and reset' : name === 'pin-reset' ? 'initialised' : 'changed'} the ${pin} PIN of card ${result.cardId}: ${result.status.triesLeft} of ${result.status.maxTries} tries`);
          print(`application ${result.application.number}`);
          print(`notice ${result.notice.number}`);
        });
      });
  pinService('pin-change', 'PIN change at the key-pair generation device (guide §4(6)); current PIN from JPKI_CURRENT_PIN, new from JPKI_SIGN_PIN / JPKI_AUTH_PIN');
  pinService('pin-reset', 'initialisation of a forgotten PIN (guide §4(7)); new PIN from JPKI_SIGN_PIN / JPKI_AUTH_PIN or a prompt');
  pinService('unlock', 'lock release after 5 wrong entries (guide §4(7)), with a new PIN from JPKI_SIGN_PIN / JPKI_AUTH_PIN or a prompt');

  for (const type of ['receipt', 'notice'] as const) {
    counter
      .command(type)
      .description(`show a ${type} by number`)
      .argument('<number>', type === 'receipt' ? 'R-…' : 'N-…')
      .requiredOption('--operator <name>', 'the operator asking')
      .action(async (number: string, o: { operator: string }, cmd: Command) =>
        withServices(globalOptions(cmd), async (s) => printJson(await s.counter.document(await signIn(s, o.operator), number, type))),
      );
  }

  counter
    .command('ledger')
    .description("the day's ledger: applications, receipts and notices (a supervisor sees every operator)")
    .requiredOption('--operator <name>', 'the operator asking')
    .option('--date <date>', 'YYYY-MM-DD (default today, Japan time)')
    .option('--json', 'machine-readable output')
    .action(async (o: { operator: string; date?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const l = await s.counter.ledger(await signIn(s, o.operator), o.date);
        if (o.json) return printJson(l);
        print(`${l.date} ${l.municipalityName} (${l.municipality}) — ${l.scope === 'all' ? 'all operators' : l.operator}`);
        printTable([
          ['APPLICATION', 'KIND', 'STATUS', 'RESIDENT', 'OPERATOR', 'PAPERS'],
          ...l.entries.map((e) => [e.number, e.kind, e.status, e.residentName, e.operator, e.documents.map((d) => d.number).join(' ') || '-']),
        ]);
        print(`${l.totals.applications} applications, ${l.totals.completed} completed; ${l.totals.receipts} receipts, ${l.totals.fees} yen; ${l.totals.notices} notices`);
      }),
    );

  const device = counter.command('device').description('key-pair generation devices installed at counters');
  device
    .command('add')
    .description('install a device: where the counter reaches the card (file:<card image> or pcsc:<reader name>)')
    .requiredOption('--municipality <code>', 'the counter')
    .requiredOption('--name <name>', 'a label for staff')
    .requiredOption('--uri <uri>', 'file:/absolute/path/card.img or pcsc:Virtual PCD 00 00')
    .action(async (o: { municipality: string; name: string; uri: string }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const uri = o.uri.startsWith('file:') ? `file:${resolve(o.uri.slice(5))}` : o.uri;
        const d = await s.counter.addDevice({ municipality: o.municipality, name: o.name, uri }, 'cli');
        print(`installed device ${d.id} (${d.name}) at ${d.municipality}: ${d.uri}`);
      }),
    );
  device
    .command('list')
    .description('the devices')
    .option('--municipality <code>', 'only this counter')
    .option('--json', 'machine-readable output')
    .action(async (o: { municipality?: string; json?: boolean }, cmd: Command) =>
      withServices(globalOptions(cmd), async (s) => {
        const list = await s.counter.devices(o.municipality ? { municipality: o.municipality } : {});
        if (o.json) return printJson(list);
        printTable([['ID', 'MUNICIPALITY', 'NAME', 'URI'], ...list.map((d) => [d.id, d.municipality, d.name, d.uri])]);
      }),
    );
}

/**
 * The demo register of `jpki serve` on an empty data directory: residents, operators and one device per
 * demo municipality whose card is a blank image in <data>/demo-cards/ (made here if missing).
 */
export async function seedDemoInstallation(s: Services): Promise<DemoSeed | undefined> {
  if (!(await isEmptyCounter(s.register, s.counter))) return undefined;
  const dir = join(s.dataDir, 'demo-cards');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const fabrication = cardFabricationSecret(s.dataDir, { create: true });
  const seed = await seedDemo(s.register, s.counter, (m) => `file:${join(dir, `${m}-1.card`)}`);
  for (const d of seed.devices) {
    const path = d.uri.slice('file:'.length);
    if (existsSync(path)) continue;
    const storage = await FileCardStorage.open(path, { lock: true });
    try {
      const card = await SoftCard.fabricate(storage, { fabricationSecret: fabrication, issuerKey: (id) => s.cardIssuer.cardKey(id) });
      await card.close();
    } finally {
      await storage.close();
    }
  }
  return seed;
}

/** The start-up lines of `jpki serve` about the demo it seeded (how to log in is said on every start). */
export function printDemo(seed: DemoSeed): void {
  print(`seeded the demo register: ${seed.residents.length} residents, ${seed.operators.length} operators, ${seed.devices.length} key-pair generation devices`);
  print(`  first resident: ${seed.residents[0]!.name} (${seed.residents[0]!.id}) at ${seed.residents[0]!.municipality}`);
  print(`  devices: ${seed.devices.map((d) => `${d.id} → ${d.uri}`).join(', ')}`);
}
