/**
 * The software key file `<dir>/<label>.key`: a small JSON document holding the public key in clear and the
 * PKCS#8 private key sealed with AES-256-GCM under a key derived from the passphrase.
 *
 *   passphrase ──scrypt(N=2^17, r=8, p=1, kdf.salt)──▶ master ──HKDF-SHA256(fileSalt, label)──▶ AES-256-GCM key
 *
 * Why not node's encrypted PKCS#8 PEM: OpenSSL's PBES2 there is PBKDF2 with 2048 iterations (not tunable
 * from node), CBC is unauthenticated (a wrong passphrase is only noticed by a padding or ASN.1 failure), and
 * nothing binds a file to its label. Here scrypt is memory-hard, GCM authenticates the ciphertext, and the
 * label, key spec and public key are the GCM additional data, so a swapped, renamed or edited file is refused.
 * The scrypt result is cached per salt and every key created by one manager shares that manager's salt, so a
 * CA with 48 keys pays the KDF once per process; each file still gets its own HKDF salt and IV.
 */
import { createCipheriv, createDecipheriv, hkdfSync, randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { constants as fsc } from 'node:fs';
import { link, open, readFile, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { KeySpec } from '../pki/signer.js';
import { KmsError } from './errors.js';
import { checkKeySpec } from './keys.js';

export const SOFT_KEY_FORMAT = 'jpki-soft-key-v1';

export interface KdfParams {
  name: 'scrypt';
  N: number;
  r: number;
  p: number;
  /** base64 */
  salt: string;
}

export interface SoftKeyRecord {
  format: typeof SOFT_KEY_FORMAT;
  label: string;
  spec: KeySpec;
  /** SPKI DER, base64: readable without the passphrase (getPublicKey, describeKey). */
  publicKey: string;
  kdf: KdfParams & { /** base64 HKDF(master, "passphrase check"): tells a wrong passphrase from an altered file. */ check: string };
  cipher: { name: 'aes-256-gcm'; /** base64 HKDF salt */ salt: string; iv: string; tag: string };
  /** base64 AES-256-GCM ciphertext of the PKCS#8 DER private key. */
  encryptedKey: string;
}

/** OWASP's scrypt minimum for passwords; the cost is paid once per salt per process. */
export const DEFAULT_SCRYPT = { N: 2 ** 17, r: 8, p: 1 } as const;
/**
 * For the passphrase the key store generated itself (256 random bits in `<dir>/passphrase`): stretching makes
 * a guess dearer, and nobody guesses 256 random bits, so the lowest cost this format accepts is enough — 16 MiB
 * and ~0.08 s instead of 128 MiB and ~0.7 s of a core on every first start and restart (issue 11).
 */
export const GENERATED_PASSPHRASE_SCRYPT = { N: 2 ** 14, r: 8, p: 1 } as const;

/** `generated`: the passphrase is the key store's own random one, not a person's. */
export function newKdfParams(passphrase: 'chosen' | 'generated' = 'chosen'): KdfParams {
  return { name: 'scrypt', ...(passphrase === 'generated' ? GENERATED_PASSPHRASE_SCRYPT : DEFAULT_SCRYPT), salt: randomBytes(16).toString('base64') };
}

/** Derives (and caches, per passphrase holder) scrypt masters by KDF parameters. */
export class MasterKeyCache {
  private readonly masters = new Map<string, Promise<Buffer>>();
  constructor(private readonly passphrase: string) {}

  get(kdf: KdfParams): Promise<Buffer> {
    if (kdf.name !== 'scrypt' || !(kdf.N >= 2 ** 14 && kdf.N <= 2 ** 20) || !(kdf.r >= 1 && kdf.r <= 32) || !(kdf.p >= 1 && kdf.p <= 16))
      return Promise.reject(new KmsError('KMS_KEY_FILE_CORRUPT', 'malformed', `unsupported KDF parameters ${JSON.stringify(kdf)}`));
    const id = `${kdf.N}/${kdf.r}/${kdf.p}/${kdf.salt}`;
    let m = this.masters.get(id);
    if (!m) {
      m = new Promise<Buffer>((resolve, reject) =>
        scrypt(this.passphrase, Buffer.from(kdf.salt, 'base64'), 32, { N: kdf.N, r: kdf.r, p: kdf.p, maxmem: 256 * kdf.N * kdf.r + (1 << 24) }, (err, key) =>
          err ? reject(err) : resolve(key),
        ),
      );
      this.masters.set(id, m);
      m.catch(() => this.masters.delete(id));
    }
    return m;
  }

  clear(): void {
    this.masters.clear();
  }
}

const checkOf = (master: Buffer) => Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `${SOFT_KEY_FORMAT} passphrase check`, 16));
const fileKeyOf = (master: Buffer, salt: Buffer, label: string) => Buffer.from(hkdfSync('sha256', master, salt, `${SOFT_KEY_FORMAT} aes-256-gcm ${label}`, 32));
const aadOf = (r: Pick<SoftKeyRecord, 'format' | 'label' | 'spec' | 'publicKey'>) =>
  Buffer.from(JSON.stringify([r.format, r.label, r.spec, r.publicKey]), 'utf8');

