/**
 * The live asset-status engine: one polling loop for the whole process, shared by every
 * subscription, fanning events out through a broker (in memory, or Redis for several
 * instances). This file composes the parts and runs the loop; it is imported by nothing else in
 * `status/`.
 *
 * How it works, in short:
 * - State is kept per credential (a "tenant", keyed by a hash of the credential) in the
 *   `Registry`: the assets and groups its subscribers watch, each with the last state delivered
 *   (`current`) and the last state published (`basis`, what polls are diffed against).
 *   Subscriptions only hold queues.
 * - `watch` reads what is not cached yet (`getAsset`; `getGroup` plus a full `listAssets` for a
 *   group), coalescing concurrent subscribers, and rejects before returning when a read fails,
 *   e.g. `UpstreamError` `NOT_FOUND` for an asset or group the credential cannot read.
 * - Every `intervalMs` the loop claims leases for the not-final assets (and watched groups) with
 *   subscribers here, reads those that are due and held (batched as the `StatusSource` says),
 *   diffs the answers and publishes the changes on the credential's channel. Every instance,
 *   this one included, delivers what it receives on that channel to its own subscribers.
 * - An asset is read at most once per interval however many subscribers watch it, and never
 *   again once final or deleted; a group is swept for new assets (newest first) on its own
 *   adaptive interval. Intervals grow by `backoffFactor` for assets that stay `PROCESSING` longer
 *   than `backoffAfterMs`, double after a failed read, and reset on a change or a recovery.
 * - Failed reads never end the loop. When an asset's reads have failed for `staleAfterMs`, its
 *   subscribers get a `stale` event; `recovered` follows the next good read.
 * - While the broker is unreachable, nothing is polled here: subscribers get `stale` events
 *   (`SERVICE_UNAVAILABLE`) after `staleAfterMs`, and `recovered` when it answers again
 *   (`outage.ts`); a new credential's `watch` rejects after `brokerTimeoutMs`.
 * - When the broker reconnects after an outage (`PubSub.onReconnect`), events published meanwhile
 *   may be lost: the next iteration re-reads what this instance's subscribers watch and delivers
 *   what they missed here, each change still once (delivery diffs against what they were sent).
 *
 * Reading order, which is the import order (no file imports one after it):
 * 1. `diff.ts`: pure diffing of reads (`events.ts` holds the event type it produces).
 * 2. `registry.ts`: tenants, entries and subscriptions; holds and releases; `onUnpolled`.
 * 3. `reads.ts` (budgeted upstream reads, as the `StatusSource` says), `leases.ts` (lease keys
 *    over the broker), `fanout.ts` (bus items → subscriber events), `publish.ts` (outbox → bus).
 * 4. `poll.ts` (one tenant's poll → an outbox), `subscribe.ts` (`watch`), `resync.ts` (after a
 *    broker reconnect), `outage.ts` (while the broker is unreachable).
 * 5. This file: composition, the loop, stats, stopping.
 * Vocabulary used throughout: `settings.ts`, `events.ts`, `queue.ts`, `rate-budget.ts`,
 * `bus-codec.ts`, `broker/`.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Asset, Upstream } from '../upstream/port.js';
import type { StatusSource } from '../upstream/status-source.js';
import { mapLimit } from '../util/map-limit.js';
import { secretHash } from '../util/secret-hash.js';
import { resolveLoopOptions, type LoopLogger, type Sleep } from '../util/time.js';
import type { StatusBroker } from './broker/broker.js';
import type { BusItem } from './bus-codec.js';
import { createMemoryBroker } from './broker/memory.js';
import { StatusWatcherStoppedError, type StatusSubscription, type WatchTarget } from './events.js';
import { Fanout } from './fanout.js';
import { LeaseKeeper } from './leases.js';
import { BrokerOutage } from './outage.js';
import { pollTenant, type PollDeps } from './poll.js';
import { publish, type Outbox, type PublishDeps } from './publish.js';
import { RateBudget } from './rate-budget.js';
import { Reader, type ReadDeps } from './reads.js';
import { pollable, Registry, type Tenant } from './registry.js';
import { resync, type ResyncDeps } from './resync.js';
import {
  resolveSettings,
  type Counters,
  type Settings,
  type StatusWatcherOptions,
  type TickInfo,
  type Totals,
} from './settings.js';
import { watch, type SubscribeDeps } from './subscribe.js';

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
  /**
   * Tells subscribers (on every instance) that an asset was just deleted through this gateway:
   * its `deleted` event goes to everyone who was shown it, final or not. Never throws.
   */
  noteAssetDeleted(credential: string, assetId: string): void;
  stats(): StatusWatcherStats;
  /** Ends every subscription and the loop, and frees leases and channels. */
  stop(options?: StopOptions): Promise<void>;
}

