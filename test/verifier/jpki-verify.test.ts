import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/common/clock.js';
import { toPem } from '../../src/pki/pem.js';
import { buildApp } from '../../src/server/app.js';
import { JPKI_BRIDGE_ID, prefecturalCaId } from '../../src/ca/hierarchy.js';
import { jpkiAsync } from '../support/cli.js';
import { opensslCsr } from '../support/installation.js';
import { commandExists, needs } from '../support/system.js';
import { freePort, residentWithCard, SIGN_PIN, type ResidentCard } from '../client/support.js';
import { ICHIRO, issueOnto } from '../counter/support.js';
import type { VerificationReport } from '../../src/verifier/index.js';

/**
 * `jpki verify` against a running service (CRLs, ARLs and OCSP over HTTP from the URLs in the
 * certificates): a signature made with 公的 一郎's card verifies from the agency CA through the GPKI and
 * JPKI bridges; then each rejection the issue names, with its reason; and interop with `openssl cms` both
 * ways. The scenarios run in order: the later ones revoke what the earlier ones used.
 */
let r: ResidentCard;
let app: FastifyInstance;
let base: string;
const dir = () => r.t.dir;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  r = await residentWithCard({ clock: systemClock, publicUrl: base });
  await r.t.services.crlUpdater.runOnce();
  app = await buildApp(r.t.services);
  await app.listen({ port, host: '127.0.0.1' });
  r.t.services.ocsp.startUpdater({ presign: 'on-demand' });
}, 300_000);

afterAll(async () => {
  await app?.close();
  await r?.t.cleanup();
});

const cli = (args: string[], env: Record<string, string> = {}) => jpkiAsync(['--data', dir(), ...args], { env: { JPKI_SIGN_PIN: '', ...env } });

async function verify(args: string[]): Promise<{ status: number; report: VerificationReport; stderr: string }> {
  const out = await cli(['verify', ...args, '--json']);
  return { status: out.status, report: JSON.parse(out.stdout || 'null') as VerificationReport, stderr: out.stderr };
}

async function cardSign(card: string, name: string, text: string): Promise<{ file: string; p7s: string }> {
  const file = join(dir(), name);
  writeFileSync(file, text);
  const signed = await cli(['client', 'sign', file, '--out', `${file}.p7s`, '--card', card], { JPKI_SIGN_PIN: SIGN_PIN });
  expect(signed.stderr).toBe('');
  expect(signed.status).toBe(0);
  return { file, p7s: `${file}.p7s` };
}

/** A signing certificate from our CA for a key OpenSSL made (what another signing tool would hold). */
async function opensslSigner(prefecture: string, municipality: string, address: string, name: string): Promise<{ key: string; cert: string }> {
  const { key, csr } = opensslCsr(dir(), name);
  const issued = await r.t.services.ca.issue({
    prefecture,
    kind: 'sign',
    publicKey: { csr: readFileSync(csr) },
    facts: { name: ICHIRO.name, dateOfBirth: ICHIRO.dateOfBirth, sex: ICHIRO.sex, address },
    municipality,
    actor: 'test',
  });
  const cert = join(dir(), `${name}.pem`);
  writeFileSync(cert, toPem(issued.der, 'CERTIFICATE'));
  return { key, cert };
}

function opensslSign(signer: { key: string; cert: string }, content: string, out: string, detached = true): void {
  execFileSync('openssl', ['cms', '-sign', '-binary', '-md', 'sha256', '-in', content, '-signer', signer.cert, '-inkey', signer.key, '-outform', 'DER', '-out', out, ...(detached ? [] : ['-nodetach'])], { stdio: 'pipe' });
}

let application: { file: string; p7s: string };
let opensslTokyo: { key: string; cert: string };

