import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CARD_FABRICATION_SECRET_FILE, ISSUER_MASTER_KEY_FILE, cardFabricationSecret, issuerMasterKey } from './key-files.js';
import { deriveCardIssuerKey } from './index.js';

const dataDir = () => join(mkdtempSync(join(tmpdir(), 'jpki-keys-')), 'data');

describe('per-installation card secrets', () => {
  it('creates 32 random bytes as hex, mode 0600, in a new data directory, and reads the same back', () => {
    const dir = dataDir();
    const master = issuerMasterKey(dir, { create: true });
    const secret = cardFabricationSecret(dir, { create: true });
    expect(master.length).toBe(32);
    expect(secret.length).toBe(32);
    expect(master.equals(secret)).toBe(false);
    expect(readFileSync(join(dir, ISSUER_MASTER_KEY_FILE), 'utf8').trim()).toBe(master.toString('hex'));
    expect(statSync(join(dir, ISSUER_MASTER_KEY_FILE)).mode & 0o777).toBe(0o600);
    expect(statSync(join(dir, CARD_FABRICATION_SECRET_FILE)).mode & 0o777).toBe(0o600);
    expect(issuerMasterKey(dir, { create: true }).equals(master)).toBe(true);
    expect(cardFabricationSecret(dir, { create: false }).equals(secret)).toBe(true);
  });

  it('says where it looked when the file is missing and may not be made', () => {
    expect(() => cardFabricationSecret(dataDir(), { create: false })).toThrow(/no card fabrication secret at .*card-fabrication\.key/);
  });

  it('refuses a file that is not 32 bytes of hex', () => {
    const dir = dataDir();
    issuerMasterKey(dir, { create: true });
    writeFileSync(join(dir, ISSUER_MASTER_KEY_FILE), 'abcd\n');
    expect(() => issuerMasterKey(dir, { create: true })).toThrow(/does not hold the issuer master key/);
  });
});

describe('deriveCardIssuerKey', () => {
  it('is deterministic, differs per card and per master key, and checks its inputs', () => {
    const master = Buffer.alloc(32, 1);
    const a = deriveCardIssuerKey(master, '0123456789ABCDEF');
    expect(a.length).toBe(32);
    expect(deriveCardIssuerKey(master, '0123456789ABCDEF').equals(a)).toBe(true);
    expect(deriveCardIssuerKey(master, '0123456789ABCDEE').equals(a)).toBe(false);
    expect(deriveCardIssuerKey(Buffer.alloc(32, 2), '0123456789ABCDEF').equals(a)).toBe(false);
    expect(() => deriveCardIssuerKey(Buffer.alloc(16), '0123456789ABCDEF')).toThrow(/32 bytes/);
    expect(() => deriveCardIssuerKey(master, '0123456789abcdef')).toThrow(/16 upper-case hex digits/);
  });
});
