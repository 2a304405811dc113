import { encodeCrl, type CrlEntryColumns } from '../pki/crl-encoder.js';
import { authorityKeyIdentifier, crlNumber, deltaCrlIndicator, freshestCrl, issuingDistributionPoint } from '../pki/extensions.js';
import type { Clock } from '../common/clock.js';
import type { Signer } from '../pki/signer.js';
import type { CrlRecord, RevokedColumns, RevokedFilter } from '../store/index.js';
import type { CertificationAuthorities } from './certification-authorities.js';
import { DEFAULT_RESERVATION_MS } from './certification-authorities.js';
import { CaError } from './errors.js';
import { tbsHash } from './ledger.js';
import type { CrlStore } from './ports.js';
import type { PublicationUrls } from './urls.js';

/**
 * Which CRL: the CA's full CRL (everything it revoked), its ARL (the CA certificates it revoked — for the
 * bridge, the cross-certificates), one municipality's partition, the delta on top of the full CRL, or the
 * delta on top of one partition (a delta must have its base's scope — the same IDP — RFC 5280 §5.2.4).
 */
export type CrlScope =
  | { type: 'full' }
  | { type: 'arl' }
  | { type: 'partition'; municipality: string }
  | { type: 'delta' }
  | { type: 'partition-delta'; municipality: string };

/** How long a CRL is current: the real JPKI publishes daily; deltas come more often. */
export const CRL_VALIDITY_MS = 24 * 3600_000;
export const DELTA_CRL_VALIDITY_MS = 3600_000;
/**
 * A delta re-lists revocations from slightly before its base was made: a revocation committed while the
 * base was being generated is then never missed (listing an entry twice is harmless when combining).
 */
const DELTA_OVERLAP_MS = 60_000;

export function scopeKey(scope: CrlScope): string {
  if (scope.type === 'partition') return `m:${scope.municipality}`;
  if (scope.type === 'partition-delta') return `d:${scope.municipality}`;
  return scope.type;
}

export function parseScope(text: string): CrlScope {
  if (text === 'full' || text === 'arl' || text === 'delta') return { type: text };
  const m = /^(?:m:|partition:)?(\d{5,6})$/.exec(text);
  if (m) return { type: 'partition', municipality: m[1]! };
  const d = /^(?:d:|delta:)(\d{5,6})$/.exec(text);
  if (d) return { type: 'partition-delta', municipality: d[1]! };
  throw new CaError('CRL_SCOPE_UNKNOWN', `unknown CRL scope ${JSON.stringify(text)}: use full, arl, delta, a municipality code, or delta:<municipality>`);
}

function describeScope(scope: CrlScope): string {
  switch (scope.type) {
    case 'full':
      return 'full CRL';
    case 'arl':
      return 'ARL';
    case 'delta':
      return 'delta CRL';
    case 'partition':
      return `CRL for municipality ${scope.municipality}`;
    case 'partition-delta':
      return `delta CRL for municipality ${scope.municipality}`;
  }
}

/** The complete CRL a delta scope applies to (undefined for complete scopes). */
export function baseScopeOf(scope: CrlScope): CrlScope | undefined {
  if (scope.type === 'delta') return { type: 'full' };
  if (scope.type === 'partition-delta') return { type: 'partition', municipality: scope.municipality };
  return undefined;
}

export interface CrlPublisherDeps {
  store: CrlStore;
  clock: Clock;
  urls: PublicationUrls;
  authorities: Pick<CertificationAuthorities, 'get' | 'signerFor'>;
}

/**
 * Generates CRLs the way Boulder's crl-updater does: a separate job that streams the revoked entries from
 * the store, asks the CA key to sign, and stores the result with its audit record. The entries are never
 * held as a list: the store pages them out and the encoder writes each straight into DER.
 */
export class CrlPublisher {
  constructor(private readonly deps: CrlPublisherDeps) {}

