/**
 * The narrow PKCS#11 wrapper: everything kms/pkcs11.ts needs from a token, as one small interface
 * (`Pkcs11Token`) that a unit test can fake. The real implementation sits on pkcs11js and owns the pitfalls
 * of notes/libraries.md §7:
 *  - C_Initialize with CKF_OS_LOCKING_OK (without it, concurrent async calls crash the process), tolerating
 *    CKR_CRYPTOKI_ALREADY_INITIALIZED when someone else in the process initialised the module first;
 *  - one loaded module per path per process, reference-counted, so C_Finalize runs exactly once, after the
 *    last user (finalising under another user breaks it with CKR_CRYPTOKI_NOT_INITIALIZED);
 *  - the token is found by label (SoftHSM reassigns slot ids);
 *  - a pool of sessions, one operation each at a time (a session with an active sign gives CKR_OPERATION_ACTIVE);
 *  - login state is per token per process in PKCS#11, so logins are counted per slot as well.
 * Every CKR_* failure leaves here as a KmsError (tokenError).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { existsSync, realpathSync } from 'node:fs';
import pkcs11js from 'pkcs11js';
import type { Mechanism, Template } from 'pkcs11js';
import { closedError, KmsError } from './errors.js';

export type Handle = Buffer;
export type { Mechanism, Template };

export interface Pkcs11Token {
  /** The token label the token was opened by. */
  readonly label: string;
  findObjects(template: Template, max?: number): Promise<Handle[]>;
  /** Raw attribute values (CK_BBOOL: 1 byte, CK_ULONG: native-endian, byte arrays as they are). */
  getAttributes(object: Handle, types: readonly number[]): Promise<Map<number, Buffer>>;
  generateKeyPair(mechanism: Mechanism, publicTemplate: Template, privateTemplate: Template): Promise<{ publicKey: Handle; privateKey: Handle }>;
  /** C_SignInit + C_Sign on a pooled session; `maxLength` sizes the output buffer. */
  sign(mechanism: Mechanism, key: Handle, data: Buffer, maxLength: number): Promise<Buffer>;
  destroyObject(object: Handle): Promise<void>;
  /** C_CreateObject (importing a secret key once). */
  createObject(template: Template): Promise<Handle>;
  /** C_GenerateKey (a secret key). */
  generateKey(mechanism: Mechanism, template: Template): Promise<Handle>;
  /** Waits for operations in flight, logs out (last user of the slot), closes sessions, finalises (last user of the module). */
  close(): Promise<void>;
}

export interface Pkcs11TokenOptions {
  module: string;
  token: string;
  pin: string;
  /** Sessions in the pool (default 4). */
  sessions?: number;
}

export type OpenPkcs11Token = (options: Pkcs11TokenOptions) => Promise<Pkcs11Token>;

// ---- error translation ---------------------------------------------------------------------------------

/** The one translation of PKCS#11 failures into KmsErrors. `what` says which step failed, for the message. */
export function tokenError(e: unknown, what: string, token?: string): KmsError {
  if (e instanceof KmsError) return e;
  const message = e instanceof Error ? e.message : String(e);
  const ckr = /CKR_[A-Z0-9_]+/.exec(message)?.[0];
  const method = (e as { method?: string })?.method;
  const where = `${what}${method ? ` (${method})` : ''}${token ? ` on token ${token}` : ''}`;
  const params = { ckr: ckr ?? '', token: token ?? '' };
  const opts = { cause: e };
  switch (ckr) {
    case 'CKR_PIN_INCORRECT':
    case 'CKR_PIN_INVALID':
    case 'CKR_PIN_LEN_RANGE':
      return new KmsError('KMS_PIN_INCORRECT', 'unauthenticated', `the PIN was refused: ${ckr}, ${where}`, params, opts);
    case 'CKR_PIN_LOCKED':
    case 'CKR_PIN_EXPIRED':
      return new KmsError('KMS_PIN_LOCKED', 'locked', `the user PIN is locked: ${ckr}, ${where}; reset it with the SO PIN`, params, opts);
    case 'CKR_MECHANISM_INVALID':
    case 'CKR_MECHANISM_PARAM_INVALID':
    case 'CKR_KEY_SIZE_RANGE':
    case 'CKR_DOMAIN_PARAMS_INVALID':
    case 'CKR_CURVE_NOT_SUPPORTED':
      return new KmsError('KMS_MECHANISM_UNSUPPORTED', 'unavailable', `the token does not support this: ${ckr}, ${where}`, params, opts);
    case 'CKR_OBJECT_HANDLE_INVALID':
    case 'CKR_KEY_HANDLE_INVALID':
      return new KmsError('KMS_KEY_NOT_FOUND', 'not-found', `the key is no longer on the token: ${ckr}, ${where}`, params, opts);
    case 'CKR_TOKEN_NOT_PRESENT':
    case 'CKR_TOKEN_NOT_RECOGNIZED':
    case 'CKR_DEVICE_REMOVED':
    case 'CKR_SLOT_ID_INVALID':
      return new KmsError('KMS_TOKEN_NOT_FOUND', 'unavailable', `the token is gone: ${ckr}, ${where}`, params, opts);
    case 'CKR_DEVICE_ERROR':
    case 'CKR_DEVICE_MEMORY':
    case 'CKR_HOST_MEMORY':
    case 'CKR_TOKEN_WRITE_PROTECTED':
    case 'CKR_SESSION_COUNT':
    case 'CKR_CRYPTOKI_NOT_INITIALIZED':
      return new KmsError('KMS_TOKEN_ERROR', 'unavailable', `the token failed: ${ckr}, ${where}`, params, opts);
    default:
      return new KmsError('KMS_TOKEN_ERROR', 'internal', `the token failed: ${ckr ?? message}, ${where}`, params, opts);
  }
}

