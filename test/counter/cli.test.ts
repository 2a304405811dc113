import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verify, X509Certificate } from 'node:crypto';
import { jpki, startJpki } from '../support/cli.js';
import { openssl } from '../support/installation.js';
import { availableStoreKinds, dropSchemaOf, freshStoreUrl } from '../support/stores.js';
import { digestInfoOf, JpkiClient, openInProcessReader, PinBlockedError, PinIncorrectError } from '../../src/reader/index.js';

const kinds = await availableStoreKinds();

/** The card, in this process, as the resident's client software would use it. */
async function withCard<T>(data: string, card: string, fn: (c: JpkiClient) => Promise<T>): Promise<T> {
  const reader = await openInProcessReader(card, { dataDir: data });
  try {
    const client = new JpkiClient(reader);
    await client.selectAp();
    return await fn(client);
  } finally {
    await reader.close();
  }
}

describe.each(kinds)('the whole counter flow through real jpki processes (%s)', (storeKind) => {
  let dir: string;
  let data: string;
  let db: string;
  const env = (extra: Record<string, string> = {}) => ({ JPKI_OPERATOR_PASSWORD: 'minato-pass-1', ...extra });
  const run = (args: string[], extra: Record<string, string> = {}) => jpki(['--data', data, '--db', db, ...args], { env: env(extra) });
  const ok = (args: string[], extra: Record<string, string> = {}) => {
    const r = run(args, extra);
    expect(r.stderr, args.join(' ')).toBe('');
    expect(r.status, args.join(' ')).toBe(0);
    return r.stdout;
  };
  const desk = ['--operator', 'sato', '--id-type', 'driving-licence', '--id-number', '301234567890'];
  let resident = '';
  let card = '';
  let signSerial = '';
  let authSerial = '';

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-counter-cli-'));
    data = join(dir, 'data');
    db = freshStoreUrl(storeKind, join(data, 'jpki.sqlite'));
    card = join(dir, 'ichiro.card');
    ok(['init', '--key-algorithm', 'p256']);
  });
  afterAll(async () => {
    if (storeKind === 'postgres') await dropSchemaOf(db);
    rmSync(dir, { recursive: true, force: true });
  });

  it('operator add, register add, card new, counter issue: prints the receipt number; the card then signs', async () => {
    expect(ok(['operator', 'add', '--municipality', '13103', '--name', 'sato', '--role', 'clerk'])).toContain('added clerk sato at 港区 (13103)');
    resident = ok(['register', 'add', '--name', '公的 一郎', '--birth', '1977-11-07', '--sex', '1', '--address', '東京都港区虎ノ門5丁目', '--municipality', '13103']).trim();
    expect(resident).toMatch(/^R[0-9A-Z]{10}$/);
    ok(['card', 'new', '--out', card]);

    const out = ok(['counter', 'issue', ...desk, '--resident', resident, '--card', card], { JPKI_SIGN_PIN: 'koteki2004', JPKI_AUTH_PIN: '4821' });
    expect(out).toMatch(/^receipt R-13103-\d{4}-000001 \(500 yen\)$/m);
    signSerial = /signing certificate\s+([0-9a-f]+)/.exec(out)![1]!;
    authSerial = /user-authentication certificate\s+([0-9a-f]+)/.exec(out)![1]!;

    await withCard(data, card, async (client) => {
      await client.verifyPin('sign', 'KOTEKI2004');
      const cert = new X509Certificate((await client.readCertificate('sign'))!);
      const text = Buffer.from('電子申請書');
      const signature = await client.sign('sign', digestInfoOf('sha256', text));
      expect(verify('sha256', text, cert.publicKey, signature)).toBe(true);
      expect(cert.serialNumber.toLowerCase().replace(/^0+/, '')).toBe(signSerial);
      expect(cert.subject).toContain('L=Minato-ku');
    });
    const shown = JSON.parse(ok(['register', 'show', '--resident', resident, '--json'])) as { certificates: { serial: string; revokedAt: string | null }[] };
    expect(shown.certificates.map((c) => c.serial).sort()).toEqual([signSerial, authSerial].sort());
  });

  it('refuses with a clear message and a non-zero exit: wrong password, another municipality, no secret given', () => {
    const wrong = run(['counter', 'revoke', ...desk, '--resident', resident, '--reason', 'lost'], { JPKI_OPERATOR_PASSWORD: 'not-the-password' });
    expect(wrong.status).toBe(77);
    expect(wrong.stderr).toMatch(/unknown operator or wrong password.*\[COUNTER_LOGIN_FAILED\]/);
    ok(['operator', 'add', '--municipality', '27128', '--name', 'osaka'], { JPKI_OPERATOR_PASSWORD: 'osaka-pass-22' });
    const foreign = run(['counter', 'revoke', '--operator', 'osaka', '--id-type', 'passport', '--id-number', 'X1', '--resident', resident, '--reason', 'lost'], { JPKI_OPERATOR_PASSWORD: 'osaka-pass-22' });
    expect(foreign.status).toBe(77);
    expect(foreign.stderr).toContain('[COUNTER_OUT_OF_SCOPE]');
    expect(foreign.stderr).not.toMatch(/\n\s+at /);
    const noPin = jpki(['--data', data, '--db', db, 'counter', 'issue', ...desk, '--resident', resident, '--card', card], { env: { JPKI_OPERATOR_PASSWORD: 'minato-pass-1', JPKI_SIGN_PIN: '', JPKI_AUTH_PIN: '' }, input: '' });
    expect(noPin.status).not.toBe(0);
    expect(noPin.stderr).toContain('JPKI_SIGN_PIN');
  });

  it('a move revokes the signing certificate, which the next CRL lists; the authentication certificate stays valid', () => {
    const moved = ok(['register', 'move', '--resident', resident, '--address', '東京都港区芝公園4丁目']);
    expect(moved).toContain(`revoked sign certificate ${signSerial} of pref-13 (affiliationChanged)`);
    expect(moved).not.toContain(authSerial);
    const crl = join(dir, 'pref-13.crl.pem');
    ok(['ca', 'crl', '--ca', 'pref-13', '--out', crl, '--pem']);
    const text = openssl(['crl', '-in', crl, '-noout', '-text']).out;
    expect(text).toContain(`Serial Number: ${signSerial.toUpperCase()}`);
    expect(text).toContain('Affiliation Changed');
    expect(text.toUpperCase()).not.toContain(authSerial.toUpperCase());

    const exported = join(dir, 'export');
    ok(['ca', 'export', exported]);
    const ca = join(exported, 'pref-13.pem');
    // The certificates as the card holds them (the signing one after the signing password).
    const file = (name: string, der: Buffer) => {
      const p = join(dir, name);
      writeFileSync(p, `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/(.{64})/g, '$1\n')}\n-----END CERTIFICATE-----\n`);
      return p;
    };
    return withCard(data, card, async (client) => {
      const auth = file('auth.pem', (await client.readCertificate('auth'))!);
      await client.verifyPin('sign', 'KOTEKI2004');
      const sign = file('sign.pem', (await client.readCertificate('sign'))!);
      const revoked = openssl(['verify', '-crl_check', '-CAfile', ca, '-CRLfile', crl, sign]);
      expect(revoked.status).not.toBe(0);
      expect(revoked.out).toContain('certificate revoked');
      const good = openssl(['verify', '-crl_check', '-CAfile', ca, '-CRLfile', crl, auth]);
      expect(good.out).toContain(': OK');
      expect(good.status).toBe(0);
    });
  });

  it('five wrong signing passwords lock the card; `counter unlock` restores it with a new one; `counter pin-reset` sets a forgotten PIN', async () => {
    // A new signing certificate after the move (it supersedes what is left).
    ok(['counter', 'issue', ...desk, '--resident', resident, '--card', card], { JPKI_SIGN_PIN: 'KOTEKI2004', JPKI_AUTH_PIN: '4821' });
    await withCard(data, card, async (client) => {
      for (let i = 0; i < 4; i++) expect(await client.verifyPin('sign', 'WRONG0001').catch((e: unknown) => e)).toBeInstanceOf(PinIncorrectError);
      expect(await client.verifyPin('sign', 'WRONG0001').catch((e: unknown) => e)).toBeInstanceOf(PinBlockedError);
      expect(await client.verifyPin('sign', 'KOTEKI2004').catch((e: unknown) => e)).toBeInstanceOf(PinBlockedError);
    });
    const unlocked = ok(['counter', 'unlock', ...desk, '--resident', resident, '--card', card, '--pin', 'sign'], { JPKI_SIGN_PIN: 'UNLOCK77' });
    expect(unlocked).toMatch(/^notice N-13103-\d{4}-\d{6}$/m);
    expect(unlocked).toContain('5 of 5 tries');
    await withCard(data, card, async (client) => {
      await client.verifyPin('sign', 'UNLOCK77');
      expect((await client.sign('sign', digestInfoOf('sha256', Buffer.from('x')))).length).toBe(256);
    });
    // The same card through a device installed at the counter.
    expect(ok(['counter', 'device', 'add', '--municipality', '13103', '--name', 'desk 1', '--uri', `file:${card}`])).toContain('installed device 13103-1');
    const reset = ok(['counter', 'pin-reset', ...desk, '--resident', resident, '--device', '13103-1', '--pin', 'auth'], { JPKI_AUTH_PIN: '3579' });
    expect(reset).toMatch(/^notice N-13103-\d{4}-\d{6}$/m);
    await withCard(data, card, (client) => client.verifyPin('auth', '3579'));
    const notLocked = run(['counter', 'unlock', ...desk, '--resident', resident, '--card', card, '--pin', 'auth'], { JPKI_AUTH_PIN: '3580' });
    expect(notLocked.status).toBe(75);
    expect(notLocked.stderr).toContain('[COUNTER_PIN_NOT_LOCKED]');
  });

  it('counter revoke prints the notice of acceptance; the ledger lists the day', () => {
    const out = ok(['counter', 'revoke', ...desk, '--resident', resident, '--reason', 'lost', '--card-taken-back']);
    expect(out).toMatch(/^notice N-13103-\d{4}-\d{6}$/m);
    expect(out).toContain('(keyCompromise)');
    const number = /^notice (\S+)$/m.exec(out)![1]!;
    expect(JSON.parse(ok(['counter', 'notice', number, '--operator', 'sato']))).toMatchObject({ number, type: 'notice', content: { reason: 'lost', cardTakenBack: true } });
    const ledger = JSON.parse(ok(['counter', 'ledger', '--operator', 'sato', '--json'])) as { entries: { kind: string }[]; totals: { fees: number } };
    expect(ledger.entries.map((e) => e.kind)).toEqual(['issuance', 'issuance', 'pin-unlock', 'pin-reset', 'revocation']);
    expect(ledger.totals.fees).toBe(1000);
  });

  it('register import enters a whole file, or nothing when a line is bad', () => {
    const good = join(dir, 'good.csv');
    writeFileSync(good, 'name,birth,sex,address,municipality\n認証 花子,1985-06-20,2,東京都清瀬市中清戸5丁目,13221\n大阪 太郎,1989-01-08,1,大阪府大阪市中央区大手前2丁目,27128\n');
    expect(ok(['register', 'import', good])).toContain('imported 2 residents');
    const bad = join(dir, 'bad.csv');
    writeFileSync(bad, 'name,birth,sex,address,municipality\n個人 一,1990-01-01,1,東京都港区芝1丁目,13103\n個人 二,1990-01-01,1,東京都新宿区西新宿2丁目,13103\n');
    const r = run(['register', 'import', bad]);
    expect(r.status).toBe(65);
    expect(r.stderr).toContain('line 3');
    expect(r.stderr).toContain('[REGISTER_IMPORT_INVALID]');
    expect(JSON.parse(ok(['register', 'list', '--search', '個人', '--json']))).toEqual([]);
  });
});

