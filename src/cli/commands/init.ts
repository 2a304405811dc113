import type { Command } from 'commander';
import { existsSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { JpkiError } from '../../common/errors.js';
import { globalOptions, type GlobalOptions } from '../global-options.js';
import { print } from '../output.js';
import type { InstallationConfig } from '../../compose/data-dir.js';
import type { Services } from '../../compose/services.js';
import type { KeyPairsAhead } from '../../kms/key-pairs-ahead.js';

export interface InitCliOptions {
  kms: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11Pin?: string;
  pkcs11InitToken?: boolean;
  pkcs11SoPin?: string;
  keyAlgorithm: string;
  publicUrl?: string;
}

export const KEY_ALGORITHMS = ['rsa2048', 'rsa3072', 'rsa4096', 'p256', 'p384'] as const;

function invalid(message: string): JpkiError {
  return new JpkiError('INIT_OPTIONS_INVALID', 'malformed', message);
}

/** The configuration a new installation saves, from `jpki init`'s options. */
export function configFromInitOptions(o: InitCliOptions, databaseUrl: string | undefined): InstallationConfig {
  let kms: InstallationConfig['kms'];
  if (o.kms === 'soft') kms = { type: 'soft' };
  else if (o.kms === 'pkcs11') {
    if (!o.pkcs11Module || !o.pkcs11Token) throw invalid('--kms pkcs11 needs --pkcs11-module PATH and --pkcs11-token LABEL');
    if (!existsSync(o.pkcs11Module)) throw invalid(`PKCS#11 module ${o.pkcs11Module} does not exist`);
    kms = { type: 'pkcs11', module: resolve(o.pkcs11Module), token: o.pkcs11Token };
  } else throw invalid(`unknown --kms ${JSON.stringify(o.kms)}: use soft or pkcs11`);
  if (o.publicUrl !== undefined && !/^https?:\/\/[^/\s]+/.test(o.publicUrl)) throw invalid(`--public-url ${JSON.stringify(o.publicUrl)} is not an http(s) URL`);
  return { kms, ...(databaseUrl ? { databaseUrl } : {}), ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}) };
}

/**
 * On a first start with the default store (no installation in the data directory, software keys), the CA key
 * pairs are set going before the modules load and the database is created: the thread pool generates them
 * while the main thread does the rest of the start (issue 11: the first start within 5 s).
 */
export async function keyPairsAheadOfFirstStart(g: GlobalOptions, keyAlgorithm: string): Promise<KeyPairsAhead | undefined> {
  if (g.databaseUrlExplicit) return undefined;
  // plain file checks, not compose/data-dir (its config schema loads zod): this runs before anything else loads
  const at = statSync(g.dataDir, { throwIfNoEntry: false });
  if (at && (!at.isDirectory() || existsSync(join(g.dataDir, 'config.json')) || existsSync(join(g.dataDir, 'jpki.sqlite')))) return undefined;
  const [{ parseKeySpec }, { KeyPairsAhead }, { allAuthorities }] = await Promise.all([
    import('../../pki/signer.js'),
    import('../../kms/key-pairs-ahead.js'),
    import('../../ca/hierarchy.js'),
  ]);
  const spec = parseKeySpec(keyAlgorithm);
  return spec ? new KeyPairsAhead(spec, allAuthorities().length) : undefined;
}

/** A progress line: counted in place on a terminal, said once otherwise. */
function progressLine(what: (total: number) => string): (done: number, total: number) => void {
  return (done, total) => {
    if (process.stdout.isTTY) process.stdout.write(`\r${what(total)}: ${done}/${total}${done === total ? '\n' : ''}`);
    else if (done === 0) print(`${what(total)}…`);
  };
}

/**
 * Creates the CA hierarchy once; shared by `jpki init` and `jpki serve` on an empty data directory. With
 * `first`, only those prefectures' CAs are made now (with the bridges and the agency) and the others are
 * promised: `completeHierarchy` makes them. An installation whose promised CAs are not all made yet (a first
 * `serve` stopped early) is completed here by `init` (no `first`).
 */