const ckrOf = (e: unknown) => (e instanceof Error ? /CKR_[A-Z0-9_]+/.exec(e.message)?.[0] : undefined);

// ---- process-wide module and login registry -------------------------------------------------------------

interface LoadedModule {
  path: string;
  lib: pkcs11js.PKCS11;
  refs: number;
  /** False when another component initialised the module first: then it is theirs to finalise. */
  ownsInit: boolean;
  /** Per slot (hex id): how many of our tokens rely on the login, and a digest of the PIN that succeeded. */
  logins: Map<string, { refs: number; pinDigest: Buffer }>;
}

const modules = new Map<string, LoadedModule>();

function acquireModule(path: string): LoadedModule {
  if (!existsSync(path))
    throw new KmsError('KMS_PKCS11_MODULE_MISSING', 'unavailable', `PKCS#11 module ${path} does not exist (for SoftHSM2: apt-get install softhsm2)`, { module: path });
  const key = realpathSync(path);
  let m = modules.get(key);
  if (!m) {
    const lib = new pkcs11js.PKCS11();
    try {
      lib.load(path);
    } catch (e) {
      throw new KmsError('KMS_PKCS11_MODULE_MISSING', 'unavailable', `cannot load PKCS#11 module ${path}: ${(e as Error).message}`, { module: path }, { cause: e });
    }
    let ownsInit = true;
    try {
      lib.C_Initialize({ flags: pkcs11js.CKF_OS_LOCKING_OK });
    } catch (e) {
      if (ckrOf(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') {
        lib.close();
        throw tokenError(e, `initialising PKCS#11 module ${path}`);
      }
      ownsInit = false;
    }
    m = { path: key, lib, refs: 0, ownsInit, logins: new Map() };
    modules.set(key, m);
  }
  m.refs++;
  return m;
}

function releaseModule(m: LoadedModule): void {
  if (--m.refs > 0) return;
  modules.delete(m.path);
  try {
    if (m.ownsInit) m.lib.C_Finalize();
  } finally {
    m.lib.close();
  }
}

const pinDigest = (pin: string) => createHash('sha256').update(pin, 'utf8').digest();

// ---- the real token --------------------------------------------------------------------------------------

function findSlot(m: LoadedModule, label: string): { slot: Handle; info: pkcs11js.TokenInfo } {
  let slots: Handle[];
  try {
    slots = m.lib.C_GetSlotList(true);
  } catch (e) {
    throw tokenError(e, 'listing slots');
  }
  const found: { slot: Handle; info: pkcs11js.TokenInfo }[] = [];
  const labels: string[] = [];
  for (const slot of slots) {
    const info = m.lib.C_GetTokenInfo(slot);
    const l = info.label.trimEnd();
    labels.push(l);
    if (l === label) found.push({ slot, info });
  }
  if (found.length === 1) return found[0]!;
  if (found.length > 1)
    throw new KmsError('KMS_TOKEN_AMBIGUOUS', 'conflict', `${found.length} tokens are labelled ${label} in ${m.path}; token labels must be unique`, { token: label });
  throw new KmsError(
    'KMS_TOKEN_NOT_FOUND',
    'unavailable',
    `no token labelled ${label} in ${m.path} (tokens present: ${labels.filter(Boolean).map((l) => JSON.stringify(l)).join(', ') || 'none'}). ` +
      'SoftHSM2 reads SOFTHSM2_CONF and its token directory when the module is initialised; tokens created later ' +
      'are seen only after every key manager on this module has been closed',
    { token: label, module: m.path },
  );
}

export interface TokenInitOptions {
  module: string;
  label: string;
  soPin: string;
  /** The user PIN the key store will log in with. */
  pin: string;
}

/**
 * Initialises a new token, as `softhsm2-util --init-token --free` does but through PKCS#11 itself, so it works
 * with any module that allows C_InitToken: the first slot whose token is not initialised gets `label` and the
 * SO PIN, then the SO sets the user PIN. A label already in use is refused (a token is never re-initialised:
 * that would destroy its keys).
 */
export async function initPkcs11Token(o: TokenInitOptions): Promise<void> {
  const m = acquireModule(o.module);
  try {
    let free: Handle | undefined;
    for (const slot of m.lib.C_GetSlotList(true)) {
      const info = m.lib.C_GetTokenInfo(slot);
      const initialised = (info.flags & pkcs11js.CKF_TOKEN_INITIALIZED) !== 0;
      if (initialised && info.label.trimEnd() === o.label)
        throw new KmsError('KMS_TOKEN_EXISTS', 'conflict', `a token labelled ${o.label} already exists in ${o.module}: drop --pkcs11-init-token to use it`, { token: o.label });
      if (!initialised) free ??= slot;
    }
    if (!free) throw new KmsError('KMS_NO_FREE_SLOT', 'unavailable', `${o.module} has no slot with an uninitialised token to initialise`, { module: o.module });
    try {
      m.lib.C_InitToken(free, o.soPin, o.label);
    } catch (e) {
      throw tokenError(e, 'initialising the token', o.label);
    }
    // SoftHSM moves an initialised token to a slot of its own: find it again by label
    const slot = findSlot(m, o.label).slot;
    const session = m.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION);
    try {
      m.lib.C_Login(session, pkcs11js.CKU_SO, o.soPin);
      m.lib.C_InitPIN(session, o.pin);
      m.lib.C_Logout(session);
    } catch (e) {
      throw tokenError(e, 'setting the user PIN', o.label);
    } finally {
      m.lib.C_CloseSession(session);
    }
  } finally {
    releaseModule(m);
  }
}