  async generate(caId: string, scope: CrlScope, actor: string): Promise<CrlRecord> {
    const { store, clock, urls } = this.deps;
    const authority = await this.deps.authorities.get(caId);
    const signer = await this.deps.authorities.signerFor(authority);
    const thisUpdate = new Date(Math.floor(clock.now().getTime() / 1000) * 1000);
    const validity = baseScopeOf(scope) ? DELTA_CRL_VALIDITY_MS : CRL_VALIDITY_MS;
    const nextUpdate = new Date(thisUpdate.getTime() + validity);

    const filter: RevokedFilter = { caId, notExpiredAt: thisUpdate.getTime() };
    const extensions: Uint8Array[] = [authorityKeyIdentifier(authority.keyId)];
    let base: Omit<CrlRecord, 'der'> | undefined;
    switch (scope.type) {
      case 'full':
        extensions.push(freshestCrl([urls.deltaCrl(caId)]));
        break;
      case 'arl':
        filter.kinds = ['cross'];
        extensions.push(issuingDistributionPoint({ fullNameUris: [urls.arl(caId)], onlyContainsCACerts: true }));
        break;
      case 'partition':
        filter.partition = scope.municipality;
        extensions.push(partitionIdp(urls, caId, scope.municipality), freshestCrl([urls.partitionDeltaCrl(caId, scope.municipality)]));
        break;
      case 'delta':
        base = await store.crls.describe(caId, 'full');
        if (!base) throw new CaError('CRL_BASE_MISSING', `${caId} has no full CRL yet to base a delta CRL on`);
        filter.revokedSince = base.thisUpdate - DELTA_OVERLAP_MS;
        break;
      case 'partition-delta':
        base = await store.crls.describe(caId, scopeKey({ type: 'partition', municipality: scope.municipality }));
        if (!base) throw new CaError('CRL_BASE_MISSING', `${caId} has no CRL of partition ${scope.municipality} yet to base a delta CRL on`);
        filter.partition = scope.municipality;
        filter.revokedSince = base.thisUpdate - DELTA_OVERLAP_MS;
        // byte-identical to the base's IDP: OpenSSL pairs a delta with a base only when they match
        extensions.push(partitionIdp(urls, caId, scope.municipality));
        break;
    }
    // The number is taken first in its own transaction: numbers only ever grow, even when generation fails.
    const number = await store.transaction((tx) => tx.authorities.nextCrlNumber(caId));
    extensions.splice(1, 0, crlNumber(BigInt(number)));
    if (base) extensions.push(deltaCrlIndicator(BigInt(base.crlNumber)));

    // The count lets the encoder write the CRL in place, so a large CRL is held once in memory, not twice.
    // It is only a size hint: counted without the expiry test, it comes straight from the CRL index. The
    // first pages are read meanwhile (on PostgreSQL on another connection, in the read's own snapshot).
    const pages = store.certificates.revokedPages(filter);
    const [expectedEntries, first] = await Promise.all([store.certificates.countRevoked({ ...filter, notExpiredAt: undefined }), pages.next()]).catch(async (e: unknown) => {
      await pages.return(undefined);
      throw e;
    });
    const entries = crlEntryColumns(first, pages);
    // Record, then sign (docs/ca.md): the encoder hands the finished TBSCertList to this signer, which puts
    // its number, scope and hash in the CA's ledger before the CA key signs it.
    const recorded: { ledgerId?: number; tbsHash?: string; signature?: Uint8Array } = {};
    const ledgerSigner: Signer = {
      algorithm: signer.algorithm,
      publicKey: signer.publicKey,
      sign: async (tbs) => {
        const hash = tbsHash(tbs);
        const at = clock.now().getTime();
        recorded.tbsHash = hash;
        recorded.ledgerId = await store.transaction(async (tx) => {
          const [id] = await tx.ledger.reserve([
            { caId, kind: 'crl', serial: String(number), purpose: `crl:${scopeKey(scope)}`, subject: null, tbsHash: hash, actor, reservedAt: at, deadline: at + DEFAULT_RESERVATION_MS },
          ]);
          if (id === undefined) throw new CaError('LEDGER_MISMATCH', `CRL number ${number} of ${caId} was reserved twice`);
          return id;
        });
        recorded.signature = await signer.sign(tbs);
        return recorded.signature;
      },
    };
    let der: Buffer;
    try {
      der = await encodeCrl({ issuer: authority.subject, signer: ledgerSigner, thisUpdate, nextUpdate, extensions, entryColumns: entries, expectedEntries });
    } finally {
      await pages.return(undefined); // ends the store's read if the encoder stopped before the last page
    }
    const record: CrlRecord = {
      caId,
      scope: scopeKey(scope),
      crlNumber: number,
      baseCrlNumber: base?.crlNumber ?? null,
      thisUpdate: thisUpdate.getTime(),
      nextUpdate: nextUpdate.getTime(),
      entries: entries.count,
      der,
    };
    await store.transaction(async (tx) => {
      // Two generators racing: never replace a newer CRL with an older one (that CRL never leaves: abandoned).
      const current = await tx.crls.describe(caId, record.scope);
      const superseded = current !== undefined && current.crlNumber > record.crlNumber;
      await tx.ledger.advance([recorded.ledgerId!], ['reserved'], superseded ? 'abandoned' : 'confirmed', clock.now().getTime());
      if (superseded) return;
      await tx.crls.put(record);
      await tx.record({
        actor,
        action: 'crl.issue',
        target: `${caId}/${record.scope}`,
        details: { crlNumber: number, entries: entries.count, base: record.baseCrlNumber, tbsHash: recorded.tbsHash, signature: Buffer.from(recorded.signature!).toString('base64') },
      });
    });
    return record;
  }

