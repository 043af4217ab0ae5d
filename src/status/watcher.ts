/**
 * The live asset-status engine: one polling loop for the whole process, shared by every
 * subscription, fanning events out through a broker (in memory, or Redis for several
 * instances).
 *
 * How it works, in short:
 * - State is kept per credential (a "tenant", keyed by a hash of the credential): the assets and
 *   groups its subscribers watch, each with the last state delivered (`current`) and the last
 *   state published (`basis`, what polls are diffed against). Subscriptions only hold queues.
 * - `watch` reads what is not cached yet (`getAsset`; `getGroup` plus a full `listAssets` for a
 *   group), coalescing concurrent subscribers, and rejects before returning when a read fails,
 *   e.g. `UpstreamError` `NOT_FOUND` for an asset or group the credential cannot read.
 * - Every `intervalMs` the loop claims leases for the `PROCESSING` assets (and watched groups)
 *   with subscribers here, reads those that are due and held (batched per `planReads`), diffs
 *   the answers and publishes the changes on the credential's channel. Every instance, this one
 *   included, delivers what it receives on that channel to its own subscribers.
 * - An asset is read at most once per interval however many subscribers watch it, and never
 *   again once final or deleted; a group is swept for new assets (newest first) on its own
 *   adaptive interval. Intervals grow by `backoffFactor` for assets that stay `PROCESSING` longer
 *   than `backoffAfterMs`, double after a failed read, and reset on a change or a recovery.
 * - Failed reads never end the loop. When an asset's reads have failed for `staleAfterMs`, its
 *   subscribers get a `stale` event; `recovered` follows the next good read.
 * - When the broker reconnects after an outage (`PubSub.onReconnect`), events published meanwhile
 *   may be lost: the next iteration re-reads what this instance's subscribers watch (their
 *   groups, and each asset not final for them) and delivers what they missed here, each change
 *   still once (delivery diffs against what they were sent).
 *
 * Where the parts live: this file holds the public API, the loop and stopping; `state.ts` the
 * per-tenant entries and their lifetime; `subscribe.ts` what `watch` does; `leases.ts` the lease
 * protocol; `poll.ts` one tenant's poll; `delivery.ts` publishing, receiving and the resync;
 * `reads.ts` budgeted upstream reads; `diff.ts` the pure diffing and read planning.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import type { Asset, Upstream } from '../upstream/port.js';
import { mapLimit } from '../util/map-limit.js';
import type { StatusBroker } from './broker/broker.js';
import { createMemoryBroker } from './broker/memory.js';
import { resync } from './fanout.js';
import { StatusWatcherStoppedError, type StatusSubscription, type WatchTarget } from './events.js';
import { LeaseKeeper } from './leases.js';
import { pollTenant } from './poll.js';
import { DEFAULT_RATE_LIMITS, type RateLimits } from './rate-budget.js';
import {
  credentialKey,
  pollable,
  releaseAssetIfUnused,
  releaseGroupIfUnused,
  releaseTenantIfUnused,
  type AssetEntry,
  type Counters,
  type GroupEntry,
  type Settings,
  type Tenant,
  type Totals,
  type WatchSubscription,
  type WatcherCore,
} from './registry.js';
import {
  attach,
  ensureChannel,
  holdAsset,
  holdGroup,
  notFound,
  tenantFor,
  validate,
} from './subscribe.js';
import { encodeItems } from './bus-codec.js';
import { abortable, positive, SILENT_LOGGER, sleepUntilAborted, type Sleep } from '../util/time.js';

export interface StatusWatcherOptions {
  /** The only thing the watcher calls upstream. */
  upstream: Upstream;
  /**
   * The base poll interval, in milliseconds (`POLL_INTERVAL_MS`).
   * @default 2000
   */
  intervalMs?: number;
  /**
   * The longest an interval grows to, by back-off or after failures.
   * @default 30000
   */
  maxIntervalMs?: number;
  /**
   * How much an asset's interval grows after each unchanged read once it has been
   * `PROCESSING` for `backoffAfterMs` (and a group's, once no new asset appeared for as long).
   * @default 1.5
   */
  backoffFactor?: number;
  /** @default 5 × intervalMs */
  backoffAfterMs?: number;
  /**
   * How long an asset's reads may fail before its subscribers get a `stale` event.
   * @default 3 × intervalMs
   */
  staleAfterMs?: number;
  /**
   * Read assets of the same groups with one `listAssets` when that costs fewer calls (see
   * `planReads`); when false, every asset is read with `getAsset`.
   * @default true
   */
  batch?: boolean;
  /**
   * The watcher's own budget per credential and upstream action, in calls per second (per
   * instance). A read that finds no budget is put off to the next interval.
   * @default { GetAsset: 100, ListAssets: 10, GetAssetGroup: 10 }
   */
  rateLimits?: Partial<RateLimits>;
  /**
   * Upstream calls in flight per credential.
   * @default 8
   */
  concurrency?: number;
  /**
   * The most asset ids one `watch` accepts.
   * @default 100
   */
  maxAssetIds?: number;
  /**
   * The upstream `model` routing field for every call; the client's default when absent.
   */
  model?: string;
  /**
   * Pub/sub and leases. A broker passed in is shared and never closed by the watcher; without
   * one, the watcher uses (and closes) a private in-memory broker.
   * @default createMemoryBroker()
   */
  broker?: StatusBroker;
  /**
   * How long a poll lease lasts without renewal; leases are renewed every interval, so another
   * instance takes over a dead one's assets within about this long.
   * @default 3 × intervalMs
   */
  leaseTtlMs?: number;
  /**
   * This instance's lease owner id.
   * @default a random UUID
   */
  instanceId?: string;
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits `ms`, resolving early (never rejecting) when `signal` aborts.
   * @default a `setTimeout`
   */
  sleep?: Sleep;
  /** Warnings (failed reads, bus errors) go here; credentials never do. */
  logger?: Pick<Logger, 'warn' | 'error'>;
  /** Called after every loop iteration, e.g. for metrics. */
  onTick?: (info: TickInfo) => void;
}

