import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateKeyPairSync, X509Certificate } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import * as x509 from '@peculiar/x509';
import { availableStoreKinds } from '../support/stores.js';
import { createTestInstallation, openssl, opensslCsr, type TestInstallation } from '../support/installation.js';
import { decodeResidentFactsSan } from '../../src/pki/resident-facts.js';
import { OID_EXT_SUBJECT_ALT_NAME, OID_JPKI_POLICY_SIGN, OID_GPKI_POLICY_SIGN, OID_JPKI_POLICY_AUTH } from '../../src/pki/oids.js';
import { JpkiError } from '../../src/common/errors.js';

const kinds = await availableStoreKinds();

const ICHIRO = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };

/** openssl -attime: one hour after the installation's fixed clock, while its CRLs are current. */
function attime(t: TestInstallation): string {
  return String(Math.floor(t.clock.now().getTime() / 1000) + 3600);
}

describe.each(kinds)('issuance and revocation on %s', (storeKind) => {
  let t: TestInstallation;
  let rootPem: string;

  beforeAll(async () => {
    t = await createTestInstallation({ storeKind });
    rootPem = t.pem('pref-13.pem', (await t.services.ca.get('pref-13')).certificate);
  });
  afterAll(async () => t?.cleanup());

  async function issueSign(facts = ICHIRO, extra: { municipality?: string } = {}) {
    const { csr } = opensslCsr(t.dir, `r${Math.random().toString(36).slice(2)}`);
    return t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: readFileSync(csr) }, facts, ...extra, actor: 'test' });
  }

  it('issues a signing certificate exactly per the profile, which OpenSSL shows and verifies', async () => {
    const c = await issueSign();
    const leafPem = t.pem('leaf.pem', c.der);
    const text = openssl(['x509', '-in', leafPem, '-noout', '-text']).out;
    // the six otherNames with their values (OpenSSL prints UTF8String otherNames as OID::value)
    expect(text).toContain('1.2.392.200149.8.5.5.1::公的　一郎');
    expect(text).toContain('1.2.392.200149.8.5.5.4::319771107');
    expect(text).toContain('1.2.392.200149.8.5.5.3::1');
    expect(text).toContain('1.2.392.200149.8.5.5.5::東京都港区虎ノ門5丁目');
    expect(text).toContain('1.2.392.200149.8.5.5.2::00000');
    expect(text).toContain(`1.2.392.200149.8.5.5.6::${'0'.repeat(11)}`);
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature, Non Repudiation/);
    expect(text).toContain(`Policy: ${OID_JPKI_POLICY_SIGN}`);
    expect(text).toMatch(/X509v3 Issuer Alternative Name:\s+DirName:\/?C ?= ?JP/);
    expect(text).toContain('X509v3 Subject Key Identifier');
    expect(text).toContain('X509v3 Authority Key Identifier');
    expect(text).toContain('http://127.0.0.1:8080/crl/pref-13.crl');
    expect(text).toContain('OCSP - URI:http://127.0.0.1:8080/ocsp');
    // the facts decode back to the input
    const cert = new x509.X509Certificate(new Uint8Array(c.der));
    const facts = decodeResidentFactsSan(new Uint8Array(cert.getExtension(OID_EXT_SUBJECT_ALT_NAME)!.value));
    expect(facts).toMatchObject({ ...ICHIRO, dateOfBirthCode: '319771107', nameSubstitute: '00000' });
    // 3 years, ending 23:59:59 JST of the day before the anniversary
    expect(c.notBefore.toISOString()).toBe('2026-04-01T01:00:00.000Z');
    expect(c.notAfter.toISOString()).toBe('2029-03-31T14:59:59.000Z');
    expect(cert.issuer).toBe(new x509.X509Certificate(new Uint8Array((await t.services.ca.get('pref-13')).certificate)).subject);
    expect(cert.serialNumber.length).toBeGreaterThanOrEqual(16 * 2);
    const v = openssl(['verify', '-attime', attime(t), '-CAfile', rootPem, leafPem]);
    expect(v.out).toContain(': OK');
    expect(v.status).toBe(0);
  });

  it('issues a user-authentication certificate with no personal facts', async () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const c = await t.services.ca.issue({
      prefecture: '13',
      kind: 'auth',
      publicKey: { spki: publicKey.export({ type: 'spki', format: 'der' }) },
      actor: 'test',
    });
    const cert = new X509Certificate(c.der);
    expect(cert.subjectAltName).toBeUndefined();
    const text = openssl(['x509', '-inform', 'DER', '-noout', '-text'], c.der).out;
    expect(text).toMatch(/X509v3 Key Usage: critical\s+Digital Signature\n/);
    expect(text).toContain(`Policy: ${OID_JPKI_POLICY_AUTH}`);
    expect(cert.subject).not.toContain('L=');
  });

  it('stores each issuance with its audit record', async () => {
    const before = (await t.services.store.audit.list({ action: 'certificate.issue' })).length;
    const c = await issueSign();
    const stored = await t.services.store.certificates.get('pref-13', c.serial);
    expect(stored?.der.equals(c.der)).toBe(true);
    const records = await t.services.store.audit.list({ action: 'certificate.issue', target: `pref-13/${c.serial}` });
    expect(records).toHaveLength(1);
    expect((await t.services.store.audit.list({ action: 'certificate.issue' })).length).toBe(before + 1);
    expect(await t.services.store.audit.verify()).toMatchObject({ ok: true });
  });

  describe('refuses bad requests precisely and stores nothing', () => {
    async function expectRefusal(attempt: () => Promise<unknown>, code: string, message: RegExp) {
      const certsBefore = (await t.services.store.certificates.list()).length;
      const auditBefore = (await t.services.store.audit.list()).length;
      const err = await attempt().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(JpkiError);
      expect((err as JpkiError).code).toBe(code);
      expect((err as JpkiError).message).toMatch(message);
      expect((await t.services.store.certificates.list()).length).toBe(certsBefore);
      expect((await t.services.store.audit.list()).length).toBe(auditBefore);
    }

    it('a CSR whose self-signature fails', async () => {
      const { csr } = opensslCsr(t.dir, 'tampered');
      const bytes = Buffer.from(spawnSync('openssl', ['req', '-in', csr, '-outform', 'DER']).stdout);
      expect(bytes[0]).toBe(0x30);
      bytes[bytes.length - 5]! ^= 0x55;
      await expectRefusal(() => t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: bytes }, facts: ICHIRO, actor: 'test' }), 'CSR_SIGNATURE_INVALID', /signature/i);
    });

    it('a key that is too small', async () => {
      const { csr } = opensslCsr(t.dir, 'small', ['-newkey', 'rsa:1024']);
      await expectRefusal(
        () => t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: readFileSync(csr) }, facts: ICHIRO, actor: 'test' }),
        'KEY_TOO_SMALL',
        /1024 bits.*2048/,
      );
    });

    it('an empty name, a too long address, a date of birth that does not exist', async () => {
      const { csr } = opensslCsr(t.dir, 'facts');
      const req = (facts: typeof ICHIRO) => t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: readFileSync(csr) }, facts, actor: 'test' });
      await expectRefusal(() => req({ ...ICHIRO, name: '' }), 'RESIDENT_FACTS_INVALID', /name is empty/);
      await expectRefusal(() => req({ ...ICHIRO, address: '東'.repeat(201) }), 'RESIDENT_FACTS_INVALID', /201 characters.*200/);
      await expectRefusal(() => req({ ...ICHIRO, dateOfBirth: '1977-02-30' }), 'RESIDENT_FACTS_INVALID', /not a real date/);
      await expectRefusal(() => req({ ...ICHIRO, sex: '3' }), 'RESIDENT_FACTS_INVALID', /sex/);
    });

    it('an unknown prefecture', async () => {
      const { csr } = opensslCsr(t.dir, 'pref');
      await expectRefusal(
        () => t.services.ca.issue({ prefecture: '48', kind: 'sign', publicKey: { csr: readFileSync(csr) }, facts: ICHIRO, actor: 'test' }),
        'PREFECTURE_UNKNOWN',
        /01 to 47/,
      );
    });

    it('garbage instead of a CSR', async () => {
      await expectRefusal(
        () => t.services.ca.issue({ prefecture: '13', kind: 'sign', publicKey: { csr: Buffer.from('hello') }, facts: ICHIRO, actor: 'test' }),
        'CSR_MALFORMED',
        /./,
      );
    });
  });

  it('revokes: the CRL lists the certificate with its reason and OpenSSL reports it revoked', async () => {
    const c = await issueSign();
    const leafPem = t.pem('revoked-leaf.pem', c.der);
    await t.services.ca.revoke({ serial: c.serial, reason: 'keyCompromise', actor: 'test' });
    await expect(t.services.ca.revoke({ serial: c.serial, reason: 'keyCompromise', actor: 'test' })).rejects.toMatchObject({ code: 'CERTIFICATE_ALREADY_REVOKED' });
    await expect(t.services.ca.revoke({ serial: 'abcdef', reason: 'keyCompromise', actor: 'test' })).rejects.toMatchObject({ code: 'CERTIFICATE_NOT_FOUND' });
    await expect(t.services.ca.revoke({ serial: c.serial, reason: 'bogus', actor: 'test' })).rejects.toMatchObject({ code: 'REVOCATION_REASON_UNKNOWN' });
    const first = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    const crl = await t.services.crls.generate('pref-13', { type: 'full' }, 'test');
    expect(crl.crlNumber).toBe(first.crlNumber + 1);
    const crlPem = t.pem('pref-13.crl.pem', crl.der, 'X509 CRL');
    const text = openssl(['crl', '-in', crlPem, '-noout', '-text']).out;
    expect(text).toContain(`Serial Number: ${c.serial.toUpperCase()}`);
    expect(text).toContain('Key Compromise');
    expect(text).toMatch(new RegExp(`X509v3 CRL Number:\\s+${crl.crlNumber}`));
    expect(openssl(['crl', '-in', crlPem, '-noout', '-CAfile', rootPem]).out).toContain('verify OK');
    const v = openssl(['verify', '-attime', attime(t), '-crl_check', '-CAfile', rootPem, '-CRLfile', crlPem, leafPem]);
    expect(v.out).toContain('certificate revoked');
    expect(v.status).not.toBe(0);
  });

  it('a path from the agency through both bridges validates with explicit policy, and fails once the bridge revokes the prefecture', async () => {
    const c = await issueSign();
    const leafPem = t.pem('bridge-leaf.pem', c.der);
    const crosses = await t.services.store.certificates.list({ kind: 'cross' });
    const cross = (issuer: string, subject: string) => crosses.find((x) => x.caId === issuer && x.subjectCaId === subject)!;
    const path = [cross('agency-mic', 'gpki-bridge'), cross('gpki-bridge', 'jpki-bridge'), cross('jpki-bridge', 'pref-13')];
    const untrusted = join(t.dir, 'path.pem');
    writeFileSync(untrusted, path.map((x) => readFileSync(t.pem(`x-${x.serial}.pem`, x.der), 'utf8')).join(''));
    const agencyPem = t.pem('agency.pem', (await t.services.ca.get('agency-mic')).certificate);
    const args = ['verify', '-attime', attime(t), '-CAfile', agencyPem, '-untrusted', untrusted, '-policy_check', '-explicit_policy', '-policy', OID_GPKI_POLICY_SIGN];
    const ok = openssl([...args, '-policy_print', leafPem]);
    expect(ok.out).toContain(': OK');
    expect(ok.status).toBe(0);
    // a policy the agency's domain never mapped to the signing policy does not validate
    expect(openssl([...args.slice(0, -1), '2.999.1.2.3', leafPem]).status).not.toBe(0);

    // The bridge revokes its cross-certificate to Tokyo; with every CA's CRL and ARL at hand the path fails.
    await t.services.ca.revoke({ serial: cross('jpki-bridge', 'pref-13').serial, caId: 'jpki-bridge', reason: 'cACompromise', actor: 'test' });
    const crlFiles: string[] = [];
    for (const id of ['agency-mic', 'gpki-bridge', 'jpki-bridge', 'pref-13']) {
      crlFiles.push(t.pem(`${id}.full.crl.pem`, (await t.services.crls.generate(id, { type: 'full' }, 'test')).der, 'X509 CRL'));
      crlFiles.push(t.pem(`${id}.arl.pem`, (await t.services.crls.generate(id, { type: 'arl' }, 'test')).der, 'X509 CRL'));
    }
    const arlText = openssl(['crl', '-in', crlFiles[5]!, '-noout', '-text']).out;
    expect(arlText).toContain('Only CA Certificates');
    expect(arlText).toContain(cross('jpki-bridge', 'pref-13').serial.toUpperCase());
    const crlBundle = join(t.dir, 'crls.pem');
    writeFileSync(crlBundle, crlFiles.map((f) => readFileSync(f, 'utf8')).join(''));
    const revoked = openssl([...args, '-crl_check_all', '-CRLfile', crlBundle, leafPem]);
    expect(revoked.out).toContain('certificate revoked');
    expect(revoked.status).not.toBe(0);
  });
});