export async function initialize(services: Services, keyAlgorithm: string, actor: string, first?: readonly string[]): Promise<boolean> {
  const { parseKeySpec } = await import('../../pki/signer.js');
  const spec = parseKeySpec(keyAlgorithm);
  if (!spec) throw invalid(`unknown key algorithm ${JSON.stringify(keyAlgorithm)}: use ${KEY_ALGORITHMS.join(', ')}`);
  const started = Date.now();
  const { availableParallelism } = await import('node:os');
  const r = await services.ca.initialize({
    keySpec: spec,
    actor,
    ...(first ? { firstPrefectures: first } : {}),
    // the first start says what it waits for
    onProgress: progressLine((total) => `generating the key pairs of ${total} CAs on ${availableParallelism()} cores`),
  });
  if (!r.created) {
    print(`already initialised on ${r.initializedAt}: ${r.authorities} CAs, ${r.crossCertificates} cross-certificates${r.pending && !first ? '' : '; nothing changed'}`);
    if (r.pending && !first) await completeHierarchy(services, actor);
    return false;
  }
  const seconds = ((Date.now() - started) / 1000).toFixed(1);
  if (r.pending)
    print(`created ${r.authorities} CAs (the JPKI bridge, the government bridge, the agency and ${r.authorities - 3} prefectural governor${r.authorities === 4 ? '' : 's'}) and ${r.crossCertificates} cross-certificates in ${seconds} s; the other ${r.pending} prefectural CAs are created once the port is open`);
  else print(`created ${r.authorities} CAs (47 prefectural governors, the JPKI bridge, the government bridge, the agency) and ${r.crossCertificates} cross-certificates in ${seconds} s`);
  // Every CRL a CA certificate or a CRL names (full, delta, ARL) exists before anyone can ask for it: the
  // CRL updater's first pass publishes them (the HTTP edge only serves stored CRLs).
  await services.crlUpdater.runOnce();
  print(`published the first full CRL, delta CRL and ARL of ${r.pending ? `these ${r.authorities} CAs` : 'every CA'}`);
  // the audit key is made now, with the CA keys, and signs the first checkpoint of the audit chain
  await services.audit.checkpoint();
  return true;
}

/**
 * Makes the prefectural CAs promised at init and not made yet, each with its first CRLs and known to the OCSP
 * responder before any request may use it. `background`: `jpki serve` already listens, so it says so in two
 * lines rather than a counter in place.
 */
export async function completeHierarchy(services: Services, actor: string, background = false): Promise<void> {
  const pending = (await services.ca.pendingPrefectures()).length;
  if (pending === 0) return;
  const started = Date.now();
  const { availableParallelism } = await import('node:os');
  const what = (total: number) => `creating the ${total} remaining prefectural CAs on ${availableParallelism()} cores${background ? ' while serving' : ''}`;
  const r = await services.ca.complete({
    actor,
    afterEach: async (caId) => {
      await services.crlUpdater.publishCa(caId);
      await services.ocsp.issuersChanged();
    },
    onProgress: background ? (done, total) => done === 0 && print(`${what(total)}…`) : progressLine(what),
  });
  const left = (await services.ca.pendingPrefectures()).length;
  if (left === 0) print(`created the ${r.created === pending ? '' : `${r.created} of the `}${pending} remaining prefectural CAs${r.created === pending ? '' : ' (the others by another process)'} with their cross-certificates and first CRLs in ${((Date.now() - started) / 1000).toFixed(1)} s: all ${(await services.ca.list()).length} CAs are ready`);
  else print(`stopped with ${left} prefectural CAs still to create; the next \`jpki serve\` or \`jpki init\` creates them`);
}