export async function sealKey(label: string, spec: KeySpec, spki: Buffer, pkcs8: Buffer, kdf: KdfParams, masters: MasterKeyCache): Promise<SoftKeyRecord> {
  const master = await masters.get(kdf);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const head = { format: SOFT_KEY_FORMAT, label, spec, publicKey: spki.toString('base64') } as const;
  const key = fileKeyOf(master, salt, label);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(aadOf(head));
  const ct = Buffer.concat([c.update(pkcs8), c.final()]);
  key.fill(0);
  return {
    ...head,
    kdf: { ...kdf, check: checkOf(master).toString('base64') },
    cipher: { name: 'aes-256-gcm', salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') },
    encryptedKey: ct.toString('base64'),
  };
}

/** The PKCS#8 DER inside a record (the caller turns it into a KeyObject and wipes the buffer). */
export async function unsealKey(rec: SoftKeyRecord, path: string, masters: MasterKeyCache): Promise<Buffer> {
  const master = await masters.get(rec.kdf);
  const check = Buffer.from(rec.kdf.check, 'base64');
  const expected = checkOf(master);
  if (check.length !== expected.length || !timingSafeEqual(check, expected))
    throw new KmsError(
      'KMS_KEY_PASSPHRASE_WRONG',
      'unauthenticated',
      `the key passphrase does not open ${path}; set the passphrase the key was created with (config passphrase, JPKI_KEY_PASSPHRASE or <dir>/passphrase)`,
      { label: rec.label },
    );
  const key = fileKeyOf(master, Buffer.from(rec.cipher.salt, 'base64'), rec.label);
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(rec.cipher.iv, 'base64'));
    d.setAAD(aadOf(rec));
    d.setAuthTag(Buffer.from(rec.cipher.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(rec.encryptedKey, 'base64')), d.final()]);
  } catch (e) {
    throw new KmsError('KMS_KEY_FILE_CORRUPT', 'internal', `key file ${path} was altered (authentication failed) although the passphrase is right`, { label: rec.label }, { cause: e });
  } finally {
    key.fill(0);
  }
}

export const SOFT_SECRET_FORMAT = 'jpki-soft-secret-v1';

/** A secret key file `<dir>/<label>.secret`: 32 bytes sealed like a private key, bound to its label. */
export interface SoftSecretRecord {
  format: typeof SOFT_SECRET_FORMAT;
  label: string;
  kdf: SoftKeyRecord['kdf'];
  cipher: SoftKeyRecord['cipher'];
  encryptedKey: string;
}

const secretAad = (r: Pick<SoftSecretRecord, 'format' | 'label'>) => Buffer.from(JSON.stringify([r.format, r.label]), 'utf8');

export async function sealSecret(label: string, value: Uint8Array, kdf: KdfParams, masters: MasterKeyCache): Promise<SoftSecretRecord> {
  const master = await masters.get(kdf);
  const salt = randomBytes(16);
  const iv = randomBytes(12);
  const head = { format: SOFT_SECRET_FORMAT, label } as const;
  const key = fileKeyOf(master, salt, label);
  const c = createCipheriv('aes-256-gcm', key, iv);
  c.setAAD(secretAad(head));
  const ct = Buffer.concat([c.update(value), c.final()]);
  key.fill(0);
  return {
    ...head,
    kdf: { ...kdf, check: checkOf(master).toString('base64') },
    cipher: { name: 'aes-256-gcm', salt: salt.toString('base64'), iv: iv.toString('base64'), tag: c.getAuthTag().toString('base64') },
    encryptedKey: ct.toString('base64'),
  };
}

