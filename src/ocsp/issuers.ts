import type { Clock } from '../common/clock.js';
import { readCertificate } from '../pki/certificate-reader.js';
import { CERT_ID_HASHES, issuerHashes, type CertId } from './cert-id.js';

/** One CA the responder answers for, as a CertID names it. */
export interface Issuer {
  caId: string;
  /** Subject Name DER. */
  subject: Buffer;
  /** SubjectPublicKeyInfo DER of the CA's key. */
  spki: Buffer;
}

/** Where the issuers come from (the store's authorities): a narrow read-only port. */
export interface IssuerSource {
  list(): Promise<{ id: string; subject: Buffer; certificate: Buffer }[]>;
}

/**
 * A miss reloads the list at most this often: a CA created after start-up by another process (a promised
 * prefectural CA a first `jpki serve` makes while serving) is found within seconds, and a flood of unknown
 * issuers is one small query every few seconds, not a flood of queries.
 */
export const RELOAD_AFTER_MS = 5_000;

/**
 * The CAs by their CertID hashes, for every hash algorithm we accept: matching a request to its issuer is
 * one map lookup. Loaded from the store once, reloaded on a miss at most every `RELOAD_AFTER_MS`.
 */
export class IssuerIndex {
  private byHashes = new Map<string, Issuer>();
  private byId = new Map<string, Issuer>();
  private loaded: Promise<void> | undefined;
  private loadedAt = -Infinity;

  constructor(
    private readonly source: IssuerSource,
    private readonly clock: Clock,
  ) {}

  /** Loads the issuers once (later calls wait for the same load; a failed load is retried next time). */
  ready(): Promise<void> {
    return this.loaded ?? this.reload();
  }

  /** The issuer a CertID names, or undefined (an issuer that is not ours, or a hash we do not compute). */
  find(certId: CertId): Issuer | undefined {
    if (!certId.hash) return undefined;
    return this.byHashes.get(key(certId.hash, certId.issuerNameHash, certId.issuerKeyHash));
  }

  /** Like `find`, but reloads the list first when the issuer is unknown and the list is older than `RELOAD_AFTER_MS`. */
  async resolve(certId: CertId): Promise<Issuer | undefined> {
    await this.ready();
    const found = this.find(certId);
    if (found || !certId.hash || this.clock.now().getTime() - this.loadedAt < RELOAD_AFTER_MS) return found;
    await this.reload();
    return this.find(certId);
  }

  get(caId: string): Issuer | undefined {
    return this.byId.get(caId);
  }

  /** Loads the list again now (a CA was added in this process), not waiting for a miss a minute later. */
  refresh(): Promise<void> {
    return this.reload();
  }

  /** Every issuer loaded (call `ready()` first). */
  all(): Issuer[] {
    return [...this.byId.values()];
  }

  private reload(): Promise<void> {
    const p = this.load();
    this.loaded = p;
    p.catch(() => {
      if (this.loaded === p) this.loaded = undefined;
    });
    return p;
  }

  private async load(): Promise<void> {
    const byHashes = new Map<string, Issuer>();
    const byId = new Map<string, Issuer>();
    for (const a of await this.source.list()) {
      const issuer: Issuer = { caId: a.id, subject: a.subject, spki: Buffer.from(readCertificate(a.certificate).subjectPublicKeyInfo) };
      byId.set(a.id, issuer);
      for (const h of CERT_ID_HASHES) {
        const { nameHash, keyHash } = issuerHashes(issuer.subject, issuer.spki, h);
        byHashes.set(key(h, nameHash, keyHash), issuer);
      }
    }
    this.byHashes = byHashes;
    this.byId = byId;
    this.loadedAt = this.clock.now().getTime();
  }
}

function key(hash: string, nameHash: Uint8Array, keyHash: Uint8Array): string {
  return hash + Buffer.from(nameHash.buffer, nameHash.byteOffset, nameHash.length).toString('latin1') + Buffer.from(keyHash.buffer, keyHash.byteOffset, keyHash.length).toString('latin1');
}