  /**
   * The stored CRL of a scope, as the HTTP edge serves it: never generated here, so no request from outside
   * makes a CA sign (issue 10). A scope nothing was published for (a municipality without certificates, one
   * that does not exist) is not found; the CRL updater publishes every CRL a certificate names before the
   * certificate is signed.
   */
  async stored(caId: string, scope: CrlScope): Promise<CrlRecord> {
    return storedCrl(this.deps.store.crls, caId, scope);
  }

  /**
   * The current CRL of a scope, generating it first when there is none or it is past its nextUpdate. A delta
   * is also regenerated when its base was replaced since: it must be numbered after the base it goes with.
   */
  async current(caId: string, scope: CrlScope, actor = 'system'): Promise<CrlRecord> {
    const c = await this.ensureCurrent(caId, scope, actor);
    return c.der ? (c as CrlRecord) : ((await this.deps.store.crls.get(caId, scopeKey(scope))) ?? this.generate(caId, scope, actor));
  }

  /**
   * The current CRL of a scope as its metadata (the DER only when it had to be made now): generated when
   * missing, past its nextUpdate, or — for a delta — based on a replaced base. Only numbers and times are
   * read to decide, never a base CRL's tens of MiB.
   */
  private async ensureCurrent(caId: string, scope: CrlScope, actor: string): Promise<Omit<CrlRecord, 'der'> & { der?: Buffer }> {
    const baseScope = baseScopeOf(scope);
    const base = baseScope ? await this.ensureCurrent(caId, baseScope, actor) : undefined;
    const existing = await this.deps.store.crls.describe(caId, scopeKey(scope));
    if (existing && existing.nextUpdate > this.deps.clock.now().getTime() && (!base || existing.baseCrlNumber === base.crlNumber)) return existing;
    return this.generate(caId, scope, actor);
  }
}

/**
 * The store's pages of revoked entries (the first already read) as the encoder's entry columns, counted. The
 * two shapes are the same columns under the store's and the encoder's names: no entry is copied or turned
 * into an object on the way.
 */
function crlEntryColumns(first: IteratorResult<RevokedColumns>, rest: AsyncIterator<RevokedColumns>): AsyncIterable<CrlEntryColumns> & { count: number } {
  const out = {
    count: 0,
    async *[Symbol.asyncIterator](): AsyncGenerator<CrlEntryColumns> {
      for (let r = first; !r.done; r = await rest.next()) {
        const page = r.value;
        out.count += page.count;
        yield { count: page.count, serials: page.serials, serialEnds: page.serialEnds, revocationTimes: page.revokedAt, reasons: page.reasons };
      }
    },
  };
  return out;
}

/** The critical IDP of a partition CRL and of its delta: the partition's URL, user certificates only. */
function partitionIdp(urls: PublicationUrls, caId: string, municipality: string): Buffer {
  return issuingDistributionPoint({ fullNameUris: [urls.partitionCrl(caId, municipality)], onlyContainsUserCerts: true });
}

/**
 * The stored CRL of a scope, never generating one: what the HTTP edge serves — from the primary, or from a
 * read replica (`jpki serve --read-db`) through the replica's CRL table.
 */
export async function storedCrl(crls: Pick<CrlStore['crls'], 'get'>, caId: string, scope: CrlScope): Promise<CrlRecord> {
  const crl = await crls.get(caId, scopeKey(scope));
  if (!crl) throw new CaError('CRL_NOT_PUBLISHED', `${caId} publishes no ${describeScope(scope)}`, { caId, scope: scopeKey(scope) });
  return crl;
}
