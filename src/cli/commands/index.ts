import type { Command } from 'commander';

/**
 * Every sub-command of `jpki`, in the order `jpki --help` lists them, each loaded only when it runs: a
 * command people script against must start fast (issue 11), so `jpki ca list` never loads the card, the
 * server or the counter, and `jpki --help` loads no command at all (it lists these summaries).
 *
 * To add a command `jpki foo …`:
 *   1. write `commands/foo.ts` exporting `registerFoo(program)`, which adds `foo` and its sub-commands;
 *   2. add one line below: { name: 'foo', summary: '…', register: async (p) => (await import('./foo.js')).registerFoo(p) }.
 * Keep a command file's top-level imports to what its options and help need (commander, ../output.js,
 * ../global-options.js, small constant tables). A group with quick sub-commands next to heavy ones loads the
 * heavy modules inside the action instead: `const { withServices } = await import('../with-services.js')`
 * (see ca.ts). `test/cli/startup.test.ts` checks which packages `jpki --help` and `jpki ca list` load, and
 * `npm run bench -- cli` measures the start-up.
 */
export interface LazyCommand {
  name: string;
  /** One line for `jpki --help`. */
  summary: string;
  register(program: Command): Promise<void>;
}

export const COMMANDS: readonly LazyCommand[] = [
  { name: 'init', summary: 'create the 47 prefectural CAs, the bridge CAs, the agency CA and their cross-certificates (once)', register: async (p) => (await import('./init.js')).registerInit(p) },
  { name: 'ca', summary: 'the certification authorities: list, export, issue, revoke, CRLs', register: async (p) => (await import('./ca.js')).registerCa(p) },
  { name: 'audit', summary: 'the tamper-evident audit log', register: async (p) => (await import('./audit.js')).registerAudit(p) },
  { name: 'ocsp', summary: 'the OCSP responder: delegated responder certificates, pre-signing', register: async (p) => (await import('./ocsp.js')).registerOcsp(p) },
  { name: 'serve', summary: 'run the service over HTTP (initialises an empty data directory first)', register: async (p) => (await import('./serve.js')).registerServe(p) },
  { name: 'card', summary: 'the resident\u2019s IC card (software JPKI card): make, inspect, serve to pcscd', register: async (p) => (await import('./card.js')).registerCard(p) },
  { name: 'register', summary: 'the Basic Resident Register (住民基本台帳): residents and their changes', register: async (p) => (await import('./register.js')).registerRegister(p) },
  { name: 'operator', summary: 'counter staff: accounts bound to one municipality (clerk or supervisor)', register: async (p) => (await import('./operator.js')).registerOperator(p) },
  { name: 'counter', summary: 'the municipal counter: issuance, revocation, PIN services, receipts and notices', register: async (p) => (await import('./counter.js')).registerCounter(p) },
  { name: 'backup', summary: 'a consistent snapshot of the installation (database, keys, settings, audit) while it runs', register: async (p) => (await import('./backup.js')).registerBackup(p) },
  { name: 'restore', summary: 'restore a backup into a new data directory and database', register: async (p) => (await import('./backup.js')).registerRestore(p) },
  { name: 'client', summary: 'the resident\u2019s client software: certificate viewer, PIN change, fingerprints, validity check, signing, the local agent', register: async (p) => (await import('./client.js')).registerClient(p) },
  { name: 'verify', summary: 'verify a signed application (CMS): signature, path through the bridge CAs, revocation', register: async (p) => (await import('./verify.js')).registerVerify(p) },
];

/** Global options that take a value: `jpki --data DIR ca list` names the command `ca`, not `DIR`. */
const GLOBAL_OPTIONS_WITH_VALUE = new Set(['--data', '--db']);

/** The command a command line names (`help X` names X), or undefined (`jpki`, `jpki --help`). */
export function commandNameOf(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (GLOBAL_OPTIONS_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) continue;
    return a === 'help' ? args[i + 1] : a;
  }
  return undefined;
}