export const openPkcs11Token: OpenPkcs11Token = async (options) => {
  const poolSize = options.sessions ?? 4;
  if (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 64)
    throw new KmsError('KMS_CONFIG_INVALID', 'malformed', `sessions must be an integer 1–64, not ${options.sessions}`);
  const m = acquireModule(options.module);
  const sessions: Handle[] = [];
  try {
    const { slot, info } = findSlot(m, options.token);
    if (info.flags & pkcs11js.CKF_USER_PIN_LOCKED)
      throw new KmsError('KMS_PIN_LOCKED', 'locked', `the user PIN of token ${options.token} is locked; reset it with the SO PIN`, { token: options.token });
    if (!(info.flags & pkcs11js.CKF_USER_PIN_INITIALIZED))
      throw new KmsError('KMS_CONFIG_INVALID', 'malformed', `token ${options.token} has no user PIN yet (initialise it with softhsm2-util --init-token … --pin)`, { token: options.token });
    for (let i = 0; i < poolSize; i++) {
      try {
        sessions.push(m.lib.C_OpenSession(slot, pkcs11js.CKF_SERIAL_SESSION | pkcs11js.CKF_RW_SESSION));
      } catch (e) {
        throw tokenError(e, 'opening a session', options.token);
      }
    }
    const key = slot.toString('hex');
    const digest = pinDigest(options.pin);
    const login = m.logins.get(key);
    if (login) {
      // Already logged in by another of our tokens: C_Login would answer CKR_USER_ALREADY_LOGGED_IN for any PIN.
      if (!timingSafeEqual(login.pinDigest, digest))
        throw new KmsError('KMS_PIN_INCORRECT', 'unauthenticated', `the PIN differs from the one this process logged in to token ${options.token} with`, { token: options.token });
      login.refs++;
    } else {
      try {
        m.lib.C_Login(sessions[0]!, pkcs11js.CKU_USER, options.pin);
      } catch (e) {
        if (ckrOf(e) !== 'CKR_USER_ALREADY_LOGGED_IN') throw tokenError(e, 'logging in', options.token);
      }
      m.logins.set(key, { refs: 1, pinDigest: digest });
    }
    return new RealToken(m, options.token, key, sessions);
  } catch (e) {
    for (const s of sessions) {
      try {
        m.lib.C_CloseSession(s);
      } catch {
        /* already failing */
      }
    }
    releaseModule(m);
    throw e;
  }
};

