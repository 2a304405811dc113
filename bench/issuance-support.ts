/** What the issuance benchmark and its child processes share: the resident's facts and CSRs to issue for. */
import * as x509 from '@peculiar/x509';

export const FACTS = { name: '公的　一郎', dateOfBirth: '1977-11-07', sex: '1', address: '東京都港区虎ノ門5丁目' };

/** Distinct CSRs from a few keys: key generation is not what is measured. */
export async function makeCsrs(n: number): Promise<Uint8Array[]> {
  const keys = await Promise.all(
    Array.from({ length: 4 }, () => crypto.subtle.generateKey({ name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]) }, true, ['sign', 'verify'])),
  );
  const out: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=resident ${i}`, keys: keys[i % keys.length]!, signingAlgorithm: { name: 'RSASSA-PKCS1-v1_5' } });
    out.push(new Uint8Array(csr.rawData));
  }
  return out;
}
