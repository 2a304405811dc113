import type { Command } from 'commander';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { JpkiError } from '../../common/errors.js';
import { parseKeySpec } from '../../pki/signer.js';
import { ensureDataDir, readConfig, writeConfig, writeFileAtomic, type InstallationConfig } from '../../compose/data-dir.js';
import { globalOptions } from '../global-options.js';
import { openServices, type Services } from '../../compose/services.js';
import { print } from '../output.js';

export interface InitCliOptions {
  kms: string;
  pkcs11Module?: string;
  pkcs11Token?: string;
  pkcs11Pin?: string;
  keyAlgorithm: string;
  publicUrl?: string;
}

/** The configuration `jpki init` saves, from its options (and the saved one when re-run). */
export function configFromInitOptions(o: InitCliOptions, saved: InstallationConfig | undefined, databaseUrl: string | undefined): InstallationConfig {
  if (saved) return saved;
  let kms: InstallationConfig['kms'];
  if (o.kms === 'soft') kms = { type: 'soft' };
  else if (o.kms === 'pkcs11') {
    if (!o.pkcs11Module || !o.pkcs11Token)
      throw new JpkiError('INIT_OPTIONS_INVALID', 'malformed', '--kms pkcs11 needs --pkcs11-module PATH and --pkcs11-token LABEL');
    if (!existsSync(o.pkcs11Module)) throw new JpkiError('INIT_OPTIONS_INVALID', 'malformed', `PKCS#11 module ${o.pkcs11Module} does not exist`);
    kms = { type: 'pkcs11', module: o.pkcs11Module, token: o.pkcs11Token };
  } else throw new JpkiError('INIT_OPTIONS_INVALID', 'malformed', `unknown --kms ${JSON.stringify(o.kms)}: use soft or pkcs11`);
  return { kms, ...(databaseUrl ? { databaseUrl } : {}), ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}) };
}

/** Creates the CA hierarchy once; shared by `jpki init` and `jpki serve` on an empty data directory. */
export async function initialize(services: Services, keyAlgorithm: string, actor: string): Promise<boolean> {
  const spec = parseKeySpec(keyAlgorithm);
  if (!spec) throw new JpkiError('INIT_OPTIONS_INVALID', 'malformed', `unknown key algorithm ${JSON.stringify(keyAlgorithm)}: use rsa2048, rsa3072, rsa4096, p256 or p384`);
  const r = await services.ca.initialize({ keySpec: spec, actor });
  if (!r.created) {
    print(`already initialised on ${r.initializedAt}: ${r.authorities} CAs, ${r.crossCertificates} cross-certificates; nothing changed`);
    return false;
  }
  print(`created ${r.authorities} CAs (47 prefectural governors, the JPKI bridge, the government bridge, the agency) and ${r.crossCertificates} cross-certificates`);
  // Every CRL a CA certificate or a CRL names (full, delta, ARL) exists before anyone can ask for it.
  await services.crlUpdater.runOnce();
  print('published the first full CRL, delta CRL and ARL of every CA');
  return true;
}

export function registerInit(program: Command): void {
  program
    .command('init')
    .description('create the 47 prefectural CAs, the bridge CAs, the agency CA and their cross-certificates (once)')
    .option('--kms <type>', 'key store for the CA keys: soft (encrypted files) or pkcs11', 'soft')
    .option('--pkcs11-module <path>', 'PKCS#11 module, e.g. /usr/lib/softhsm/libsofthsm2.so')
    .option('--pkcs11-token <label>', 'PKCS#11 token label')
    .option('--pkcs11-pin <pin>', 'PKCS#11 user PIN (or env JPKI_PKCS11_PIN); saved in <data>/keys/pkcs11.pin, mode 0600')
    .option('--key-algorithm <alg>', 'CA key algorithm: rsa2048, rsa3072, rsa4096, p256, p384', 'rsa2048')
    .option('--public-url <url>', 'public base URL written into certificates (env JPKI_PUBLIC_URL)')
    .action(async (o: InitCliOptions, cmd: Command) => {
      const g = globalOptions(cmd);
      ensureDataDir(g.dataDir);
      const saved = readConfig(g.dataDir);
      const config = configFromInitOptions(o, saved, g.databaseUrlExplicit ? g.databaseUrl : undefined);
      if (config.kms.type === 'pkcs11') {
        const pin = o.pkcs11Pin ?? process.env.JPKI_PKCS11_PIN;
        const pinFile = join(g.dataDir, 'keys', 'pkcs11.pin');
        if (pin) {
          ensureDataDir(join(g.dataDir, 'keys'));
          writeFileAtomic(pinFile, `${pin}\n`, 0o600);
        } else if (!existsSync(pinFile)) throw new JpkiError('PKCS11_PIN_MISSING', 'unauthenticated', 'give the token PIN with --pkcs11-pin or JPKI_PKCS11_PIN');
      }
      const services = await openServices(g, { config, ...(o.publicUrl ? { publicUrl: o.publicUrl } : {}) });
      try {
        if (!saved) writeConfig(g.dataDir, config);
        await initialize(services, o.keyAlgorithm, 'cli');
      } finally {
        await services.close();
      }
    });
}