class RealToken implements Pkcs11Token {
  private readonly free: Handle[];
  private readonly waiters: ((s: Handle) => void)[] = [];
  private closing = false;
  private drained?: () => void;

  constructor(
    private readonly m: LoadedModule,
    readonly label: string,
    private readonly slotKey: string,
    private readonly sessions: Handle[],
  ) {
    this.free = [...sessions];
  }

  private acquire(): Handle | Promise<Handle> {
    if (this.closing) throw closedError();
    return this.free.pop() ?? new Promise<Handle>((resolve) => this.waiters.push(resolve));
  }

  private release(s: Handle): void {
    const next = this.waiters.shift();
    if (next) return next(s);
    this.free.push(s);
    if (this.closing && this.free.length === this.sessions.length) this.drained?.();
  }

  /** Runs `fn` on a session of its own; errors come out translated. */
  private async use<T>(what: string, fn: (s: Handle) => T | Promise<T>): Promise<T> {
    const s = await this.acquire();
    try {
      return await fn(s);
    } catch (e) {
      throw tokenError(e, what, this.label);
    } finally {
      this.release(s);
    }
  }

  findObjects(template: Template, max = 16): Promise<Handle[]> {
    return this.use('finding objects', (s) => {
      this.m.lib.C_FindObjectsInit(s, template);
      try {
        return this.m.lib.C_FindObjects(s, max);
      } finally {
        this.m.lib.C_FindObjectsFinal(s);
      }
    });
  }

  getAttributes(object: Handle, types: readonly number[]): Promise<Map<number, Buffer>> {
    return this.use('reading attributes', (s) => {
      const out = new Map<number, Buffer>();
      for (const a of this.m.lib.C_GetAttributeValue(s, object, types.map((type) => ({ type })))) out.set(a.type, a.value);
      return out;
    });
  }

  generateKeyPair(mechanism: Mechanism, publicTemplate: Template, privateTemplate: Template) {
    // Async: RSA-4096 generation takes seconds and must not block the event loop.
    return this.use('generating a key pair', (s) => this.m.lib.C_GenerateKeyPairAsync(s, mechanism, publicTemplate, privateTemplate));
  }

  sign(mechanism: Mechanism, key: Handle, data: Buffer, maxLength: number): Promise<Buffer> {
    // C_SignAsync runs C_Sign on the libuv pool; with a session each, several signs proceed at once.
    return this.use('signing', (s) => {
      this.m.lib.C_SignInit(s, mechanism, key);
      return this.m.lib.C_SignAsync(s, data, Buffer.allocUnsafe(maxLength));
    });
  }

  destroyObject(object: Handle): Promise<void> {
    return this.use('destroying an object', (s) => this.m.lib.C_DestroyObject(s, object));
  }

  createObject(template: Template): Promise<Handle> {
    return this.use('creating an object', (s) => this.m.lib.C_CreateObject(s, template));
  }

  generateKey(mechanism: Mechanism, template: Template): Promise<Handle> {
    return this.use('generating a secret key', (s) => this.m.lib.C_GenerateKey(s, mechanism, template));
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.free.length < this.sessions.length) await new Promise<void>((resolve) => (this.drained = resolve));
    const login = this.m.logins.get(this.slotKey);
    try {
      if (login && --login.refs === 0) {
        this.m.logins.delete(this.slotKey);
        try {
          this.m.lib.C_Logout(this.sessions[0]!);
        } catch (e) {
          if (ckrOf(e) !== 'CKR_USER_NOT_LOGGED_IN') throw tokenError(e, 'logging out', this.label);
        }
      }
      for (const s of this.sessions) this.m.lib.C_CloseSession(s);
    } finally {
      releaseModule(this.m);
    }
  }
}
