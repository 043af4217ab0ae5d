/**
 * Upstream reads under a tenant's rate budget, and their accounting: the reads for initial
 * state (which wait for budget), paged lists for the loop (which stop when the budget runs out),
 * and what a failed call does (`Retry-After`, log, counters).
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, AssetQuery, CallOptions } from '../upstream/port.js';
import { StatusWatcherStoppedError } from './events.js';
import type { BudgetAction } from './rate-budget.js';
import {
  callOptions,
  PAGE_SIZE,
  type Counters,
  type Tenant,
  type WatcherCore,
} from './registry.js';

/** A read for initial state: waits for budget, aborts only when the watcher stops. */
export async function initialRead<T>(
  w: WatcherCore,
  tenant: Tenant,
  action: BudgetAction,
  call: (options: CallOptions) => Promise<T>,
): Promise<T> {
  const signal = w.signal;
  for (;;) {
    if (signal.aborted) throw new StatusWatcherStoppedError();
    const wait = tenant.budget.waitFor(action);
    if (wait === 0 && tenant.budget.tryTake(action)) break;
    await w.sleep(Math.max(1, wait), signal);
  }
  w.totals.subscribeReadsTotal++;
  try {
    return await call(callOptions(w, tenant));
  } catch (error) {
    noteError(w, tenant, action, error, false);
    throw error;
  }
}

/**
 * Reads `query` page by page while the budget allows. `complete` is true when every page up
 * to `total` was read.
 */
export async function listPages(
  w: WatcherCore,
  tenant: Tenant,
  options: CallOptions,
  query: AssetQuery,
  counters: Counters,
): Promise<{ items: Asset[]; complete: boolean; total: number }> {
  const items: Asset[] = [];
  let total = 0;
  for (let page = 1, pages = 1; page <= pages; page++) {
    if (!tenant.budget.tryTake('ListAssets')) return { items, complete: false, total };
    counters.ListAssets++;
    w.totals.pollsTotal++;
    const result = await w.upstream.listAssets(options, { ...query, page });
    items.push(...result.items);
    total = result.total;
    pages = Math.ceil(result.total / (query.pageSize || PAGE_SIZE));
    if (result.items.length === 0) break;
  }
  return { items, complete: true, total };
}

/**
 * Logs a failed call (`poll`: made by the loop), honours `Retry-After`, and returns the reason
 * subscribers see.
 */
export function noteError(
  w: WatcherCore,
  tenant: Tenant,
  action: BudgetAction,
  error: unknown,
  poll: boolean,
): string {
  if (poll) w.totals.pollErrorsTotal++;
  const code = isUpstreamError(error) ? error.code : 'INTERNAL';
  if (isUpstreamError(error) && error.code === 'RATE_LIMITED') {
    tenant.budget.pause(action, w.now() + (error.retryAfter ?? 1) * 1000);
  }
  if (poll) {
    w.logger.warn(
      {
        credential: tenant.key,
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
