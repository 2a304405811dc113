import { X509Certificate } from 'node:crypto';
import { fingerprint } from '../pki/signed.js';
import type { AuthorityKind, AuthorityRecord } from '../store/index.js';

/**
 * A CA as people are shown it — `jpki ca list`, `GET /ca`, the usage guide handed over at the counter, the
 * portal: its names, subject, validity and the fingerprints residents compare (upper-case hex, colons).
 */
export interface AuthorityView {
  id: string;
  kind: AuthorityKind;
  prefecture: string | null;
  name: string;
  nameEn: string;
  subject: string;
  notBefore: string;
  notAfter: string;
  sha1: string;
  sha256: string;
}

export function authorityView(a: AuthorityRecord): AuthorityView {
  return {
    id: a.id,
    kind: a.kind,
    prefecture: a.prefecture,
    name: a.name,
    nameEn: a.nameEn,
    subject: new X509Certificate(a.certificate).subject.split('\n').join(', '),
    notBefore: new Date(a.notBefore).toISOString(),
    notAfter: new Date(a.notAfter).toISOString(),
    sha1: fingerprint(a.certificate, 'sha1'),
    sha256: fingerprint(a.certificate, 'sha256'),
  };
}
