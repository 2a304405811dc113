/** PEM (RFC 7468) framing of DER: one label per object type, 64-character lines. */
export type PemLabel = 'CERTIFICATE' | 'X509 CRL' | 'CERTIFICATE REQUEST' | 'PUBLIC KEY' | 'PKCS7' | 'CMS';

export function toPem(der: Uint8Array, label: PemLabel): string {
  const b64 = Buffer.from(der).toString('base64');
  return `-----BEGIN ${label}-----\n${b64.replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END ${label}-----\n`;
}

/**
 * The DER of the first PEM block with one of `labels` (any label when none given), or undefined when the
 * text holds no such block.
 */
export function fromPem(text: string, labels: readonly string[] = []): Buffer | undefined {
  const re = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    if (labels.length && !labels.includes(m[1]!)) continue;
    const body = m[2]!.replace(/\s+/g, '');
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(body)) return undefined;
    return Buffer.from(body, 'base64');
  }
  return undefined;
}

/** DER as given, or decoded from PEM when the bytes look like PEM text. */
export function derFromPemOrDer(input: Uint8Array | string, labels: readonly string[] = []): Buffer | undefined {
  const buf = typeof input === 'string' ? Buffer.from(input, 'utf8') : Buffer.from(input);
  const head = buf.subarray(0, 64).toString('latin1');
  if (head.includes('-----BEGIN')) return fromPem(buf.toString('utf8'), labels);
  return buf;
}
