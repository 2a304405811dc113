/**
 * The process the `kill -9` test kills (test/ca/crash.test.ts): opens the installation in argv[2] (database
 * argv[3]) and does the CA's work as fast as it can, forever — counter issuances onto fresh card images,
 * issuances straight through the CA, revocations, CRL generations — printing one line per finished step, so
 * the test can kill it at random moments in the middle of any of them.
 */
import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { FileCardStorage, SoftCard } from '../../../src/card/index.js';
import { openServices } from '../../../src/compose/services.js';
import { cardFabricationSecret } from '../../../src/reader/index.js';

const [dataDir, databaseUrl, seed] = process.argv.slice(2) as [string, string, string, string?];
const s = await openServices({ dataDir, databaseUrl, databaseUrlExplicit: true }, { config: { kms: { type: 'soft' } } });
const operator = await s.counter.operators.authenticate('crash-clerk', 'correct-horse-42');
const residents = (await s.register.search({ municipality: '13103', limit: 10 })).map((r) => r.id);
const fabrication = cardFabricationSecret(dataDir, { create: false });
const authKey = (await import('node:crypto')).generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'der' });
const say = (line: string) => process.stdout.write(`${line}\n`);

/**
 * Besides the test's kills at random moments, a round may name the most dangerous point to die at (argv[5]):
 * right after a reservation committed, right after a certificate was signed and recorded (before the card
 * is written or the file), right before a confirmation, right after a CRL was signed (before it is stored).
 * The process then kills itself (SIGKILL: no clean-up of any kind) the first time it gets there.
 */
const crashAt = process.argv[5] ?? 'none';
const die = (point: string) => {
  if (point === crashAt) {
    process.stdout.write(`dying at ${point}\n`);
    process.kill(process.pid, 'SIGKILL');
  }
};
const ca = s.ca as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const [method, before, after] of [
  ['sign', 'after-reserve', 'after-sign'],
  ['confirm', 'before-confirm', undefined],
] as const) {
  const original = ca[method]!.bind(s.ca);
  ca[method] = async (...a: unknown[]) => {
    die(before);
    const r = await original(...a);
    if (after) die(after);
    return r;
  };
}
const signerFor = ca.signerFor!.bind(s.ca);
ca.signerFor = async (...a: unknown[]) => {
  const signer = (await signerFor(...a)) as { algorithm: string; publicKey: Uint8Array; sign(d: Uint8Array): Promise<Uint8Array> };
  return { ...signer, sign: async (d: Uint8Array) => ((r) => (d.length > 2000 && die('crl-signed'), r))(await signer.sign(d)) };
};
say('ready');

let n = 0;
const key = () => `crash-${seed}-${n}-${randomUUID()}`;
for (;;) {
  n++;
  const step = n % 4;
  if (step === 0 || step === 2) {
    // a whole counter issuance onto a new card
    const path = join(dataDir, 'cards', `${seed}-${n}.card`);
    const storage = await FileCardStorage.open(path, { lock: true });
    const card = await SoftCard.fabricate(storage, { fabricationSecret: fabrication, issuerKey: (id) => s.cardIssuer.cardKey(id) });
    await card.close();
    await storage.close();
    const residentId = residents[n % residents.length]!;
    const r = await s.register.get(residentId);
    const form = { name: r.name, dateOfBirth: r.dateOfBirth, address: r.address };
    const app = (await s.counter.issuance.open(operator, { residentId, form }, key())).result;
    await s.counter.issuance.identity(operator, app.number, { type: 'passport', number: 'TK1234567' }, key());
    await s.counter.issuance.fee(operator, app.number, { amount: 500 }, key());
    const done = (await s.counter.issuance.device(operator, app.number, { device: { uri: `file:${path}` }, signPin: 'KOTEKI2004', authPin: '4821' }, key())).result;
    say(`counter ${done.certificates.sign.serial} ${done.certificates.auth.serial}`);
  } else if (step === 1) {
    const c = await s.ca.issue({ prefecture: '13', kind: 'auth', publicKey: { spki: authKey }, municipality: '13103', actor: 'crash' });
    say(`issued ${c.serial}`);
    // revoke an earlier live certificate of this CA now and then
    const live = (await s.ca.certificates({ caId: 'pref-13', kind: 'auth' })).filter((x) => x.revokedAt === null);
    if (live.length > 2) {
      const victim = live[n % live.length]!;
      await s.ca.revoke({ serial: victim.serial, caId: 'pref-13', reason: 'keyCompromise', actor: 'crash' }).catch(() => undefined);
      say(`revoked ${victim.serial}`);
    }
  } else {
    const crl = await s.crls.generate('pref-13', n % 8 === 3 ? { type: 'full' } : { type: 'partition', municipality: '13103' }, 'crash');
    say(`crl ${crl.crlNumber}`);
  }
}
