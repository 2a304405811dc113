/**
 * Issue 10, hole 5: `ca issue` certified facts the register refuses. The CA now checks the facts with the
 * register's own validator (pki/resident-facts.ts) before it reserves anything, and again as a lint on the
 * TBS; the register refuses exactly the same inputs.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { generateKeyPairSync } from 'node:crypto';
import { JpkiError } from '../../src/common/errors.js';
import { createTestInstallation, type TestInstallation } from '../support/installation.js';

const key = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ type: 'spki', format: 'der' });
const ICHIRO = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };

const cases: [string, Partial<typeof ICHIRO> & { municipality?: string }, RegExp][] = [
  ['a replacement character (U+FFFD) in the name', { name: '公的　\ufffd郎' }, /name contains U\+FFFD/],
  ['a right-to-left override in the name', { name: '公的　一郎\u202e' }, /name contains bidirectional control characters/],
  ['a bidi isolate in the address', { address: '東京都港区虎ノ門\u20665丁目' }, /address contains bidirectional control characters/],
  ['a date of birth in the future', { dateOfBirth: '2027-01-01' }, /2027-01-01 is in the future/],
  ['a date of birth before 1868', { dateOfBirth: '1867-12-31' }, /before 1868-01-01, the first day of the Meiji era/],
  ['an unknown municipality', { municipality: '99999' }, /no municipality with code "99999"/],
  ['an Osaka municipality under the Tokyo CA', { municipality: '27128', address: '大阪府大阪市中央区大手前2丁目' }, /27128 is in 大阪府, not in 東京都/],
  ['an Osaka address under the Tokyo CA', { address: '大阪府大阪市中央区大手前2丁目' }, /is not in 東京都, whose governor certifies it/],
  ['an address outside the municipality given', { municipality: '13103', address: '東京都清瀬市中清戸5丁目' }, /must begin with 東京都港区/],
];

describe('the CA certifies only facts the register would record (one validator)', () => {
  let t: TestInstallation;
  beforeAll(async () => {
    t = await createTestInstallation({ prefectures: ['13', '27'] });
  });
  afterAll(async () => t?.cleanup());

  it.each(cases)('ca issue refuses %s before anything is reserved or signed', async (_what, change, message) => {
    const { municipality, ...facts } = change;
    const ledger = await t.services.ca.ledgerCounts();
    const certificates = (await t.services.ca.certificates()).length;
    const e = await t.services.ca
      .issue({ prefecture: '13', kind: 'sign', publicKey: { spki: key }, facts: { ...ICHIRO, ...facts }, ...(municipality ? { municipality } : {}), actor: 'test' })
      .then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(JpkiError);
    expect((e as JpkiError).code).toBe('RESIDENT_FACTS_INVALID');
    expect((e as JpkiError).message).toMatch(message);
    expect(await t.services.ca.ledgerCounts()).toEqual(ledger);
    expect((await t.services.ca.certificates()).length).toBe(certificates);
  });

  // (an Osaka resident is a fine entry in the register: only a Tokyo CA certifying them is wrong)
  it.each(cases.filter(([what]) => !what.includes('under the Tokyo CA')))('the register refuses %s too, with the same words', async (_what, change, message) => {
    const input = { ...ICHIRO, municipality: '13103', ...change };
    const e = await t.services.register.add(input, 'test').then(() => undefined, (err: unknown) => err);
    expect(e).toBeInstanceOf(JpkiError);
    expect((e as JpkiError).message).toMatch(message);
  });

  it('an auth certificate under an unknown municipality is refused as well; good facts are certified', async () => {
    const e = await t.services.ca.issue({ prefecture: '13', kind: 'auth', publicKey: { spki: key }, municipality: '99999', actor: 'test' }).then(() => undefined, (err: JpkiError) => err);
    expect(e?.code).toBe('RESIDENT_FACTS_INVALID');
    const ok = await t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { spki: key }, facts: ICHIRO, municipality: '13103', actor: 'test' });
    expect(ok.crlPartition).toBe('13103');
  });
});
