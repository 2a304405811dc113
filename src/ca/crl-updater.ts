import type { Clock } from '../common/clock.js';
import type { CrlRecord, StatusChange } from '../store/index.js';
import type { CrlStore } from './ports.js';
import { baseScopeOf, scopeKey, type CrlPublisher, type CrlScope } from './crl-publisher.js';

export interface CrlUpdaterOptions {
  /** How often the schedule is checked (default one minute). */
  intervalMs?: number;
  /** A complete CRL (full, ARL, partition) is regenerated when less than this remains (default 6 h of 24 h). */
  refreshCompleteBeforeMs?: number;
  /** A delta CRL is regenerated when less than this remains (default 15 min of 1 h). */
  refreshDeltaBeforeMs?: number;
  /** After a revocation, further ones are awaited this long before the deltas are regenerated (default 2 s). */
  debounceMs?: number;
}

/** What the updater reads to decide what is due: the CAs, their current CRLs, their partitions. */
export type CrlSchedule = Pick<CrlStore, 'authorities' | 'crls' | 'certificates'>;

/** The status-change feed, as the updater follows it. */
export interface StatusChangeFollower {
  subscribe(listener: (changes: readonly StatusChange[]) => void | Promise<void>): () => void;
  start(): Promise<void>;
}

export interface CrlUpdateReport {
  generated: { caId: string; scope: string; crlNumber: number; entries: number }[];
}

const ACTOR = 'crl-updater';
/** CAs whose CRLs one pass brings up to date at once. */
const CA_PASSES_AT_ONCE = 8;

/**
 * The CRL updater (Boulder's crl-updater): a job of its own that keeps every CA's CRLs current — the full
 * CRL, the ARL, one CRL per municipality partition and a delta on top of each complete one — regenerating
 * them before their nextUpdate, and regenerating the affected deltas shortly after revocations (debounced,
 * so a burst of revocations costs one delta). The CA only signs; this job decides when.
 */
export class CrlUpdater {
  private timer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  /** CA id → the partitions (null: the CA-wide delta only) with revocations not yet in a delta. */
  private dirty = new Map<string, Set<string | null>>();
  /** Passes run one after another. */
  private queue: Promise<unknown> = Promise.resolve();
  /** CA id + scope → the generation running now: one CRL is never generated twice at once (single-flight). */
  private readonly inFlight = new Map<string, Promise<CrlRecord>>();
  /** Partitions whose CRL and delta are known to be published (each is checked in the store once). */
  private readonly published = new Set<string>();

  constructor(
    private readonly deps: { store: CrlSchedule; clock: Clock; publisher: Pick<CrlPublisher, 'generate' | 'current'>; feed: StatusChangeFollower; onError?: (e: unknown) => void },
    private readonly options: CrlUpdaterOptions = {},
  ) {}

  /**
   * Starts the schedule. The first pass is awaited: whatever is missing (an installation made before the
   * updater published partitions, a CA added since) exists before the server opens its port.
   */
  async start(): Promise<void> {
    if (this.timer) return;
    this.unsubscribe = this.deps.feed.subscribe((changes) => this.revoked(changes));
    await this.deps.feed.start();
    this.timer = setInterval(() => void this.runOnce().catch((e) => this.deps.onError?.(e)), this.options.intervalMs ?? 60_000);
    this.timer.unref();
    await this.runOnce().catch((e) => this.deps.onError?.(e));
  }

  /**
   * Publishes the CRL of a municipality's partition and its delta unless they exist: called by the CA
   * before it signs the first certificate whose CRL distribution point and freshestCRL name them.
   */
  async ensurePartition(caId: string, municipality: string): Promise<void> {
    const key = `${caId}/${municipality}`;
    if (this.published.has(key)) return;
    for (const scope of [{ type: 'partition', municipality }, { type: 'partition-delta', municipality }] as CrlScope[])
      if (!(await this.deps.store.crls.describe(caId, scopeKey(scope)))) await this.generateOnce(caId, scope);
    this.published.add(key);
  }

  /** The first CRLs of a CA added after start-up (full, delta, ARL), before it signs anything that names them. */
  async publishCa(caId: string): Promise<void> {
    await this.serially(() => this.passForCa(caId));
  }

  /** One scheduled pass: every CRL that is missing, due or paired with a replaced base is generated. */
  runOnce(): Promise<CrlUpdateReport> {
    return this.serially(() => this.scheduledPass());
  }