describe('jpki verify', () => {
  it('a signature from 公的 一郎’s card is valid from the agency CA: the verdict and the four facts lead the text', async () => {
    application = await cardSign(r.card, '転出届.txt', '転出届\n氏名: 公的 一郎\n転出先: 大阪府大阪市中央区大手前2丁目\n');
    const text = await cli(['verify', application.p7s, '--content', application.file]);
    expect(text.stderr).toBe(''); // nothing on stderr when valid
    expect(text.status).toBe(0);
    const lines = text.stdout.split('\n');
    expect(lines[0], text.stdout).toMatch(/^VALID 有効: /);
    expect(lines[1]).toContain('公的\u3000一郎');
    expect(lines[2]).toContain('昭和52年11月7日');
    expect(lines[3]).toContain('男');
    expect(lines[4]).toContain('東京都港区虎ノ門5丁目');
    const { status, report } = await verify([application.p7s, '--content', application.file]);
    expect(status).toBe(0);
    expect(report).toMatchObject({ verdict: 'valid', reasons: [], mode: 'detached', signatureAlgorithm: 'RSA-PKCS1-v1_5/SHA256' });
    expect(report.signer!.facts).toMatchObject({ name: '公的\u3000一郎', dateOfBirth: '1977-11-07', dateOfBirthEra: '昭和52年11月7日', sex: '1', address: '東京都港区虎ノ門5丁目' });
    // agency CA → GPKI bridge → JPKI bridge → Tokyo governor → 公的 一郎, every certificate below the anchor checked
    expect(report.path.map((p) => p.subject.replace(/^.*CN=/, ''))).toEqual(['総務省認証局', '政府認証基盤ブリッジ認証局', '公的個人認証サービスブリッジ認証局', '東京都知事', expect.any(String)]);
    expect(report.path[0]!.revocation.source).toBe('anchor');
    for (const p of report.path.slice(1)) expect(p.revocation.status).toBe('good');
    expect(report.path[4]!.revocation.source).toBe('ocsp');
  });

  it('content altered: invalid, content-altered', async () => {
    const altered = join(dir(), '転出届-altered.txt');
    writeFileSync(altered, readFileSync(application.file, 'utf8').replace('公的 一郎', '公的 二郎'));
    const { status, report } = await verify([application.p7s, '--content', altered]);
    expect(status).toBe(1);
    expect(report.verdict).toBe('invalid');
    expect(report.reasons.map((x) => x.code)).toEqual(['content-altered']);
  });

  it('expired at a fixed later time (--at): invalid, expired', async () => {
    const { status, report } = await verify([application.p7s, '--content', application.file, '--at', '2036-01-01T00:00:00Z']);
    expect(status).toBe(1);
    expect(report.validatedAt).toBe('2036-01-01T00:00:00.000Z');
    expect(report.reasons.map((x) => x.code)).toContain('expired');
  });

  it('a signer whose CA is outside the bridge: invalid, no-path', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const caKey = join(dir(), 'rogue-ca.key');
    const caCert = join(dir(), 'rogue-ca.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '30', '-subj', '/C=JP/O=JPKI/OU=Prefectural Governor CA/L=Tokyo/CN=東京都知事', '-utf8'], { stdio: 'pipe' });
    const { key, csr } = opensslCsr(dir(), 'rogue-ee');
    const cert = join(dir(), 'rogue-ee.pem');
    execFileSync('openssl', ['x509', '-req', '-in', csr, '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', cert, '-days', '30'], { stdio: 'pipe' });
    const p7s = join(dir(), 'rogue.p7s');
    opensslSign({ key, cert }, application.file, p7s);
    const { status, report } = await verify([p7s, '--content', application.file]);
    expect(status).toBe(1);
    expect(report.reasons.map((x) => x.code)).toContain('no-path');
  });

  it('interop: a CMS made by openssl cms -sign with a key and certificate from our CA verifies (detached and enveloping)', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    opensslTokyo = await opensslSigner('13', '13103', '東京都港区虎ノ門5丁目', 'openssl-tokyo');
    const detached = join(dir(), 'openssl-detached.p7s');
    opensslSign(opensslTokyo, application.file, detached);
    const d = await verify([detached, '--content', application.file]);
    expect(d.report.reasons, JSON.stringify(d.report.reasons)).toEqual([]);
    expect(d.status).toBe(0);
    const enveloping = join(dir(), 'openssl-enveloping.p7s');
    opensslSign(opensslTokyo, application.file, enveloping, false);
    const e = await verify([enveloping]);
    expect(e.status).toBe(0);
    expect(e.report).toMatchObject({ verdict: 'valid', mode: 'enveloping' });
    expect(e.report.signer!.facts!.name).toBe('公的 一郎');
  });

  it('interop: what jpki client sign makes verifies with openssl cms -verify (exit 0), and fails when altered', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const ok = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', application.p7s, '-content', application.file, '-CAfile', r.caPem, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    expect(ok.stderr).toContain('Verification successful');
    expect(ok.status).toBe(0);
    const altered = spawnSync('openssl', ['cms', '-verify', '-binary', '-inform', 'DER', '-in', application.p7s, '-content', join(dir(), '転出届-altered.txt'), '-CAfile', r.caPem, '-purpose', 'any', '-out', '/dev/null'], { encoding: 'utf8' });
    expect(altered.status).not.toBe(0);
  });

  it('certificate revoked at the counter: invalid, revoked with date and reason', async () => {
    await r.t.services.ca.revoke({ serial: r.signSerial, caId: prefecturalCaId('13'), reason: 'keyCompromise', actor: 'operator:clerk-minato' });
    const { status, report } = await verify([application.p7s, '--content', application.file]);
    expect(status).toBe(1);
    const revoked = report.reasons.find((x) => x.code === 'revoked');
    expect(revoked).toMatchObject({ code: 'revoked', revocationReason: 'keyCompromise' });
    expect(new Date(revoked!.revokedAt!).getTime()).toBeGreaterThan(Date.now() - 120_000);
  });

  it('revoked by a move (a register event): invalid, revoked (affiliationChanged)', async () => {
    const resident = await r.t.addResident({ name: '公的 花子', sex: '2', dateOfBirth: '1980-02-29' });
    const card = await r.t.blankCard();
    const op = await r.t.services.counter.operators.authenticate('clerk-minato', 'correct-horse-42');
    await issueOnto(r.t, op, resident, card);
    const signed = await cardSign(card, '住民票の写し請求.txt', '住民票の写しの交付請求\n氏名: 公的 花子\n');
    expect((await verify([signed.p7s, '--content', signed.file])).status).toBe(0);
    const change = await r.t.services.register.move(resident.id, { address: '大阪府大阪市中央区大手前2丁目', municipality: '27128' }, 'test');
    await r.t.services.registerEvents.settle(change.eventId);
    const { status, report } = await verify([signed.p7s, '--content', signed.file]);
    expect(status).toBe(1);
    expect(report.reasons.find((x) => x.code === 'revoked')).toMatchObject({ revocationReason: 'affiliationChanged' });
  });

  it('the prefecture’s cross-certificate revoked in the bridge’s ARL: invalid, revoked (the Tokyo CA)', async () => {
    if (!opensslTokyo) return;
    const p7s = join(dir(), 'openssl-detached.p7s');
    const cross = (await r.t.services.ca.certificates({ caId: JPKI_BRIDGE_ID, kind: 'cross' })).find((c) => c.subjectCaId === prefecturalCaId('13'))!;
    await r.t.services.ca.revoke({ serial: cross.serial, caId: JPKI_BRIDGE_ID, reason: 'cACompromise', actor: 'test' });
    // the bridge issues its ARL again at once (the scheduled updater would only at the ARL's next refresh)
    await r.t.services.crls.generate(JPKI_BRIDGE_ID, { type: 'arl' }, 'test');
    const { status, report } = await verify([p7s, '--content', application.file]);
    expect(status, JSON.stringify(report.path, null, 1)).toBe(1);
    const revoked = report.reasons.find((x) => x.code === 'revoked')!;
    expect(revoked.subject).toContain('東京都知事');
    expect(revoked.revocationReason).toBe('cACompromise');
  });

  it('OCSP unreachable and no CRL: indeterminate (exit 2), never valid', async () => {
    if (!needs('openssl', commandExists('openssl'))) return;
    const osaka = await opensslSigner('27', '27128', '大阪府大阪市中央区大手前2丁目', 'openssl-osaka');
    const p7s = join(dir(), 'osaka.p7s');
    opensslSign(osaka, application.file, p7s);
    expect((await verify([p7s, '--content', application.file])).status).toBe(0);
    await app.close(); // the service is gone: no OCSP responder, no CRL
    const { status, report } = await verify([p7s, '--content', application.file, '--timeout', '2000']);
    expect(status).toBe(2);
    expect(report.verdict).toBe('indeterminate');
    expect(report.reasons.length).toBeGreaterThan(0);
    expect(report.reasons.every((x) => x.code === 'revocation-unavailable')).toBe(true);
  });
});

describe('jpki verify: bad input', () => {
  it('a file that is not a signature: invalid, malformed (one report, no stack trace)', async () => {
    const junk = join(dir(), 'junk.p7s');
    writeFileSync(junk, 'not a signature at all');
    const { status, report, stderr } = await verify([junk, '--content', junk]);
    expect(status).toBe(1);
    expect(report.reasons).toEqual([expect.objectContaining({ code: 'malformed' })]);
    expect(stderr).toMatch(/^jpki: not valid: malformed: .+ \[SIGNATURE_INVALID\]\n$/);
  });

  it('a missing file and a bad --at are refused with a message', async () => {
    const missing = await cli(['verify', join(dir(), 'nope.p7s')]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/^jpki: .+\[\w+\]\n$/);
    const at = await cli(['verify', application.p7s, '--at', 'yesterday']);
    expect(at.status).toBe(65);
    expect(at.stderr).toContain('VERIFY_OPTIONS_INVALID');
  });
});