export interface TickInfo {
  /** 1-based count of loop iterations. */
  tick: number;
  startedAt: number;
  durationMs: number;
  /** Upstream calls made by this iteration. */
  calls: { GetAsset: number; ListAssets: number };
  /** Calls of this iteration that failed (other than `NOT_FOUND`). */
  errors: number;
  /** Leases this instance holds after the iteration. */
  heldLeases: number;
}

export interface StatusWatcherStats {
  /** Open subscriptions. */
  subscribers: number;
  /** `watch` calls still reading their initial state. */
  pendingWatches: number;
  /** Credentials with state here. */
  credentials: number;
  /** Assets with state here (any status). */
  watchedAssets: number;
  /** Of those, the ones still `PROCESSING` (the ones polled). */
  pollingAssets: number;
  watchedGroups: number;
  heldLeases: number;
  /** Upstream calls made by the loop. */
  pollsTotal: number;
  /** Of those, the ones that failed (other than `NOT_FOUND`). */
  pollErrorsTotal: number;
  /** Upstream calls made by `watch` for initial state. */
  subscribeReadsTotal: number;
  /** Events pushed to subscriptions. */
  eventsTotal: number;
  ticksTotal: number;
}

export interface WatchOptions {
  /** Aborting it closes the subscription, or rejects a `watch` still reading. */
  signal?: AbortSignal;
}

export interface StopOptions {
  /**
   * Free this instance's poll leases now so another instance takes over at once. `false`
   * leaves them to expire, as a crashed instance would (for tests).
   * @default true
   */
  releaseLeases?: boolean;
}

export interface StatusWatcher {
  /**
   * Starts a subscription. Resolves once the initial state of every watched asset is known and
   * queued as the first events; rejects first when the target is invalid
   * (`InvalidWatchTargetError`), a read fails (`UpstreamError`, e.g. `NOT_FOUND` for an asset
   * or group this credential cannot read, `UNAUTHENTICATED`), the signal aborts (its reason), or
   * the watcher stops (`StatusWatcherStoppedError`).
   */
  watch(target: WatchTarget, options?: WatchOptions): Promise<StatusSubscription>;
  /**
   * Tells group watchers (on every instance) about an asset just created, so they see it
   * without waiting for a sweep. Never throws.
   */
  noteAssetAdded(credential: string, asset: Asset): void;
  stats(): StatusWatcherStats;
  /** Ends every subscription and the loop, and frees leases and channels. */
  stop(options?: StopOptions): Promise<void>;
}

export function createStatusWatcher(options: StatusWatcherOptions): StatusWatcher {
  return new Watcher(options);
}

const TENANT_CONCURRENCY = 16;