export function createStatusWatcher(options: StatusWatcherOptions): StatusWatcher {
  return new Watcher(options);
}

const TENANT_CONCURRENCY = 16;

/** Composition, the loop that drives every iteration (resync, leases, polls), and stopping. */
class Watcher implements StatusWatcher {
  private readonly settings: Settings;
  private readonly source: StatusSource;
  private readonly broker: StatusBroker;
  private readonly ownsBroker: boolean;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly logger: LoopLogger;
  private readonly onTick: ((info: TickInfo) => void) | undefined;
  private readonly totals: Totals = {
    pollsTotal: 0,
    pollErrorsTotal: 0,
    subscribeReadsTotal: 0,
    eventsTotal: 0,
    ticksTotal: 0,
  };

  private readonly registry: Registry;
  private readonly leases: LeaseKeeper;
  private readonly reader: (tenant: Tenant) => Reader;
  private readonly publishing: PublishDeps;
  private readonly subscribing: SubscribeDeps;
  private readonly polling: PollDeps;
  private readonly resyncing: ResyncDeps;
  private readonly outage: BrokerOutage;

  private stopped = false;
  private readonly stopController = new AbortController();
  private stopping: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;
  /** The broker reconnected: the next iteration re-reads what subscribers here watch. */
  private resyncDue = false;
  private readonly offReconnect: (() => void) | undefined;

  constructor(options: StatusWatcherOptions) {
    const upstream: Upstream = options.upstream;
    this.source = options.source;
    this.settings = resolveSettings(options);
    ({ now: this.now, sleep: this.sleep, logger: this.logger } = resolveLoopOptions(options));
    this.ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? createMemoryBroker({ now: options.now });
    this.onTick = options.onTick;
    const { settings, now, logger, totals } = this;

    this.leases = new LeaseKeeper(
      this.broker.leases,
      options.instanceId ?? randomUUID(),
      options.leaseTtlMs ?? 3 * settings.intervalMs,
      logger,
    );
    this.registry = new Registry({
      intervalMs: settings.intervalMs,
      now,
      newBudget: () => new RateBudget(settings.rateLimits, now),
      onUnpolled: (key) => this.leases.release(key),
      logger,
    });
    const readDeps: ReadDeps = {
      upstream,
      source: this.source,
      signal: this.stopController.signal,
      now,
      sleep: this.sleep,
      logger,
      totals,
    };
    this.reader = (tenant) => new Reader(readDeps, tenant);
    const fanout = new Fanout({ registry: this.registry, logger, totals });
    const stopped = () => this.stopped;
    this.publishing = { pubsub: this.broker.pubsub, logger };
    this.subscribing = {
      ...this.publishing,
      registry: this.registry,
      fanout,
      reader: this.reader,
      source: this.source,
      maxAssetIds: settings.maxAssetIds,
      maxWatchedAssets: settings.maxWatchedAssets,
      brokerTimeoutMs: settings.brokerTimeoutMs,
      stopped,
      wake: () => this.startLoop(),
    };
    this.polling = {
      registry: this.registry,
      source: this.source,
      settings,
      reader: this.reader,
      now,
    };
    this.outage = new BrokerOutage({
      registry: this.registry,
      fanout,
      now,
      staleAfterMs: settings.staleAfterMs,
    });
    this.resyncing = {
      source: this.source,
      fanout,
      reader: this.reader,
      concurrency: settings.concurrency,
      stopped,
    };

    // Every call of the loop listens to it (and stops listening when done): more than Node's
    // default of 10 at once is normal, not a leak. Initial reads have signals of their own.
    setMaxListeners(0, this.stopController.signal);
    this.offReconnect = this.broker.pubsub.onReconnect?.(() => {
      this.resyncDue = true;
      this.wakeLoop?.();
    });
  }