describe('jpki serve seeds the demo register on an empty data directory', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'jpki-demo-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the demo operators and password; the guide\u2019s resident is first; --no-demo seeds nothing', async () => {
    const served = await startJpki(['--data', join(dir, 'demo'), 'serve', '--port', '0', '--key-algorithm', 'p256'], /jpki listening on/);
    try {
      const out = served.output();
      expect(out).toContain('demo password: demo-counter-2004');
      expect(out).toMatch(/counter terminal: http:\/\/127\.0\.0\.1:\d+\/counter/);
      expect(out).toContain('first resident: 公的\u3000一郎');
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(out)![1];
      const login = await fetch(`http://127.0.0.1:${port}/api/counter/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'minato-clerk', password: 'demo-counter-2004', session: 'bearer' }),
      });
      expect(login.status).toBe(200);
      const { token } = (await login.json()) as { token: string };
      const found = (await (await fetch(`http://127.0.0.1:${port}/api/counter/residents`, { headers: { authorization: `Bearer ${token}` } })).json()) as {
        residents: { name: string; dateOfBirth: string; sex: string; address: string }[];
      };
      expect(found.residents[0]).toMatchObject({ name: '公的\u3000一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' });
      const device = (await (await fetch(`http://127.0.0.1:${port}/api/counter/devices/13103-1`, { headers: { authorization: `Bearer ${token}` } })).json()) as { cardPresent: boolean; blank: boolean };
      expect(device).toMatchObject({ cardPresent: true, blank: true });
    } finally {
      await served.stop();
    }

    const bare = await startJpki(['--data', join(dir, 'bare'), 'serve', '--port', '0', '--key-algorithm', 'p256', '--no-demo'], /jpki listening on/);
    try {
      expect(bare.output()).not.toContain('seeded the demo register');
      const port = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(bare.output())![1];
      const login = await fetch(`http://127.0.0.1:${port}/api/counter/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'minato-clerk', password: 'demo-counter-2004' }),
      });
      expect(login.status).toBe(401);
    } finally {
      await bare.stop();
    }
  });
});