  /** Regenerates the deltas that pending revocations affect now, without waiting for the debounce. */
  flushRevocations(): Promise<CrlUpdateReport> {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = undefined;
    const dirty = this.dirty;
    this.dirty = new Map();
    return this.serially(() => this.deltaPass(dirty));
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    if (this.debounce) clearTimeout(this.debounce);
    this.timer = this.debounce = undefined;
    this.unsubscribe?.();
    await this.queue.catch(() => undefined);
  }

  private revoked(changes: readonly StatusChange[]): void {
    for (const c of changes) {
      if (c.status !== 'revoked') continue;
      let set = this.dirty.get(c.caId);
      if (!set) this.dirty.set(c.caId, (set = new Set()));
      set.add(null);
      if (c.crlPartition) set.add(c.crlPartition);
    }
    if (this.dirty.size && !this.debounce) {
      this.debounce = setTimeout(() => void this.flushRevocations().catch((e) => this.deps.onError?.(e)), this.options.debounceMs ?? 2000);
      this.debounce.unref();
    }
  }

  private serially<T>(job: () => Promise<T>): Promise<T> {
    const p = this.queue.then(job, job);
    this.queue = p.catch(() => undefined);
    return p;
  }

  /** Generates one CRL, joining a generation of the same CRL that is already running (single-flight). */
  private generateOnce(caId: string, scope: CrlScope): Promise<CrlRecord> {
    const key = `${caId}/${scopeKey(scope)}`;
    let p = this.inFlight.get(key);
    if (!p) {
      p = this.deps.publisher.generate(caId, scope, ACTOR).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, p);
    }
    return p;
  }

  private async scheduledPass(): Promise<CrlUpdateReport> {
    // The CAs are independent, so several are brought up to date at once: their commits share the store's
    // group commit and their signatures the thread pool (the first start publishes 150 CRLs, ~3 commits
    // each). Bounded, because a complete CRL of a large CA is held in memory while it is made.
    const authorities = await this.deps.store.authorities.list();
    const perCa: CrlUpdateReport['generated'][] = [];
    let next = 0;
    const failures: unknown[] = [];
    const worker = async () => {
      while (next < authorities.length && failures.length === 0) {
        const i = next++;
        try {
          perCa[i] = await this.passForCa(authorities[i]!.id);
        } catch (e) {
          failures.push(e);
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CA_PASSES_AT_ONCE, authorities.length) }, worker));
    if (failures.length) throw failures[0];
    return { generated: perCa.flat() };
  }

  private async passForCa(caId: string): Promise<CrlUpdateReport['generated']> {
    const { store, clock } = this.deps;
    const generated: CrlUpdateReport['generated'] = [];
    const current = new Map((await store.crls.list(caId)).map((c) => [c.scope, c]));
    const scopes: CrlScope[] = [{ type: 'full' }, { type: 'arl' }, { type: 'delta' }];
    for (const m of await store.certificates.partitions(caId)) scopes.push({ type: 'partition', municipality: m }, { type: 'partition-delta', municipality: m });
    // complete CRLs first: a delta must be numbered after the base it goes with
    for (const scope of scopes.sort((x, y) => Number(!!baseScopeOf(x)) - Number(!!baseScopeOf(y)))) {
      const existing = current.get(scopeKey(scope));
      const base = baseScopeOf(scope);
      const baseNow = base ? current.get(scopeKey(base)) : undefined;
      const margin = base ? (this.options.refreshDeltaBeforeMs ?? 15 * 60_000) : (this.options.refreshCompleteBeforeMs ?? 6 * 3600_000);
      const due = !existing || existing.nextUpdate - clock.now().getTime() < margin || (baseNow !== undefined && existing.baseCrlNumber !== baseNow.crlNumber);
      if (!due) continue;
      const crl = await this.generateOnce(caId, scope);
      current.set(crl.scope, crl);
      generated.push(summary(crl));
    }
    return generated;
  }

  private async deltaPass(dirty: Map<string, Set<string | null>>): Promise<CrlUpdateReport> {
    const report: CrlUpdateReport = { generated: [] };
    for (const [caId, partitions] of dirty) {
      for (const m of partitions) {
        const scope: CrlScope = m === null ? { type: 'delta' } : { type: 'partition-delta', municipality: m };
        // current() makes the base first when there is none yet
        await this.deps.publisher.current(caId, baseScopeOf(scope)!, ACTOR);
        report.generated.push(summary(await this.generateOnce(caId, scope)));
      }
    }
    return report;
  }
}

function summary(crl: Omit<CrlRecord, 'der'>): CrlUpdateReport['generated'][number] {
  return { caId: crl.caId, scope: crl.scope, crlNumber: crl.crlNumber, entries: crl.entries };
}