/** What an option of the command line differs in from the installation already in the data directory. */
async function differences(o: InitCliOptions, cmd: Command, g: GlobalOptions, saved: InstallationConfig, s: Services): Promise<string[]> {
  const given = (name: string) => cmd.getOptionValueSource(name) === 'cli' || cmd.getOptionValueSource(name) === 'env';
  const out: string[] = [];
  const kms = saved.kms;
  if (given('kms') && o.kms !== kms.type) out.push(`--kms ${o.kms} (it keeps its CA keys in ${kms.type === 'soft' ? 'encrypted files' : `PKCS#11 token ${kms.token}`})`);
  if (given('pkcs11Token') && (kms.type !== 'pkcs11' || kms.token !== o.pkcs11Token)) out.push(`--pkcs11-token ${o.pkcs11Token}`);
  if (given('pkcs11Module') && (kms.type !== 'pkcs11' || kms.module !== resolve(o.pkcs11Module!))) out.push(`--pkcs11-module ${o.pkcs11Module}`);
  if (g.databaseUrlExplicit && g.databaseUrl !== (saved.databaseUrl ?? join(g.dataDir, 'jpki.sqlite')))
    out.push(`--db ${g.databaseUrl} (its database is ${saved.databaseUrl ?? join(g.dataDir, 'jpki.sqlite')})`);
  if (given('publicUrl') && o.publicUrl !== saved.publicUrl) out.push(`--public-url ${o.publicUrl} (it has ${saved.publicUrl ?? 'none: the server\u2019s own address'})`);
  if (given('keyAlgorithm')) {
    const [{ parseKeySpec }, { specOfKeyObject, describeSpec }, { X509Certificate }] = await Promise.all([
      import('../../pki/signer.js'),
      import('../../kms/keys.js'),
      import('node:crypto'),
    ]);
    const wanted = parseKeySpec(o.keyAlgorithm);
    const first = (await s.ca.list())[0];
    if (wanted && first) {
      const have = specOfKeyObject(new X509Certificate(first.certificate).publicKey);
      if (describeSpec(have) !== describeSpec(wanted)) out.push(`--key-algorithm ${o.keyAlgorithm} (its CA keys are ${describeSpec(have)})`);
    }
  }
  return out;
}

/**
 * What `init` made in a data directory that existed before, removed again when it fails: the run leaves
 * the directory as it found it (a new data directory is removed whole).
 */
function newEntries(dataDir: string, before: Set<string>): string[] {
  return readdirSync(dataDir).filter((f) => !before.has(f));
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the 47 prefectural CAs, the bridge CAs, the agency CA and their cross-certificates (once per data directory)')
    .option('--kms <type>', 'key store for the CA keys: soft (encrypted files) or pkcs11', 'soft')
    .option('--pkcs11-module <path>', 'PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .option('--pkcs11-token <label>', 'PKCS#11 token label')
    .option('--pkcs11-pin <pin>', 'PKCS#11 user PIN (or env JPKI_PKCS11_PIN); saved in <data>/keys/pkcs11.pin, mode 0600')
    .option('--pkcs11-init-token', 'create the token first (in a free slot), with the user PIN and the SO PIN')
    .option('--pkcs11-so-pin <pin>', 'the security officer PIN for --pkcs11-init-token (or env JPKI_PKCS11_SO_PIN)')
    .option('--key-algorithm <alg>', `CA key algorithm: ${KEY_ALGORITHMS.join(', ')}`, 'rsa2048')
    .option('--public-url <url>', 'public base URL written into certificates (env JPKI_PUBLIC_URL); saved only when given')
    .action(async (o: InitCliOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      const ahead = o.kms === 'soft' ? await keyPairsAheadOfFirstStart(g, o.keyAlgorithm) : undefined;
      const [{ dataDirExists, ensureDataDir, readConfig, writeConfig, writeFileAtomic }, { openServices }, { parseKeySpec }] = await Promise.all([
        import('../../compose/data-dir.js'),
        import('../../compose/services.js'),
        import('../../pki/signer.js'),
      ]);
      if (!parseKeySpec(o.keyAlgorithm)) throw invalid(`unknown --key-algorithm ${JSON.stringify(o.keyAlgorithm)}: use ${KEY_ALGORITHMS.join(', ')}`);
      const existed = dataDirExists(g.dataDir);
      const saved = existed ? readConfig(g.dataDir) : undefined;
      const defaultDb = join(g.dataDir, 'jpki.sqlite');

      // An installation is already here: the options must agree with it, and then nothing changes.
      if (saved || (existed && existsSync(defaultDb))) {
        const config = saved ?? { kms: { type: 'soft' as const } };
        if (g.databaseUrlExplicit && g.databaseUrl !== (config.databaseUrl ?? defaultDb)) {
          throw new JpkiError(
            'INIT_OPTIONS_CONFLICT',
            'conflict',
            `${g.dataDir} already holds an installation with the database ${config.databaseUrl ?? defaultDb}; a second installation (--db ${g.databaseUrl}) needs a data directory of its own: give --data DIR (nothing changed)`,
          );
        }
        const services = await openServices(g, { config, create: false });
        try {
          const differ = await differences(o, cmd, g, config, services);
          if (differ.length > 0 && (await services.ca.isInitialized()))
            throw new JpkiError(
              'INIT_OPTIONS_CONFLICT',
              'conflict',
              `${g.dataDir} already holds an installation, which ${differ.length === 1 ? 'this option contradicts' : 'these options contradict'}: ${differ.join('; ')}. A second installation needs a data directory of its own: give --data DIR (nothing changed)`,
            );
          await initialize(services, o.keyAlgorithm, 'cli');
        } finally {
          await services.close();
        }
        return;
      }

      // A new installation: check the key store before anything is written, and undo everything on failure.
      const config = configFromInitOptions(o, g.databaseUrlExplicit ? g.databaseUrl : undefined);
      const pkcs11Pin = o.pkcs11Pin ?? process.env.JPKI_PKCS11_PIN;
      if (config.kms.type === 'pkcs11') {
        if (!pkcs11Pin) throw new JpkiError('PKCS11_PIN_MISSING', 'unauthenticated', 'give the token PIN with --pkcs11-pin or JPKI_PKCS11_PIN');
        const { initPkcs11Token, openKeyManager } = await import('../../kms/index.js');
        if (o.pkcs11InitToken) {
          const soPin = o.pkcs11SoPin ?? process.env.JPKI_PKCS11_SO_PIN;
          if (!soPin) throw invalid('--pkcs11-init-token needs the security officer PIN: --pkcs11-so-pin or JPKI_PKCS11_SO_PIN');
          await initPkcs11Token({ module: config.kms.module, label: config.kms.token, soPin, pin: pkcs11Pin });
          print(`initialised PKCS#11 token ${config.kms.token}`);
        }
        try {
          await (await openKeyManager({ type: 'pkcs11', module: config.kms.module, token: config.kms.token, pin: pkcs11Pin })).close();
        } catch (e) {
          if ((e as JpkiError).code !== 'KMS_TOKEN_NOT_FOUND') throw e;
          throw new JpkiError(
            'KMS_TOKEN_NOT_FOUND',
            'not-found',
            `${(e as Error).message.split('. ')[0]}. Create it with --pkcs11-init-token --pkcs11-so-pin SO-PIN, or with the HSM's own tool (SoftHSM2: softhsm2-util --init-token --free --label ${config.kms.token} --so-pin SO-PIN --pin PIN); nothing was created`,
            { token: config.kms.token },
          );
        }
      } else if (o.pkcs11InitToken) throw invalid('--pkcs11-init-token goes with --kms pkcs11');

      const before = new Set(existed ? readdirSync(g.dataDir) : []);
      let services: Services | undefined;
      try {
        ensureDataDir(g.dataDir);
        if (config.kms.type === 'pkcs11') {
          ensureDataDir(join(g.dataDir, 'keys'));
          writeFileAtomic(join(g.dataDir, 'keys', 'pkcs11.pin'), `${pkcs11Pin}\n`, 0o600);
        }
        services = await openServices(g, { config, create: true, ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}), ...(config.kms.type === 'soft' && ahead ? { keyPairsAhead: ahead } : {}) });
        await initialize(services, o.keyAlgorithm, 'cli');
        // saved last: a data directory with a config.json holds a complete installation
        writeConfig(g.dataDir, config);
      } catch (e) {
        await services?.close().catch(() => undefined);
        services = undefined;
        if (!existed) rmSync(g.dataDir, { recursive: true, force: true });
        else for (const f of newEntries(g.dataDir, before)) rmSync(join(g.dataDir, f), { recursive: true, force: true });
        throw e;
      } finally {
        await services?.close();
      }
    });
}