  watch(target: WatchTarget, options: WatchOptions = {}): Promise<StatusSubscription> {
    return watch(this.subscribing, target, options.signal);
  }

  noteAssetAdded(credential: string, asset: Asset): void {
    this.note(credential, { kind: 'status', asset });
  }

  noteAssetDeleted(credential: string, assetId: string): void {
    if (typeof assetId === 'string' && assetId !== '')
      this.note(credential, { kind: 'deleted', assetId });
  }

  /** Publishes what a client did through this gateway, for the credential's subscribers. */
  private note(credential: string, item: BusItem): void {
    if (this.stopped || typeof credential !== 'string' || credential === '') return;
    const key = secretHash(credential);
    // With a private broker there is no other instance: nobody else can be interested.
    if (this.ownsBroker && !this.registry.has(key)) return;
    void publish(this.publishing, key, { items: [item], reverts: [] });
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
      if (this.registry.size === 0) {
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

  /** One iteration: resync if due, claim leases, poll every tenant and publish, report. */
  private async tick(startedAt: number): Promise<void> {
    const tick = ++this.totals.ticksTotal;
    const counters: Counters = { calls: { asset: 0, list: 0 }, errors: 0 };
    if (this.resyncDue) {
      this.resyncDue = false;
      await mapLimit(this.registry.tenants(), TENANT_CONCURRENCY, async (tenant) => {
        if (!(await resync(this.resyncing, tenant, counters))) this.resyncDue = true;
      });
    }
    const targets = this.registry.leaseTargets();
    const held = await this.leases.claim(targets.map((target) => target.key));
    if (held === null) this.outage.failed();
    else this.outage.answered();
    this.registry.markHeld(targets, held ?? new Set());
    if (!this.stopped) {
      await mapLimit(this.registry.tenants(), TENANT_CONCURRENCY, async (tenant) => {
        const out = await pollTenant(this.polling, tenant, startedAt, counters);
        await this.publish(tenant, out);
      });
    }
    this.onTick?.({
      tick,
      startedAt,
      durationMs: this.now() - startedAt,
      calls: { ...counters.calls },
      errors: counters.errors,
      heldLeases: this.registry.countHeld(),
    });
  }

  private async publish(tenant: Tenant, out: Outbox): Promise<void> {
    if (out.items.length === 0 || tenant.released || this.stopped) return;
    await publish(this.publishing, tenant.key, out);
  }

  // ---------------------------------------------------------------------------------------------

  stats(): StatusWatcherStats {
    let pendingWatches = 0;
    let watchedAssets = 0;
    let pollingAssets = 0;
    let watchedGroups = 0;
    for (const tenant of this.registry.tenants()) {
      pendingWatches += tenant.pending;
      watchedAssets += tenant.assets.size;
      watchedGroups += tenant.groups.size;
      for (const entry of tenant.assets.values()) if (pollable(entry)) pollingAssets++;
    }
    return {
      subscribers: this.registry.subscriptions.size,
      pendingWatches,
      credentials: this.registry.size,
      watchedAssets,
      pollingAssets,
      watchedGroups,
      heldLeases: this.registry.countHeld(),
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
    const held = this.registry.takeHeld();
    this.stopped = true;
    this.offReconnect?.();
    this.stopController.abort(new StatusWatcherStoppedError());
    this.registry.abortLoads(new StatusWatcherStoppedError());
    this.wakeLoop?.();
    for (const subscription of [...this.registry.subscriptions]) subscription.close();
    await this.loop;
    if (releaseLeases) await this.leases.releaseNow(held);
    else this.leases.forget();
    const channels = this.registry
      .clear()
      .map((channel) => channel?.then((unsubscribe) => unsubscribe()).catch(() => undefined));
    await Promise.all(channels);
    if (this.ownsBroker) await this.broker.close();
  }
}
