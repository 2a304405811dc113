import { CERTIFICATES, type CertificateFile, type KeyName, type PinName } from '../card/index.js';
import type { Clock } from '../common/clock.js';
import { JpkiError } from '../common/errors.js';
import { signDetached } from '../pki/cms-sign.js';
import { JpkiClient, openInProcessReader, PcscReader, type PinStatus, type Reader } from '../reader/index.js';
import { ClientError, clientErrorOf, pinLocked } from './errors.js';

/**
 * Where the resident's card is: a card image in an in-process reader (`--card FILE`, which needs the data
 * directory that made it), or a card in a PC/SC reader through pcscd (`--reader NAME`, any real JPKI card
 * too). Everything above talks to the card through the Reader interface only.
 */
export type CardSource = { type: 'image'; path: string; dataDir: string } | { type: 'pcsc'; readerName: string; timeoutMs?: number };

export function describeSource(s: CardSource): string {
  return s.type === 'image' ? `card image ${s.path}` : `PC/SC reader "${s.readerName}"`;
}

/** Opens the card and selects the JPKI application. Close the session when done (the card is reset). */
export async function openCardSession(source: CardSource): Promise<CardSession> {
  let reader: Reader;
  try {
    reader =
      source.type === 'image'
        ? await openInProcessReader(source.path, { dataDir: source.dataDir, lock: true })
        : await PcscReader.connect({ readerName: source.readerName, timeoutMs: source.timeoutMs ?? 5000 });
  } catch (e) {
    if (e instanceof JpkiError && (e.code === 'card.image-missing' || e.code.startsWith('reader.')))
      throw new ClientError('CARD_ABSENT', 'unavailable', `no card: ${describeSource(source)}: ${e.message}`, {}, e);
    throw e;
  }
  const session = new CardSession(reader);
  try {
    await session.client.selectAp();
  } catch (e) {
    await reader.close();
    throw e instanceof JpkiError && e.kind === 'not-found'
      ? new ClientError('CLIENT_NOT_A_JPKI_CARD', 'not-found', `the card in ${describeSource(source)} has no JPKI application`, {}, e)
      : clientErrorOf(e);
  }
  return session;
}

/** Runs `fn` on a fresh session and always closes it; card errors come out in the resident's words. */
export async function withCard<T>(source: CardSource, fn: (card: CardSession) => Promise<T>): Promise<T> {
  const card = await openCardSession(source);
  try {
    return await fn(card);
  } catch (e) {
    throw clientErrorOf(e);
  } finally {
    await card.close();
  }
}

export interface CardSignature {
  /** Detached CMS SignedData (DER). */
  signature: Buffer;
  /** The signer's certificate (DER). */
  certificate: Buffer;
}

/** One session with the resident's card: what the client software does with it. */
export class CardSession {
  readonly client: JpkiClient;
  /** PINs verified in this session (selecting the AP again would drop them). */
  private readonly verified = new Set<PinName>();

  constructor(readonly reader: Reader) {
    this.client = new JpkiClient(reader);
  }

  /**
   * A certificate from the card. The signing certificate is readable only after its password (card-protocol
   * §5.6), so `pin` is needed for 'sign'. No such certificate → CLIENT_NO_CERTIFICATE.
   */
  async certificate(file: CertificateFile, pin?: string): Promise<Buffer> {
    const key = CERTIFICATES[file].readPin;
    if (key && !(pin === undefined && this.verified.has(key))) await this.verify(key, pin);
    const der = await this.client.readCertificate(file);
    if (!der || der.length === 0) throw new ClientError('CLIENT_NO_CERTIFICATE', 'not-found', `the card holds no ${CERTIFICATES[file].label}`, { file });
    return der;
  }

  /** The CA certificates on the card (EF 0002 and 000B), without duplicates. */
  async caCertificates(): Promise<{ file: CertificateFile; der: Buffer }[]> {
    const out: { file: CertificateFile; der: Buffer }[] = [];
    for (const file of ['sign-ca', 'auth-ca'] as const) {
      const der = await this.client.readCertificate(file);
      if (der && der.length && !out.some((o) => o.der.equals(der))) out.push({ file, der });
    }
    return out;
  }

  async pinStatus(pin: PinName): Promise<PinStatus> {
    return this.client.pinStatus(pin);
  }

  /** VERIFY; a locked PIN is refused before the card is asked (it would only say "blocked" again). */
  async verify(pin: PinName, value: string | undefined): Promise<void> {
    if (value === undefined || value === '') throw new ClientError('PIN_REQUIRED', 'unauthenticated', `the ${pin === 'sign' ? '署名用パスワード' : '利用者証明用暗証番号'} is needed`, { pin });
    const status = await this.client.pinStatus(pin);
    if (status.blocked) throw pinLocked(pin);
    await this.client.verifyPin(pin, value);
    this.verified.add(pin);
  }

  async changePin(pin: PinName, current: string, next: string): Promise<void> {
    const status = await this.client.pinStatus(pin);
    if (status.blocked) throw pinLocked(pin);
    await this.client.changePin(pin, current, next);
  }

  /**
   * Signs `content` with the card's key: a detached CMS SignedData with the certificate of that key
   * (CAdES-BES attributes, see pki/cms-sign.ts). The PIN is verified first; for 'sign' the certificate is
   * read after it (EF 0001 needs it).
   */
  async signDetached(key: KeyName, content: Uint8Array, pin: string, clock: Clock): Promise<CardSignature> {
    await this.verify(key, pin);
    const certificate = await this.certificate(key, undefined);
    const signature = await signDetached({
      content,
      certificate,
      signingTime: clock.now(),
      signDigestInfo: (digestInfo) => this.client.sign(key, digestInfo),
    });
    return { signature, certificate };
  }

  async close(): Promise<void> {
    await this.reader.close();
  }
}