export async function unsealSecret(rec: SoftSecretRecord, path: string, masters: MasterKeyCache): Promise<Buffer> {
  const master = await masters.get(rec.kdf);
  const check = Buffer.from(rec.kdf.check, 'base64');
  const expected = checkOf(master);
  if (check.length !== expected.length || !timingSafeEqual(check, expected))
    throw new KmsError('KMS_KEY_PASSPHRASE_WRONG', 'unauthenticated', `the key passphrase does not open ${path}`, { label: rec.label });
  const key = fileKeyOf(master, Buffer.from(rec.cipher.salt, 'base64'), rec.label);
  try {
    const d = createDecipheriv('aes-256-gcm', key, Buffer.from(rec.cipher.iv, 'base64'));
    d.setAAD(secretAad(rec));
    d.setAuthTag(Buffer.from(rec.cipher.tag, 'base64'));
    return Buffer.concat([d.update(Buffer.from(rec.encryptedKey, 'base64')), d.final()]);
  } catch (e) {
    throw new KmsError('KMS_KEY_FILE_CORRUPT', 'internal', `secret file ${path} was altered (authentication failed)`, { label: rec.label }, { cause: e });
  } finally {
    key.fill(0);
  }
}

export async function readSecretRecord(path: string, label: string): Promise<SoftSecretRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KmsError('KMS_INTERNAL', 'unavailable', `cannot read secret file ${path}: ${(e as Error).message}`, {}, { cause: e });
  }
  let rec: SoftSecretRecord;
  try {
    rec = JSON.parse(text) as SoftSecretRecord;
  } catch {
    throw new KmsError('KMS_KEY_FILE_CORRUPT', 'internal', `${path} is not JSON`, { label });
  }
  if (rec?.format !== SOFT_SECRET_FORMAT || rec.label !== label || typeof rec.encryptedKey !== 'string' || rec.cipher?.name !== 'aes-256-gcm' || !rec.kdf)
    throw new KmsError('KMS_KEY_FILE_CORRUPT', 'internal', `${path} is not a ${SOFT_SECRET_FORMAT} file for ${label}`, { label });
  return rec;
}

/** Reads and shape-checks a key file; undefined when it does not exist. */
export async function readKeyRecord(path: string, label: string): Promise<SoftKeyRecord | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new KmsError('KMS_INTERNAL', 'unavailable', `cannot read key file ${path}: ${(e as Error).message}`, {}, { cause: e });
  }
  const corrupt = (why: string) => new KmsError('KMS_KEY_FILE_CORRUPT', 'internal', `${path} is not a ${SOFT_KEY_FORMAT} key file: ${why}`, { label });
  let rec: SoftKeyRecord;
  try {
    rec = JSON.parse(text) as SoftKeyRecord;
  } catch {
    throw corrupt('not JSON');
  }
  if (rec?.format !== SOFT_KEY_FORMAT) throw corrupt(`format ${JSON.stringify(rec?.format)}`);
  if (rec.label !== label) throw corrupt(`it holds label ${JSON.stringify(rec.label)}`);
  if (typeof rec.publicKey !== 'string' || typeof rec.encryptedKey !== 'string' || !rec.kdf || rec.cipher?.name !== 'aes-256-gcm') throw corrupt('fields missing');
  try {
    checkKeySpec(rec.spec);
  } catch {
    throw corrupt('unknown key spec');
  }
  return rec;
}

/**
 * Writes `data` to `path` atomically and never over an existing file: temp file (0600, O_EXCL) + fsync,
 * then link(2) to the final name — which fails with EEXIST if the name is taken, unlike rename(2) — then
 * fsync of the directory so the new name survives a crash. Returns false if `path` already exists.
 */
export async function writeNewFileAtomic(path: string, data: string | Buffer): Promise<boolean> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fh = await open(tmp, fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL, 0o600);
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  try {
    await link(tmp, path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') {
      await unlink(tmp);
      return false;
    }
    // Filesystems without hard links: rename after an existence check (not race-free between processes).
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EXDEV') {
      await unlink(tmp).catch(() => {});
      throw e;
    }
    if (await exists(path)) {
      await unlink(tmp);
      return false;
    }
    await rename(tmp, path);
    await syncDir(dir);
    return true;
  }
  await unlink(tmp);
  await syncDir(dir);
  return true;
}

async function exists(path: string): Promise<boolean> {
  try {
    await (await open(path, 'r')).close();
    return true;
  } catch {
    return false;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await open(dir, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}
