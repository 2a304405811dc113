import type { Clock } from '../common/clock.js';
import type { OcspStorage } from './ports.js';
import type { ResponderCredentials } from './live-signer.js';
import type { Presigner } from './presigner.js';

export type PresignMode = 'on-demand' | 'all';

export interface OcspUpdaterOptions {
  /** 'all': sign every certificate's response ahead; 'on-demand' (default): sign on first request. */
  presign?: PresignMode;
  /** How often the job runs (default 10 minutes). */
  intervalMs?: number;
  /** How long status changes are kept for followers that were away (default 7 days). */
  changeRetentionMs?: number;
}

export interface OcspUpdaterReport {
  /** CAs whose responder certificate was checked (and renewed when fewer than 7 days remained). */
  responders: number;
  presigned: number;
  prunedChanges: number;
  prunedResponses: number;
}

/**
 * The OCSP side's background job, started by `jpki serve`: keeps every responder certificate in use
 * renewed before it expires, pre-signs when asked to, and prunes the change feed and expired responses.
 * Runs one pass at a time; a failing pass is retried at the next tick.
 */
export class OcspUpdater {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<OcspUpdaterReport | undefined> | undefined;

  constructor(
    private readonly deps: { storage: OcspStorage; clock: Clock; responders: ResponderCredentials; presigner: Presigner; onError?: (e: unknown) => void },
    private readonly options: OcspUpdaterOptions = {},
  ) {}

  start(): void {
    if (this.timer) return;
    void this.runOnce();
    this.timer = setInterval(() => void this.runOnce(), this.options.intervalMs ?? 10 * 60_000);
    this.timer.unref();
  }

  /** One pass (skipped when one is already running; resolves to its report). */
  runOnce(): Promise<OcspUpdaterReport | undefined> {
    this.running ??= this.pass()
      .catch((e) => {
        this.deps.onError?.(e);
        return undefined;
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<OcspUpdaterReport> {
    const { storage, clock, responders } = this.deps;
    let checked = 0;
    for (const a of await storage.issuers.list()) {
      // only CAs whose responder is in use: an unused CA gets one on its first request
      if (!(await storage.responderInUse(a.id))) continue;
      await responders.current(a.id);
      checked++;
    }
    const presigned = this.options.presign === 'all' ? (await this.deps.presigner.run()).signed : 0;
    const now = clock.now().getTime();
    const prunedChanges = await storage.pruneChanges(now - (this.options.changeRetentionMs ?? 7 * 24 * 3600_000));
    const prunedResponses = await storage.responses.pruneExpired(now);
    return { responders: checked, presigned, prunedChanges, prunedResponses };
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
