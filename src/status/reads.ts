/**
 * Upstream reads for one tenant, under its rate budget, with their accounting: reads for
 * initial state (which wait for budget), budgeted calls and paged lists for the loop (which stop
 * when the budget runs out), and what a failed call does (`Retry-After`, log, counters). Which
 * budget action a read spends, and the page size, come from the `StatusSource`.
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, AssetQuery, CallOptions, Upstream } from '../upstream/port.js';
import type { StatusReads, StatusSource } from '../upstream/status-source.js';
import type { LoopLogger, Sleep } from '../util/time.js';
import { StatusWatcherStoppedError } from './events.js';
import type { RateBudget } from './rate-budget.js';
import type { Counters, Totals } from './settings.js';

/** The kinds of read: `getAsset`, `listAssets`, `getGroup`. */
export type ReadKind = keyof StatusReads<unknown>;

/** What every tenant's reader shares. */
export interface ReadDeps {
  readonly upstream: Upstream;
  readonly source: StatusSource;
  /** Aborts when the watcher stops; every call of the loop listens to it. */
  readonly signal: AbortSignal;
  readonly now: () => number;
  readonly sleep: Sleep;
  readonly logger: LoopLogger;
  readonly totals: Pick<Totals, 'pollsTotal' | 'pollErrorsTotal' | 'subscribeReadsTotal'>;
}

/** The part of a tenant a reader needs. */
export interface ReaderTenant {
  readonly key: string;
  readonly credential: string;
  readonly budget: RateBudget;
}

export class Reader {
  constructor(
    private readonly deps: ReadDeps,
    private readonly tenant: ReaderTenant,
  ) {}

  /** The options of every call made for this tenant. */
  get options(): CallOptions {
    return { credential: this.tenant.credential, signal: this.deps.signal };
  }

  get upstream(): Upstream {
    return this.deps.upstream;
  }

  /**
   * A read for initial state: waits in line for budget, then calls with `signal` (its own, never
   * the watcher's: thousands of reads may wait at once, and a signal shared by all of them would
   * cost each listener a walk over the others). Rejects with `signal`'s reason when nobody waits
   * for the read any more, `StatusWatcherStoppedError` when the watcher has stopped.
   */
  async initial<T>(
    read: ReadKind,
    call: (options: CallOptions) => Promise<T>,
    signal: AbortSignal,
  ): Promise<T> {
    const { sleep, totals } = this.deps;
    if (this.deps.signal.aborted) throw new StatusWatcherStoppedError();
    await this.tenant.budget.take(this.deps.source.actions[read], signal, sleep);
    if (this.deps.signal.aborted) throw new StatusWatcherStoppedError();
    totals.subscribeReadsTotal++;
    try {
      return await call({ ...this.options, signal });
    } catch (error) {
      if (!signal.aborted) this.noteError(read, error, false);
      throw error;
    }
  }

  /** Takes budget for one loop call and counts it; `false` when there is none now. */
  take(read: keyof Counters['calls'], counters: Counters): boolean {
    if (!this.tenant.budget.tryTake(this.deps.source.actions[read])) return false;
    counters.calls[read]++;
    this.deps.totals.pollsTotal++;
    return true;
  }

  /**
   * Reads `query` page by page while the budget allows. `complete` is true when every page up
   * to `total` was read.
   */
  async listPages(
    query: AssetQuery,
    counters: Counters,
  ): Promise<{ items: Asset[]; complete: boolean; total: number }> {
    const items: Asset[] = [];
    const pageSize = query.pageSize || this.deps.source.pageSize;
    let total = 0;
    for (let page = 1, pages = 1; page <= pages; page++) {
      if (!this.take('list', counters)) return { items, complete: false, total };
      const result = await this.deps.upstream.listAssets(this.options, { ...query, page });
      items.push(...result.items);
      total = result.total;
      pages = Math.ceil(result.total / pageSize);
      if (result.items.length === 0) break;
    }
    return { items, complete: true, total };
  }

  /**
   * Logs a failed call (`poll`: made by the loop), honours `Retry-After`, and returns the reason
   * subscribers see.
   */
  noteError(read: ReadKind, error: unknown, poll: boolean): string {
    const { totals, logger, now } = this.deps;
    const action = this.deps.source.actions[read];
    if (poll) totals.pollErrorsTotal++;
    const code = isUpstreamError(error) ? error.code : 'INTERNAL';
    if (isUpstreamError(error) && error.code === 'RATE_LIMITED') {
      this.tenant.budget.pause(action, now() + (error.retryAfter ?? 1) * 1000);
    }
    if (poll) {
      logger.warn(
        {
          credential: this.tenant.key,
          action,
          code,
          requestId: isUpstreamError(error) ? error.requestId : undefined,
          err: isUpstreamError(error) ? undefined : error,
        },
        'status: poll failed',
      );
    }
    return code;
  }
}
