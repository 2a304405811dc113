import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { JpkiError } from '../common/errors.js';
import { canonicalJson, decodeCardImage } from './card-image.js';
import { FileCardStorage, MemoryCardStorage, SoftCard, deriveCardIssuerKey } from './index.js';
import { AUTH_PIN, CARD_ID, FABRICATION_SECRET, ISSUER_MASTER_KEY, SELECT_AP, openImage, personalisedImage, selectEf, send, verifyApdu, type Personalised } from '../../test/card/support/cards.js';

let p: Personalised;
beforeAll(async () => {
  p = await personalisedImage();
});

const code = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return 'resolved';
  } catch (e) {
    return e instanceof JpkiError ? e.code : String(e);
  }
};

describe('card image', () => {
  it('keeps counters, certificates and keys across a reopen', async () => {
    const { card, storage } = await openImage(p.image);
    card.powerOn();
    await send(card, SELECT_AP);
    await send(card, selectEf('0018'));
    await send(card, verifyApdu('0000'));
    const reopened = await openImage(storage.image!);
    reopened.card.powerOn();
    await send(reopened.card, SELECT_AP);
    await send(reopened.card, selectEf('0018'));
    expect((await send(reopened.card, '00 20 00 80')).sw).toBe('63C2');
    expect((await send(reopened.card, verifyApdu(AUTH_PIN))).sw).toBe('9000');
    await send(reopened.card, selectEf('0017'));
    expect((await send(reopened.card, '80 2A 00 80 03 01 02 03 00')).sw).toBe('9000');
    expect(reopened.card.describe()).toMatchObject({ cardId: CARD_ID, token: 'JPKIAPICCTOKEN2', keys: { auth: true, sign: true }, certificates: { sign: p.certificates.sign.length } });
  });

  it('does not open under another installation\u2019s fabrication secret', async () => {
    const storage = new MemoryCardStorage();
    storage.image = Buffer.from(p.image);
    expect(await code(SoftCard.open(storage, Buffer.alloc(32, 1)))).toBe('card.image-tampered');
  });

  it.each([
    ['a retry counter edited by hand', (j: any) => (j.state.pins.sign.triesLeft = 4)],
    ['the issuer counter edited', (j: any) => (j.state.issuer.triesLeft = 9)],
    ['a certificate swapped', (j: any) => (j.state.certificates.sign = j.state.certificates.auth)],
    ['the card ID changed', (j: any) => (j.cardId = 'FFFFFFFFFFFFFFFF')],
    ['keys swapped between slots', (j: any) => ([j.state.keys.auth, j.state.keys.sign] = [j.state.keys.sign, j.state.keys.auth])],
  ])('refuses an image with %s', async (_name, edit) => {
    const { storage } = await openImage(p.image);
    const json = JSON.parse(storage.image!.toString('utf8'));
    edit(json);
    storage.image = Buffer.from(JSON.stringify(json));
    expect(await code(SoftCard.open(storage, FABRICATION_SECRET))).toBe('card.image-tampered');
  });

  it.each([
    ['not JSON', 'hello'],
    ['another JSON document', '{"format":"something-else"}'],
    ['a newer version', JSON.stringify({ format: 'jpki-card-image', version: 2, cardId: CARD_ID, state: {}, mac: '0'.repeat(64) })],
  ])('refuses %s as malformed', async (_name, text) => {
    const storage = new MemoryCardStorage();
    storage.image = Buffer.from(text);
    expect(await code(SoftCard.open(storage, FABRICATION_SECRET))).toBe('card.image-malformed');
  });

  it('keeps private keys sealed per slot: a box opened under the other slot\u2019s label fails', () => {
    const { secrets, state } = decodeCardImage(p.image, FABRICATION_SECRET);
    expect(() => secrets.unseal('key:auth', state.keys.sign!.sealedPrivateKey)).toThrow(JpkiError);
    expect(secrets.unseal('key:sign', state.keys.sign!.sealedPrivateKey).length).toBeGreaterThan(1000);
  });

  it('stores PINs as verifiers only', () => {
    const text = p.image.toString('utf8');
    expect(text).not.toContain('ABC123');
    expect(text).not.toContain(Buffer.from('ABC123').toString('base64'));
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: null } })).toBe('{"a":{"c":null,"d":[2,{"e":0,"f":1}]},"b":1}');
  });

  it('will not fabricate over an existing image', async () => {
    const { storage } = await openImage(p.image);
    expect(await code(SoftCard.fabricate(storage, { fabricationSecret: FABRICATION_SECRET, issuerKey: (id) => deriveCardIssuerKey(ISSUER_MASTER_KEY, id) }))).toBe('card.exists');
  });
});

describe('FileCardStorage', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'jpki-card-'));

  it('writes atomically (no temporary file left behind) with mode 0600', async () => {
    const d = dir();
    const path = join(d, 'card.json');
    const storage = await FileCardStorage.open(path, { lock: true });
    await storage.write(Buffer.from('one'));
    await storage.write(Buffer.from('two'));
    expect(readFileSync(path, 'utf8')).toBe('two');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readdirSync(d).sort()).toEqual(['card.json', 'card.json.lock']);
    await storage.close();
    expect(readdirSync(d)).toEqual(['card.json']);
  });

  it('lets one process at a time use a card: a second locked open is refused', async () => {
    const path = join(dir(), 'card.json');
    const first = await FileCardStorage.open(path, { lock: true });
    expect(await code(FileCardStorage.open(path, { lock: true }))).toBe('card.image-in-use');
    const reader = await FileCardStorage.open(path, { lock: false });
    await reader.close();
    await first.close();
    await (await FileCardStorage.open(path, { lock: true })).close();
  });

  it('takes over a lock left by a process that died', async () => {
    const path = join(dir(), 'card.json');
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(`${path}.lock`, `${dead.stdout}\n`);
    const storage = await FileCardStorage.open(path, { lock: true });
    expect(readFileSync(`${path}.lock`, 'utf8').trim()).toBe(String(process.pid));
    await storage.close();
  });

  it('reads null for a missing image and fails clearly for an unwritable directory', async () => {
    const storage = await FileCardStorage.open(join(dir(), 'none.json'), { lock: false });
    expect(await storage.read()).toBeNull();
    const bad = await FileCardStorage.open('/proc/version/card.json', { lock: false });
    expect(await code(bad.write(Buffer.from('x')))).toBe('card.image-write');
  });
});