function resolveSettings(options: StatusWatcherOptions): Settings {
  const intervalMs = positive(options.intervalMs ?? 2000, 'intervalMs');
  return Object.freeze({
    intervalMs,
    maxIntervalMs: Math.max(intervalMs, positive(options.maxIntervalMs ?? 30_000, 'maxIntervalMs')),
    backoffFactor: Math.max(1, options.backoffFactor ?? 1.5),
    backoffAfterMs: options.backoffAfterMs ?? 5 * intervalMs,
    staleAfterMs: options.staleAfterMs ?? 3 * intervalMs,
    batch: options.batch ?? true,
    rateLimits: { ...DEFAULT_RATE_LIMITS, ...options.rateLimits } satisfies RateLimits,
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 8)),
    maxAssetIds: Math.max(1, Math.floor(options.maxAssetIds ?? 100)),
    model: options.model,
  });
}

/**
 * The watcher itself: the public API, the loop that drives every iteration (resync, leases,
 * polls), and stopping. The work is done by `subscribe.ts`, `leases.ts`, `poll.ts` and
 * `delivery.ts`, on the state declared in `state.ts`.
 */
class Watcher implements StatusWatcher, WatcherCore {
  readonly settings: Settings;
  readonly upstream: Upstream;
  readonly broker: StatusBroker;
  readonly leases: LeaseKeeper;
  readonly now: () => number;
  readonly sleep: Sleep;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  readonly tenants = new Map<string, Tenant>();
  readonly subscriptions = new Set<WatchSubscription>();
  readonly totals: Totals = {
    pollsTotal: 0,
    pollErrorsTotal: 0,
    subscribeReadsTotal: 0,
    eventsTotal: 0,
    ticksTotal: 0,
  };
  stopped = false;

  private readonly ownsBroker: boolean;
  private readonly onTick: ((info: TickInfo) => void) | undefined;
  private readonly stopController = new AbortController();
  private stopping: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;
  /** The broker reconnected: the next iteration re-reads what subscribers here watch. */
  private resyncDue = false;
  private readonly offReconnect: (() => void) | undefined;

  constructor(options: StatusWatcherOptions) {
    this.upstream = options.upstream;
    this.settings = resolveSettings(options);
    this.ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? createMemoryBroker({ now: options.now });
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? sleepUntilAborted;
    this.logger = options.logger ?? SILENT_LOGGER;
    this.leases = new LeaseKeeper(
      this.broker,
      options.instanceId ?? randomUUID(),
      options.leaseTtlMs ?? 3 * this.settings.intervalMs,
      this.logger,
    );
    this.onTick = options.onTick;
    // Every upstream call in flight listens to it (and stops listening when done): more than
    // Node's default of 10 at once is normal, not a leak.
    setMaxListeners(0, this.stopController.signal);
    this.offReconnect = this.broker.pubsub.onReconnect?.(() => {
      this.resyncDue = true;
      this.wakeLoop?.();
    });
  }

  get signal(): AbortSignal {
    return this.stopController.signal;
  }

  async watch(target: WatchTarget, options: WatchOptions = {}): Promise<StatusSubscription> {
    const { signal } = options;
    if (this.stopped) throw new StatusWatcherStoppedError();
    const { credential, assetIds, groupId } = validate(this, target);
    signal?.throwIfAborted();

    const tenant = tenantFor(this, credential);
    tenant.pending++;
    this.startLoop();
    const entries: AssetEntry[] = [];
    let group: GroupEntry | null = null;
    try {
      await abortable(ensureChannel(this, tenant), signal);
      if (groupId !== undefined) group = holdGroup(this, tenant, groupId);
      for (const id of assetIds) entries.push(holdAsset(this, tenant, id));
      const loads = [group?.load, ...entries.map((entry) => entry.load)].filter(
        (load): load is Promise<void> => load !== null && load !== undefined,
      );
      if (loads.length > 0) await abortable(Promise.all(loads), signal);
      if (this.stopped) throw new StatusWatcherStoppedError();
      signal?.throwIfAborted();
      for (const entry of entries) {
        if (entry.gone || entry.current === null) throw notFound(entry.id);
      }
      return attach(this, tenant, entries, group, signal);
    } finally {
      tenant.pending--;
      for (const entry of entries) {
        entry.holds--;
        releaseAssetIfUnused(this, entry);
      }
      if (group) {
        group.holds--;
        releaseGroupIfUnused(this, group);
      }
      releaseTenantIfUnused(this, tenant);
    }
  }

  noteAssetAdded(credential: string, asset: Asset): void {
    if (this.stopped || typeof credential !== 'string' || credential === '') return;
    const key = credentialKey(credential);
    // With a private broker there is no other instance: nobody else can be interested.
    if (this.ownsBroker && !this.tenants.has(key)) return;
    this.broker.pubsub
      .publish(key, encodeItems([{ kind: 'status', asset }]))
      .catch((error: unknown) =>
        this.logger.warn({ err: error, credential: key }, 'status: noteAssetAdded failed'),
      );
  }

  // ---------------------------------------------------------------------------------------------
  // The loop

  private startLoop(): void {
    if (this.loop || this.stopped) {
      this.wakeLoop?.();
      return;
    }
    this.loop = this.run().catch((error: unknown) =>
      this.logger.error({ err: error }, 'status: loop crashed'),
    );
  }

  private async run(): Promise<void> {
    const signal = this.stopController.signal;
    while (!this.stopped) {
      if (this.tenants.size === 0) {
        await new Promise<void>((resolve) => {
          this.wakeLoop = resolve;
        });
        this.wakeLoop = null;
        continue;
      }
      const startedAt = this.now();
      try {
        await this.tick(startedAt);
      } catch (error) {
        this.logger.error({ err: error }, 'status: poll failed');
      }
      if (this.stopped) break;
      await this.sleep(
        Math.max(0, startedAt + this.settings.intervalMs - this.now()),
        signal,
      ).catch(() => undefined);
    }
  }

  /** One iteration: resync if due, claim leases, poll every tenant, report. */
  private async tick(startedAt: number): Promise<void> {
    const tick = ++this.totals.ticksTotal;
    const counters: Counters = { GetAsset: 0, ListAssets: 0, errors: 0 };
    if (this.resyncDue) {
      this.resyncDue = false;
      await mapLimit([...this.tenants.values()], TENANT_CONCURRENCY, async (tenant) => {
        if (!(await resync(this, tenant, counters))) this.resyncDue = true;
      });
    }
    await this.leases.claim(this.tenants.values());
    if (!this.stopped) {
      await mapLimit([...this.tenants.values()], TENANT_CONCURRENCY, (tenant) =>
        pollTenant(this, tenant, startedAt, counters),
      );
    }
    this.onTick?.({
      tick,
      startedAt,
      durationMs: this.now() - startedAt,
      calls: { GetAsset: counters.GetAsset, ListAssets: counters.ListAssets },
      errors: counters.errors,
      heldLeases: this.countHeld(),
    });
  }

  private countHeld(): number {
    let held = 0;
    for (const tenant of this.tenants.values()) {
      for (const entry of tenant.assets.values()) if (entry.held) held++;
      for (const group of tenant.groups.values()) if (group.held) held++;
    }
    return held;
  }

  // ---------------------------------------------------------------------------------------------

  stats(): StatusWatcherStats {
    let pendingWatches = 0;
    let watchedAssets = 0;
    let pollingAssets = 0;
    let watchedGroups = 0;
    for (const tenant of this.tenants.values()) {
      pendingWatches += tenant.pending;
      watchedAssets += tenant.assets.size;
      watchedGroups += tenant.groups.size;
      for (const entry of tenant.assets.values()) if (pollable(entry)) pollingAssets++;
    }
    return {
      subscribers: this.subscriptions.size,
      pendingWatches,
      credentials: this.tenants.size,
      watchedAssets,
      pollingAssets,
      watchedGroups,
      heldLeases: this.countHeld(),
      pollsTotal: this.totals.pollsTotal,
      pollErrorsTotal: this.totals.pollErrorsTotal,
      subscribeReadsTotal: this.totals.subscribeReadsTotal,
      eventsTotal: this.totals.eventsTotal,
      ticksTotal: this.totals.ticksTotal,
    };
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.releaseLeases ?? true);
    return this.stopping;
  }

  private async doStop(releaseLeases: boolean): Promise<void> {
    this.leases.keep = !releaseLeases;
    // Leases still held, collected before closing subscriptions releases (or forgets) them.
    const held = this.leases.takeHeld(this.tenants.values());
    this.stopped = true;
    this.offReconnect?.();
    this.stopController.abort(new StatusWatcherStoppedError());
    this.wakeLoop?.();
    for (const subscription of [...this.subscriptions]) subscription.close();
    await this.loop;
    if (releaseLeases) await this.leases.releaseNow(held);
    else this.leases.forget();
    const channels = [...this.tenants.values()].map((tenant) => {
      tenant.released = true;
      return tenant.channel?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    });
    this.tenants.clear();
    await Promise.all(channels);
    if (this.ownsBroker) await this.broker.close();
  }
}
