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
 */
import { createHash, randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Logger } from 'pino';
import { UpstreamError, isUpstreamError } from '../upstream/errors.js';
import type { Asset, AssetQuery, CallOptions, Upstream } from '../upstream/port.js';
import { chunk, mapLimit } from '../util/map-limit.js';
import { createMemoryBroker, type StatusBroker } from './broker.js';
import {
  diffAsset,
  diffSnapshots,
  isFinal,
  normalisePoll,
  planReads,
  type Observation,
} from './diff.js';
import {
  InvalidWatchTargetError,
  StatusWatcherStoppedError,
  type StatusEvent,
  type StatusSubscription,
  type WatchTarget,
} from './events.js';
import { DEFAULT_RATE_LIMITS, RateBudget, type BudgetAction, type RateLimits } from './rate.js';
import { QueueSubscription } from './subscription.js';
import { decodeItems, encodeItems, type BusItem } from './wire.js';
import { abortable, positive } from './util.js';

export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

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

/** The key a credential's state is stored under: never the credential itself. */
export function credentialKey(credential: string): string {
  return createHash('sha256').update(credential).digest('hex').slice(0, 32);
}

export const defaultSleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

export function createStatusWatcher(options: StatusWatcherOptions): StatusWatcher {
  return new Watcher(options);
}

const PAGE_SIZE = 100;
const MAX_GROUP_IDS = 100;
/** A sweep reads further pages only while every item is new, at most this many. */
const MAX_SWEEP_PAGES = 10;
const TENANT_CONCURRENCY = 16;

interface PollState {
  /** This instance holds the poll lease. */
  held: boolean;
  intervalMs: number;
  nextDueAt: number;
  /** Since when nothing changed (for back-off). */
  quietSince: number;
}

interface AssetEntry extends PollState {
  readonly id: string;
  readonly tenant: Tenant;
  groupId: string | null;
  /** The state last delivered to subscribers here; `null` until known. */
  current: Asset | null;
  /** The state last published (or received): what this instance's reads are diffed against. */
  basis: Asset | null;
  /** The pending initial `getAsset`. */
  load: Promise<void> | null;
  gone: boolean;
  /** `watch` calls waiting on this entry. */
  holds: number;
  readonly subscribers: Set<WatchSubscription>;
  lastOkAt: number;
  failingSince: number | null;
  failReason: string | null;
  /** This instance published `stale` for the current failure. */
  staleAnnounced: boolean;
  /** A `stale` was received and not yet followed by `recovered`. */
  stale: { since: number; reason: string } | null;
}

interface GroupEntry extends PollState {
  readonly id: string;
  readonly tenant: Tenant;
  load: Promise<void> | null;
  loaded: boolean;
  holds: number;
  readonly subscribers: Set<WatchSubscription>;
  /** Asset ids of the group, in the order subscribers first see them. */
  readonly known: Set<string>;
}

interface Tenant {
  readonly key: string;
  readonly credential: string;
  readonly assets: Map<string, AssetEntry>;
  readonly groups: Map<string, GroupEntry>;
  readonly budget: RateBudget;
  /** `PROCESSING` assets per group seen by the last list, for `planReads`. */
  readonly processingByGroup: Map<string, number>;
  /** `watch` calls in progress. */
  pending: number;
  channel: Promise<() => Promise<void>> | null;
  released: boolean;
}

class WatchSubscription extends QueueSubscription {
  readonly entries = new Set<AssetEntry>();
  group: GroupEntry | null = null;
  /** Directly watched assets not yet final; `null` for group watches, which never finish. */
  open: Set<string> | null = null;

  constructor(
    readonly tenant: Tenant,
    detach: (subscription: WatchSubscription) => void,
    signal?: AbortSignal,
  ) {
    super(detach as (subscription: QueueSubscription<StatusEvent>) => void, signal);
  }
}

interface Failure {
  reason: string;
  /** Lengthen the interval (an upstream error), or retry next interval (no budget). */
  backoff: boolean;
}

interface Counters {
  GetAsset: number;
  ListAssets: number;
  errors: number;
}

const NOOP_LOGGER: Pick<Logger, 'warn' | 'error'> = {
  warn: () => undefined,
  error: () => undefined,
} as unknown as Pick<Logger, 'warn' | 'error'>;

class Watcher implements StatusWatcher {
  private readonly upstream: Upstream;
  private readonly intervalMs: number;
  private readonly maxIntervalMs: number;
  private readonly backoffFactor: number;
  private readonly backoffAfterMs: number;
  private readonly staleAfterMs: number;
  private readonly batch: boolean;
  private readonly rateLimits: RateLimits;
  private readonly concurrency: number;
  private readonly maxAssetIds: number;
  private readonly model: string | undefined;
  private readonly broker: StatusBroker;
  private readonly ownsBroker: boolean;
  private readonly leaseTtlMs: number;
  private readonly instanceId: string;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly logger: Pick<Logger, 'warn' | 'error'>;
  private readonly onTick: ((info: TickInfo) => void) | undefined;

  private readonly tenants = new Map<string, Tenant>();
  private readonly subscriptions = new Set<WatchSubscription>();
  private readonly stopController = new AbortController();
  private stopped = false;
  private stopping: Promise<void> | null = null;
  private keepLeases = false;
  private loop: Promise<void> | null = null;
  private wakeLoop: (() => void) | null = null;
  private releaseQueue: string[] = [];
  private releaseScheduled = false;
  /** The broker reconnected: the next iteration re-reads what subscribers here watch. */
  private resyncDue = false;
  private readonly offReconnect: (() => void) | undefined;

  private pollsTotal = 0;
  private pollErrorsTotal = 0;
  private subscribeReadsTotal = 0;
  private eventsTotal = 0;
  private ticksTotal = 0;

  constructor(options: StatusWatcherOptions) {
    this.upstream = options.upstream;
    this.intervalMs = positive(options.intervalMs ?? 2000, 'intervalMs');
    this.maxIntervalMs = Math.max(
      this.intervalMs,
      positive(options.maxIntervalMs ?? 30_000, 'maxIntervalMs'),
    );
    this.backoffFactor = Math.max(1, options.backoffFactor ?? 1.5);
    this.backoffAfterMs = options.backoffAfterMs ?? 5 * this.intervalMs;
    this.staleAfterMs = options.staleAfterMs ?? 3 * this.intervalMs;
    this.batch = options.batch ?? true;
    this.rateLimits = { ...DEFAULT_RATE_LIMITS, ...options.rateLimits };
    this.concurrency = Math.max(1, Math.floor(options.concurrency ?? 8));
    this.maxAssetIds = Math.max(1, Math.floor(options.maxAssetIds ?? 100));
    this.model = options.model;
    this.ownsBroker = options.broker === undefined;
    this.broker = options.broker ?? createMemoryBroker({ now: options.now });
    this.leaseTtlMs = options.leaseTtlMs ?? 3 * this.intervalMs;
    this.instanceId = options.instanceId ?? randomUUID();
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.logger = options.logger ?? NOOP_LOGGER;
    this.onTick = options.onTick;
    // Every upstream call in flight listens to it (and stops listening when done): more than
    // Node's default of 10 at once is normal, not a leak.
    setMaxListeners(0, this.stopController.signal);
    this.offReconnect = this.broker.pubsub.onReconnect?.(() => {
      this.resyncDue = true;
      this.wakeLoop?.();
    });
  }

  // ---------------------------------------------------------------------------------------------
  // Subscribing

  async watch(target: WatchTarget, options: WatchOptions = {}): Promise<StatusSubscription> {
    const { signal } = options;
    if (this.stopped) throw new StatusWatcherStoppedError();
    const { credential, assetIds, groupId } = this.validate(target);
    signal?.throwIfAborted();

    const tenant = this.tenantFor(credential);
    tenant.pending++;
    this.startLoop();
    const entries: AssetEntry[] = [];
    let group: GroupEntry | null = null;
    try {
      await abortable(this.ensureChannel(tenant), signal);
      if (groupId !== undefined) group = this.holdGroup(tenant, groupId);
      for (const id of assetIds) entries.push(this.holdAsset(tenant, id));
      const loads = [group?.load, ...entries.map((entry) => entry.load)].filter(
        (load): load is Promise<void> => load !== null && load !== undefined,
      );
      if (loads.length > 0) await abortable(Promise.all(loads), signal);
      if (this.stopped) throw new StatusWatcherStoppedError();
      signal?.throwIfAborted();
      for (const entry of entries) {
        if (entry.gone || entry.current === null) throw notFound(entry.id);
      }
      return this.attach(tenant, entries, group, signal);
    } finally {
      tenant.pending--;
      for (const entry of entries) {
        entry.holds--;
        this.releaseAssetIfUnused(entry);
      }
      if (group) {
        group.holds--;
        this.releaseGroupIfUnused(group);
      }
      this.releaseTenantIfUnused(tenant);
    }
  }

  private validate(target: WatchTarget): {
    credential: string;
    assetIds: string[];
    groupId: string | undefined;
  } {
    if (typeof target.credential !== 'string' || target.credential === '') {
      throw new UpstreamError('UNAUTHENTICATED', 'Missing credential.');
    }
    const assetIds = [...new Set(target.assetIds ?? [])];
    if (assetIds.some((id) => typeof id !== 'string' || id.trim() === '')) {
      throw new InvalidWatchTargetError('Asset ids must be non-empty strings.', 'assetIds');
    }
    if (assetIds.length > this.maxAssetIds) {
      throw new InvalidWatchTargetError(
        `At most ${this.maxAssetIds} asset ids can be watched at once.`,
        'assetIds',
      );
    }
    const groupId = target.groupId;
    if (groupId !== undefined && (typeof groupId !== 'string' || groupId.trim() === '')) {
      throw new InvalidWatchTargetError('The group id must be a non-empty string.', 'groupId');
    }
    if (assetIds.length === 0 && groupId === undefined) {
      throw new InvalidWatchTargetError('Watch at least one asset id or a group id.', 'assetIds');
    }
    return { credential: target.credential, assetIds, groupId };
  }

  private tenantFor(credential: string): Tenant {
    const key = credentialKey(credential);
    let tenant = this.tenants.get(key);
    if (!tenant) {
      tenant = {
        key,
        credential,
        assets: new Map(),
        groups: new Map(),
        budget: new RateBudget(this.rateLimits, this.now),
        processingByGroup: new Map(),
        pending: 0,
        channel: null,
        released: false,
      };
      this.tenants.set(key, tenant);
    }
    return tenant;
  }

  private ensureChannel(tenant: Tenant): Promise<() => Promise<void>> {
    if (!tenant.channel) {
      const channel = this.broker.pubsub.subscribe(tenant.key, (message) =>
        this.onMessage(tenant, message),
      );
      tenant.channel = channel;
      channel.catch(() => {
        if (tenant.channel === channel) tenant.channel = null;
      });
    }
    return tenant.channel;
  }

  private holdAsset(tenant: Tenant, id: string): AssetEntry {
    let entry = tenant.assets.get(id);
    if (!entry) {
      entry = this.newAssetEntry(tenant, id);
      tenant.assets.set(id, entry);
    }
    if (entry.current === null && entry.load === null && !entry.gone) {
      entry.load = this.loadAsset(entry);
    }
    entry.holds++;
    return entry;
  }

  private holdGroup(tenant: Tenant, id: string): GroupEntry {
    let group = tenant.groups.get(id);
    if (!group) {
      const now = this.now();
      group = {
        id,
        tenant,
        load: null,
        loaded: false,
        holds: 0,
        subscribers: new Set(),
        known: new Set(),
        held: false,
        intervalMs: this.intervalMs,
        nextDueAt: now + this.intervalMs,
        quietSince: now,
      };
      tenant.groups.set(id, group);
      group.load = this.loadGroup(group);
    }
    group.holds++;
    return group;
  }

  private newAssetEntry(tenant: Tenant, id: string): AssetEntry {
    const now = this.now();
    return {
      id,
      tenant,
      groupId: null,
      current: null,
      basis: null,
      load: null,
      gone: false,
      holds: 0,
      subscribers: new Set(),
      held: false,
      intervalMs: this.intervalMs,
      nextDueAt: now + this.intervalMs,
      quietSince: now,
      lastOkAt: now,
      failingSince: null,
      failReason: null,
      staleAnnounced: false,
      stale: null,
    };
  }

  private loadAsset(entry: AssetEntry): Promise<void> {
    const tenant = entry.tenant;
    const load: Promise<void> = this.initialRead(tenant, 'GetAsset', (options) =>
      this.upstream.getAsset(options, entry.id),
    ).then(
      (asset) => {
        if (entry.load === load) entry.load = null;
        this.applyRead(entry, asset);
      },
      (error: unknown) => {
        if (entry.load === load) entry.load = null;
        if (entry.current === null && tenant.assets.get(entry.id) === entry) {
          tenant.assets.delete(entry.id);
        }
        throw error;
      },
    );
    load.catch(() => undefined);
    return load;
  }

  private loadGroup(group: GroupEntry): Promise<void> {
    const tenant = group.tenant;
    const load: Promise<void> = (async () => {
      await this.initialRead(tenant, 'GetAssetGroup', (options) =>
        this.upstream.getGroup(options, group.id),
      );
      const listed: Asset[] = [];
      let pages = 1;
      for (let page = 1; page <= pages; page++) {
        const result = await this.initialRead(tenant, 'ListAssets', (options) =>
          this.upstream.listAssets(options, { groupIds: [group.id], page, pageSize: PAGE_SIZE }),
        );
        listed.push(...result.items);
        pages = Math.ceil(result.total / PAGE_SIZE);
        if (result.items.length === 0) break;
      }
      if (tenant.groups.get(group.id) !== group) return;
      for (const asset of listed) {
        if (asset.groupId !== group.id || group.known.has(asset.id)) continue;
        group.known.add(asset.id);
        let entry = tenant.assets.get(asset.id);
        if (!entry) {
          entry = this.newAssetEntry(tenant, asset.id);
          tenant.assets.set(asset.id, entry);
        }
        if (!entry.gone) this.applyRead(entry, asset);
      }
    })().then(
      () => {
        group.load = null;
        group.loaded = true;
      },
      (error: unknown) => {
        group.load = null;
        if (!group.loaded && tenant.groups.get(group.id) === group) {
          tenant.groups.delete(group.id);
          for (const id of group.known) {
            const entry = tenant.assets.get(id);
            if (entry) this.releaseAssetIfUnused(entry);
          }
          group.known.clear();
        }
        throw error;
      },
    );
    load.catch(() => undefined);
    return load;
  }

  /** A read for initial state: waits for budget, aborts only when the watcher stops. */
  private async initialRead<T>(
    tenant: Tenant,
    action: BudgetAction,
    call: (options: CallOptions) => Promise<T>,
  ): Promise<T> {
    const signal = this.stopController.signal;
    for (;;) {
      if (signal.aborted) throw new StatusWatcherStoppedError();
      const wait = tenant.budget.waitFor(action);
      if (wait === 0 && tenant.budget.tryTake(action)) break;
      await this.sleep(Math.max(1, wait), signal);
    }
    this.subscribeReadsTotal++;
    try {
      return await call(this.callOptions(tenant));
    } catch (error) {
      this.noteError(tenant, action, error, false);
      throw error;
    }
  }

  /**
   * An answer read outside the loop (initial state). A first answer becomes the entry's state
   * silently (nobody here has seen the asset); a change to a known asset is published like a
   * poll's.
   */
  private applyRead(entry: AssetEntry, asset: Asset): void {
    if (entry.current === null) {
      this.setFirstState(entry, asset);
      return;
    }
    if (entry.basis && !diffAsset(entry.basis, asset)) return;
    if (!diffAsset(entry.current, asset)) return;
    const revert = this.setBasis(entry, asset);
    void this.publish(entry.tenant, [{ kind: 'status', asset }], [revert]);
  }

  private setFirstState(entry: AssetEntry, asset: Asset): void {
    entry.current = asset;
    if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
    entry.groupId = asset.groupId;
    const now = this.now();
    entry.quietSince = Math.min(now, asset.createdAt?.getTime() ?? now);
    entry.lastOkAt = now;
  }

  private attach(
    tenant: Tenant,
    entries: readonly AssetEntry[],
    group: GroupEntry | null,
    signal: AbortSignal | undefined,
  ): WatchSubscription {
    const subscription = new WatchSubscription(tenant, (s) => this.detach(s), signal);
    this.subscriptions.add(subscription);
    const sent = new Set<string>();
    const stale: AssetEntry[] = [];
    const open = group ? null : new Set<string>();
    const first = (entry: AssetEntry) => {
      sent.add(entry.id);
      this.push(subscription, { kind: 'status', asset: entry.current!, previousStatus: null });
      if (entry.stale) stale.push(entry);
    };
    for (const entry of entries) {
      entry.subscribers.add(subscription);
      subscription.entries.add(entry);
      first(entry);
      if (open && !isFinal(entry.current!.status)) open.add(entry.id);
    }
    if (group) {
      group.subscribers.add(subscription);
      subscription.group = group;
      for (const id of group.known) {
        const entry = tenant.assets.get(id);
        if (sent.has(id) || !entry?.current || entry.gone) continue;
        first(entry);
      }
    }
    if (stale.length > 0) {
      this.push(subscription, {
        kind: 'stale',
        assetIds: stale.map((entry) => entry.id),
        since: new Date(Math.min(...stale.map((entry) => entry.stale!.since))),
        reason: stale[0]!.stale!.reason,
      });
    }
    subscription.open = open;
    if (open && open.size === 0) subscription.finish();
    return subscription;
  }

  private detach(subscription: WatchSubscription): void {
    this.subscriptions.delete(subscription);
    for (const entry of subscription.entries) {
      entry.subscribers.delete(subscription);
      this.releaseAssetIfUnused(entry);
    }
    subscription.entries.clear();
    const group = subscription.group;
    if (group) {
      subscription.group = null;
      group.subscribers.delete(subscription);
      this.releaseGroupIfUnused(group);
    }
    this.releaseTenantIfUnused(subscription.tenant);
  }

  // ---------------------------------------------------------------------------------------------
  // Releasing state

  private releaseAssetIfUnused(entry: AssetEntry): void {
    if (entry.subscribers.size > 0 || entry.holds > 0) return;
    const tenant = entry.tenant;
    if (!entry.gone && entry.groupId !== null) {
      if (tenant.groups.get(entry.groupId)?.known.has(entry.id)) return;
    }
    if (tenant.assets.get(entry.id) !== entry) return;
    tenant.assets.delete(entry.id);
    this.stopPolling(entry, assetLease(tenant, entry.id));
  }

  private releaseGroupIfUnused(group: GroupEntry): void {
    if (group.subscribers.size > 0 || group.holds > 0) return;
    const tenant = group.tenant;
    if (tenant.groups.get(group.id) !== group) return;
    tenant.groups.delete(group.id);
    this.stopPolling(group, groupLease(tenant, group.id));
    for (const id of group.known) {
      const entry = tenant.assets.get(id);
      if (entry) this.releaseAssetIfUnused(entry);
    }
  }

  private releaseTenantIfUnused(tenant: Tenant): void {
    if (tenant.pending > 0 || tenant.assets.size > 0 || tenant.groups.size > 0) return;
    if (this.tenants.get(tenant.key) !== tenant) return;
    this.tenants.delete(tenant.key);
    tenant.released = true;
    tenant.channel
      ?.then((unsubscribe) => unsubscribe())
      .catch((error: unknown) =>
        this.logger.warn({ err: error, credential: tenant.key }, 'status: unsubscribe failed'),
      );
  }

  private stopPolling(target: PollState, leaseKey: string): void {
    if (!target.held) return;
    target.held = false;
    this.releaseLease(leaseKey);
  }

  private releaseLease(key: string): void {
    if (this.keepLeases) return;
    this.releaseQueue.push(key);
    if (this.releaseScheduled) return;
    this.releaseScheduled = true;
    queueMicrotask(() => void this.flushReleases());
  }

  private async flushReleases(): Promise<void> {
    this.releaseScheduled = false;
    const keys = this.releaseQueue;
    this.releaseQueue = [];
    if (keys.length === 0 || this.keepLeases) return;
    try {
      await this.broker.leases.release(this.instanceId, keys);
    } catch (error) {
      this.logger.warn({ err: error }, 'status: releasing leases failed');
    }
  }

  // ---------------------------------------------------------------------------------------------
  // Receiving (every instance, for its own subscribers)

  private onMessage(tenant: Tenant, message: string): void {
    if (tenant.released) return;
    let items: BusItem[];
    try {
      items = decodeItems(message);
    } catch (error) {
      this.logger.warn({ err: error, credential: tenant.key }, 'status: dropped a bad message');
      return;
    }
    // Stale and recovered notices are gathered per subscriber, one event each, in order.
    let notice = null as {
      kind: 'stale' | 'recovered';
      bySubscriber: Map<WatchSubscription, AssetEntry[]>;
    } | null;
    const flush = () => {
      if (!notice) return;
      for (const [subscription, entries] of notice.bySubscriber) {
        const assetIds = entries.map((entry) => entry.id);
        if (notice.kind === 'recovered') {
          this.push(subscription, { kind: 'recovered', assetIds });
        } else {
          this.push(subscription, {
            kind: 'stale',
            assetIds,
            since: new Date(Math.min(...entries.map((entry) => entry.stale!.since))),
            reason: entries[0]!.stale!.reason,
          });
        }
      }
      notice = null;
    };
    for (const item of items) {
      if (item.kind === 'status' || item.kind === 'deleted') {
        flush();
        if (item.kind === 'status') this.applyStatus(tenant, item.asset);
        else this.applyDeleted(tenant, item.assetId);
        continue;
      }
      const entry = tenant.assets.get(item.assetId);
      if (!entry || entry.gone || entry.current === null) continue;
      if (item.kind === 'stale') entry.stale = { since: item.since, reason: item.reason };
      else if (entry.stale) entry.stale = null;
      else continue;
      if (notice?.kind !== item.kind) {
        flush();
        notice = { kind: item.kind, bySubscriber: new Map() };
      }
      for (const subscription of this.recipients(entry)) {
        const list = notice.bySubscriber.get(subscription);
        if (list) list.push(entry);
        else notice.bySubscriber.set(subscription, [entry]);
      }
    }
    flush();
  }

  private applyStatus(tenant: Tenant, asset: Asset): void {
    const group = tenant.groups.get(asset.groupId);
    let entry = tenant.assets.get(asset.id);
    if (!entry) {
      if (!group) return;
      entry = this.newAssetEntry(tenant, asset.id);
      tenant.assets.set(asset.id, entry);
    }
    if (entry.gone) return;
    if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
    const change = diffAsset(entry.current, asset);
    if (change) {
      if (entry.current === null) this.setFirstState(entry, asset);
      entry.current = asset;
      entry.groupId = asset.groupId;
    }
    const current = entry.current;
    if (!current) return;
    const newToGroup = group !== undefined && !group.known.has(asset.id);
    if (newToGroup) group.known.add(asset.id);
    if (!change && !newToGroup) return;

    const direct = [...entry.subscribers];
    if (change) {
      const event: StatusEvent = { kind: 'status', asset, previousStatus: change.previousStatus };
      for (const subscription of direct) this.push(subscription, event);
    }
    if (group) {
      const event: StatusEvent | null = newToGroup
        ? { kind: 'status', asset: current, previousStatus: null }
        : change
          ? { kind: 'status', asset, previousStatus: change.previousStatus }
          : null;
      if (event) {
        for (const subscription of [...group.subscribers]) {
          if (!entry.subscribers.has(subscription)) this.push(subscription, event);
        }
      }
    }
    if (isFinal(current.status)) {
      this.stopPolling(entry, assetLease(tenant, entry.id));
      for (const subscription of direct) settle(subscription, entry.id);
    }
  }

  private applyDeleted(tenant: Tenant, assetId: string): void {
    const entry = tenant.assets.get(assetId);
    if (!entry || entry.gone) return;
    const recipients = this.recipients(entry);
    entry.gone = true;
    const group = entry.groupId === null ? undefined : tenant.groups.get(entry.groupId);
    group?.known.delete(assetId);
    const event: StatusEvent = {
      kind: 'deleted',
      assetId,
      groupId: entry.groupId,
      previousStatus: entry.current?.status ?? null,
    };
    for (const subscription of recipients) this.push(subscription, event);
    this.stopPolling(entry, assetLease(tenant, assetId));
    for (const subscription of [...entry.subscribers]) settle(subscription, assetId);
    this.releaseAssetIfUnused(entry);
  }

  /** Direct subscribers, then group subscribers (once each). */
  private recipients(entry: AssetEntry): WatchSubscription[] {
    const out = [...entry.subscribers];
    if (entry.groupId === null) return out;
    const group = entry.tenant.groups.get(entry.groupId);
    if (!group || !group.known.has(entry.id)) return out;
    for (const subscription of group.subscribers) {
      if (!entry.subscribers.has(subscription)) out.push(subscription);
    }
    return out;
  }

  private push(subscription: WatchSubscription, event: StatusEvent): void {
    if (!subscription.isOpen) return;
    this.eventsTotal++;
    subscription.push(event);
  }

  // ---------------------------------------------------------------------------------------------
  // Publishing (the lease holder)

  /**
   * Publishes `items` on the tenant's channel. When that fails, `reverts` undo the diff basis
   * updates, so that the next poll finds the changes again.
   */
  private publish(
    tenant: Tenant,
    items: readonly BusItem[],
    reverts: ReadonlyArray<() => void> = [],
  ): Promise<void> {
    return this.broker.pubsub.publish(tenant.key, encodeItems(items)).catch((error: unknown) => {
      for (const revert of reverts) revert();
      this.logger.warn({ err: error, credential: tenant.key }, 'status: publish failed');
    });
  }

  /** Sets the diff basis; the returned function puts the previous one back if still current. */
  private setBasis(entry: AssetEntry, asset: Asset): () => void {
    const previous = entry.basis;
    entry.basis = asset;
    return () => {
      if (entry.basis === asset) entry.basis = previous;
    };
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
      await this.sleep(Math.max(0, startedAt + this.intervalMs - this.now()), signal).catch(
        () => undefined,
      );
    }
  }

  private async tick(startedAt: number): Promise<void> {
    const tick = ++this.ticksTotal;
    const counters: Counters = { GetAsset: 0, ListAssets: 0, errors: 0 };
    if (this.resyncDue) {
      this.resyncDue = false;
      await mapLimit([...this.tenants.values()], TENANT_CONCURRENCY, (tenant) =>
        this.resync(tenant, counters),
      );
    }
    await this.claimLeases();
    if (!this.stopped) {
      await mapLimit([...this.tenants.values()], TENANT_CONCURRENCY, (tenant) =>
        this.pollTenant(tenant, startedAt, counters),
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

  /**
   * After a broker outage: reads the tenant's watched groups (every asset in them) and each other
   * asset not final for its subscribers here, and delivers the differences locally, as if the
   * lost messages had arrived. Lease holders' diff bases move along (`applyStatus`), so nothing
   * is published twice. When a read fails or finds no budget, the next iteration tries again.
   */
  private async resync(tenant: Tenant, counters: Counters): Promise<void> {
    if (tenant.released) return;
    const options = this.callOptions(tenant);
    const listed = new Set<string>();
    let action: BudgetAction = 'ListAssets';
    try {
      const groups = [...tenant.groups.values()].filter((group) => group.loaded);
      for (const batch of chunk(groups, MAX_GROUP_IDS)) {
        const { items, complete } = await this.listPages(
          tenant,
          options,
          { groupIds: batch.map((group) => group.id), page: 1, pageSize: PAGE_SIZE },
          counters,
        );
        for (const asset of items) {
          listed.add(asset.id);
          this.applyStatus(tenant, asset);
        }
        if (!complete) throw new Error('no ListAssets budget');
      }
      const unsure = [...tenant.assets.values()].filter(
        (entry) =>
          !entry.gone &&
          entry.current !== null &&
          !isFinal(entry.current.status) &&
          !listed.has(entry.id),
      );
      action = 'GetAsset';
      await mapLimit(unsure, this.concurrency, async (entry) => {
        if (!tenant.budget.tryTake('GetAsset')) throw new Error('no GetAsset budget');
        counters.GetAsset++;
        this.pollsTotal++;
        try {
          this.applyStatus(tenant, await this.upstream.getAsset(options, entry.id));
        } catch (error) {
          if (!isUpstreamError(error) || error.code !== 'NOT_FOUND') throw error;
          this.applyDeleted(tenant, entry.id);
        }
      });
    } catch (error) {
      if (this.stopped) return;
      counters.errors++;
      this.noteError(tenant, action, error, true);
      this.resyncDue = true;
    }
  }

  private async claimLeases(): Promise<void> {
    const keys: string[] = [];
    const targets: Array<AssetEntry | GroupEntry> = [];
    for (const tenant of this.tenants.values()) {
      for (const entry of tenant.assets.values()) {
        if (!this.pollable(entry)) continue;
        keys.push(assetLease(tenant, entry.id));
        targets.push(entry);
      }
      for (const group of tenant.groups.values()) {
        if (!group.loaded) continue;
        keys.push(groupLease(tenant, group.id));
        targets.push(group);
      }
    }
    if (keys.length === 0) return;
    let held: Set<string>;
    try {
      held = await this.broker.leases.claim(this.instanceId, keys, this.leaseTtlMs);
    } catch (error) {
      // Without leases nobody knows who polls: poll nothing until the broker is back.
      this.logger.warn({ err: error }, 'status: claiming leases failed');
      held = new Set();
    }
    targets.forEach((target, index) => {
      const key = keys[index]!;
      const isHeld = held.has(key);
      const stillWanted =
        'known' in target
          ? target.tenant.groups.get(target.id) === target
          : target.tenant.assets.get(target.id) === target && this.pollable(target);
      if (isHeld && !stillWanted) {
        target.held = false;
        this.releaseLease(key);
        return;
      }
      if (!isHeld && !('known' in target)) {
        // Another instance polls it now: this one's failure record no longer applies.
        target.failingSince = null;
        target.staleAnnounced = false;
      }
      target.held = isHeld;
    });
  }

  private pollable(entry: AssetEntry): boolean {
    return (
      !entry.gone &&
      entry.current !== null &&
      entry.basis !== null &&
      entry.groupId !== null &&
      !isFinal(entry.current.status) &&
      !isFinal(entry.basis.status)
    );
  }

  private async pollTenant(tenant: Tenant, startedAt: number, counters: Counters): Promise<void> {
    if (tenant.released) return;
    const horizon = startedAt + this.intervalMs / 2;
    const due: AssetEntry[] = [];
    const pollableByGroup = new Map<string, AssetEntry[]>();
    for (const entry of tenant.assets.values()) {
      if (!entry.held || !this.pollable(entry)) continue;
      const list = pollableByGroup.get(entry.groupId!);
      if (list) list.push(entry);
      else pollableByGroup.set(entry.groupId!, [entry]);
      if (entry.nextDueAt <= horizon) due.push(entry);
    }
    // Longest-waiting first, so that assets put off for lack of budget are read next time.
    due.sort((x, y) => x.nextDueAt - y.nextDueAt);
    const dueGroups = [...tenant.groups.values()].filter(
      (group) => group.held && group.loaded && group.nextDueAt <= horizon,
    );

    const items: BusItem[] = [];
    const reverts: Array<() => void> = [];
    if (due.length > 0 || dueGroups.length > 0) {
      const options = this.callOptions(tenant);
      const { listed, fetched, gone, failed } = await this.readAssets(
        tenant,
        options,
        due,
        pollableByGroup,
        horizon,
        counters,
      );
      const discovered = await this.sweepGroups(tenant, options, dueGroups, counters);

      const observed = normalisePoll({ listed: [...listed, ...discovered], fetched, gone });
      const previous = new Map<string, Asset>();
      const relevant = new Map<string, Observation>();
      for (const [id, observation] of observed) {
        const entry = tenant.assets.get(id);
        if (entry) {
          // Only the lease holder speaks for an asset.
          if (!entry.held || entry.gone || entry.basis === null) continue;
          previous.set(id, entry.basis);
          relevant.set(id, observation);
        } else if (observation.kind === 'seen') {
          const group = tenant.groups.get(observation.asset.groupId);
          if (group?.held && group.loaded) relevant.set(id, observation);
        }
      }
      const changes = diffSnapshots(previous, relevant);
      const changed = new Set(
        changes.map((change) => (change.kind === 'status' ? change.asset.id : change.assetId)),
      );

      const at = this.now();
      for (const id of relevant.keys()) {
        const entry = tenant.assets.get(id);
        if (!entry) continue;
        failed.delete(entry);
        if (entry.staleAnnounced || entry.stale) items.push({ kind: 'recovered', assetId: id });
        entry.staleAnnounced = false;
        this.succeeded(entry, at, changed.has(id));
      }
      for (const change of changes) {
        if (change.kind === 'deleted') {
          items.push({ kind: 'deleted', assetId: change.assetId });
          continue;
        }
        const asset = change.asset;
        let entry = tenant.assets.get(asset.id);
        if (!entry) {
          // Discovered by this instance's sweep or list: known to the group from now on (its
          // subscribers get it, with `previousStatus: null`, when the message comes back).
          const discovered = this.newAssetEntry(tenant, asset.id);
          discovered.groupId = asset.groupId;
          tenant.assets.set(asset.id, discovered);
          const group = tenant.groups.get(asset.groupId);
          group?.known.add(asset.id);
          reverts.push(() => {
            if (discovered.current !== null) return;
            group?.known.delete(asset.id);
            if (tenant.assets.get(asset.id) === discovered) tenant.assets.delete(asset.id);
          });
          entry = discovered;
        }
        reverts.push(this.setBasis(entry, asset));
        items.push({ kind: 'status', asset });
      }
      for (const [entry, failure] of failed) this.failed(entry, at, failure);
    }

    // Staleness is checked every interval, also for assets not due yet (backed off).
    const at = this.now();
    for (const entry of tenant.assets.values()) {
      if (
        entry.held &&
        entry.failingSince !== null &&
        !entry.staleAnnounced &&
        at - entry.failingSince >= this.staleAfterMs &&
        this.pollable(entry)
      ) {
        entry.staleAnnounced = true;
        items.push({
          kind: 'stale',
          assetId: entry.id,
          since: entry.lastOkAt,
          reason: entry.failReason ?? 'UNKNOWN',
        });
      }
    }
    if (items.length > 0 && !tenant.released && !this.stopped) {
      await this.publish(tenant, items, reverts);
    }
  }

  /**
   * Reads the due assets per `planReads`. A watched asset missing from a complete
   * `PROCESSING` list is read with `getAsset` too; what could not be read is in `failed`.
   */
  private async readAssets(
    tenant: Tenant,
    options: CallOptions,
    due: readonly AssetEntry[],
    pollableByGroup: ReadonlyMap<string, AssetEntry[]>,
    horizon: number,
    counters: Counters,
  ): Promise<{
    listed: Asset[];
    fetched: Asset[];
    gone: string[];
    failed: Map<AssetEntry, Failure>;
  }> {
    const listed: Asset[] = [];
    const fetched: Asset[] = [];
    const gone: string[] = [];
    const failed = new Map<AssetEntry, Failure>();
    const plan = planReads({
      due: due.map((entry) => ({ id: entry.id, groupId: entry.groupId! })),
      processingByGroup: tenant.processingByGroup,
      batch: this.batch,
    });
    const toGet = new Set(plan.gets);

    await mapLimit(plan.lists, this.concurrency, async (groupIds) => {
      const inChunk = groupIds.flatMap((groupId) => pollableByGroup.get(groupId) ?? []);
      try {
        const {
          items: found,
          complete,
          total,
        } = await this.listPages(
          tenant,
          options,
          { groupIds, statuses: ['PROCESSING'], page: 1, pageSize: PAGE_SIZE },
          counters,
        );
        listed.push(...found);
        const seen = new Set(found.map((asset) => asset.id));
        const counts = new Map(groupIds.map((groupId) => [groupId, 0]));
        for (const asset of found) counts.set(asset.groupId, (counts.get(asset.groupId) ?? 0) + 1);
        for (const [groupId, count] of counts) {
          // An incomplete list only bounds the count: assume the worst.
          tenant.processingByGroup.set(groupId, complete ? count : Math.max(count, total));
        }
        for (const entry of inChunk) {
          if (seen.has(entry.id)) continue;
          // Gone from a complete PROCESSING list: it changed (or was deleted): read it.
          if (complete) toGet.add(entry.id);
          else if (entry.nextDueAt <= horizon)
            failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
        }
      } catch (error) {
        const reason = this.noteError(tenant, 'ListAssets', error, true);
        counters.errors++;
        for (const entry of inChunk) {
          if (entry.nextDueAt <= horizon) failed.set(entry, { reason, backoff: true });
        }
      }
    });

    await mapLimit([...toGet], this.concurrency, async (id) => {
      const entry = tenant.assets.get(id);
      if (!entry || !entry.held || !this.pollable(entry)) return;
      if (!tenant.budget.tryTake('GetAsset')) {
        failed.set(entry, { reason: 'RATE_BUDGET', backoff: false });
        return;
      }
      counters.GetAsset++;
      this.pollsTotal++;
      try {
        fetched.push(await this.upstream.getAsset(options, id));
      } catch (error) {
        if (isUpstreamError(error) && error.code === 'NOT_FOUND') {
          gone.push(id);
          return;
        }
        counters.errors++;
        failed.set(entry, {
          reason: this.noteError(tenant, 'GetAsset', error, true),
          backoff: true,
        });
      }
    });

    return { listed, fetched, gone, failed };
  }

  private succeeded(entry: AssetEntry, at: number, changed: boolean): void {
    const wasFailing = entry.failingSince !== null;
    entry.lastOkAt = at;
    entry.failingSince = null;
    entry.failReason = null;
    if (changed || wasFailing) {
      entry.intervalMs = this.intervalMs;
      if (changed) entry.quietSince = at;
    } else if (at - entry.quietSince >= this.backoffAfterMs) {
      entry.intervalMs = Math.min(this.maxIntervalMs, entry.intervalMs * this.backoffFactor);
    }
    entry.nextDueAt = at + entry.intervalMs;
  }

  private failed(entry: AssetEntry, at: number, failure: Failure): void {
    entry.failingSince ??= at;
    // A read put off for budget after an upstream error (e.g. a 429 pausing the budget for its
    // Retry-After) keeps that error as the reason subscribers see.
    if (failure.backoff || entry.failReason === null) entry.failReason = failure.reason;
    if (failure.backoff) {
      entry.intervalMs = Math.min(
        this.maxIntervalMs,
        Math.max(entry.intervalMs, this.intervalMs) * 2,
      );
      entry.nextDueAt = at + entry.intervalMs;
    }
  }

  /**
   * Reads `query` page by page while the budget allows. `complete` is true when every page up
   * to `total` was read.
   */
  private async listPages(
    tenant: Tenant,
    options: CallOptions,
    query: AssetQuery,
    counters: Counters,
    maxPages = Number.POSITIVE_INFINITY,
  ): Promise<{ items: Asset[]; complete: boolean; total: number }> {
    const items: Asset[] = [];
    let total = 0;
    for (let page = 1, pages = 1; page <= pages; page++) {
      if (page > maxPages || !tenant.budget.tryTake('ListAssets')) {
        return { items, complete: false, total };
      }
      counters.ListAssets++;
      this.pollsTotal++;
      const result = await this.upstream.listAssets(options, { ...query, page });
      items.push(...result.items);
      total = result.total;
      pages = Math.ceil(result.total / (query.pageSize || PAGE_SIZE));
      if (result.items.length === 0) break;
    }
    return { items, complete: true, total };
  }

  /**
   * Lists due groups newest first (no status filter) and returns the assets none of them knew:
   * assets added by other clients, even ones that turned final before a `PROCESSING` list could
   * see them. Further pages are read only while a whole page is new.
   */
  private async sweepGroups(
    tenant: Tenant,
    options: CallOptions,
    groups: readonly GroupEntry[],
    counters: Counters,
  ): Promise<Asset[]> {
    const discovered: Asset[] = [];
    await mapLimit(chunk(groups, MAX_GROUP_IDS), this.concurrency, async (batch) => {
      const byId = new Map(batch.map((group) => [group.id, group]));
      const found = new Set<string>();
      try {
        for (let page = 1; page <= MAX_SWEEP_PAGES; page++) {
          if (!tenant.budget.tryTake('ListAssets')) return;
          counters.ListAssets++;
          this.pollsTotal++;
          const result = await this.upstream.listAssets(options, {
            groupIds: [...byId.keys()],
            page,
            pageSize: PAGE_SIZE,
          });
          let fresh = 0;
          for (const asset of result.items) {
            const group = byId.get(asset.groupId);
            if (!group || group.known.has(asset.id)) continue;
            fresh++;
            found.add(asset.groupId);
            const existing = tenant.assets.get(asset.id)?.current;
            if (existing) {
              // Watched directly here already: only this group's subscribers are new to it.
              this.applyStatus(tenant, existing);
              continue;
            }
            discovered.push(asset);
          }
          if (fresh < result.items.length || page * PAGE_SIZE >= result.total) break;
        }
        const at = this.now();
        for (const group of batch) {
          if (found.has(group.id)) {
            group.intervalMs = this.intervalMs;
            group.quietSince = at;
          } else if (at - group.quietSince >= this.backoffAfterMs) {
            group.intervalMs = Math.min(this.maxIntervalMs, group.intervalMs * this.backoffFactor);
          }
          group.nextDueAt = at + group.intervalMs;
        }
      } catch (error) {
        counters.errors++;
        this.noteError(tenant, 'ListAssets', error, true);
        const at = this.now();
        for (const group of batch) {
          group.intervalMs = Math.min(this.maxIntervalMs, group.intervalMs * 2);
          group.nextDueAt = at + group.intervalMs;
        }
      }
    });
    return discovered;
  }

  /** Logs a failed call, honours `Retry-After`, and returns the reason subscribers see. */
  private noteError(tenant: Tenant, action: BudgetAction, error: unknown, poll: boolean): string {
    if (poll) this.pollErrorsTotal++;
    const code = isUpstreamError(error) ? error.code : 'INTERNAL';
    if (isUpstreamError(error) && error.code === 'RATE_LIMITED') {
      tenant.budget.pause(action, this.now() + (error.retryAfter ?? 1) * 1000);
    }
    if (poll) {
      this.logger.warn(
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

  private callOptions(tenant: Tenant): CallOptions {
    return {
      credential: tenant.credential,
      signal: this.stopController.signal,
      ...(this.model === undefined ? {} : { model: this.model }),
    };
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
      for (const entry of tenant.assets.values()) if (this.pollable(entry)) pollingAssets++;
    }
    return {
      subscribers: this.subscriptions.size,
      pendingWatches,
      credentials: this.tenants.size,
      watchedAssets,
      pollingAssets,
      watchedGroups,
      heldLeases: this.countHeld(),
      pollsTotal: this.pollsTotal,
      pollErrorsTotal: this.pollErrorsTotal,
      subscribeReadsTotal: this.subscribeReadsTotal,
      eventsTotal: this.eventsTotal,
      ticksTotal: this.ticksTotal,
    };
  }

  stop(options: StopOptions = {}): Promise<void> {
    this.stopping ??= this.doStop(options.releaseLeases ?? true);
    return this.stopping;
  }

  private async doStop(releaseLeases: boolean): Promise<void> {
    this.keepLeases = !releaseLeases;
    // Leases still held, collected before closing subscriptions releases (or forgets) them.
    const held: string[] = [];
    for (const tenant of this.tenants.values()) {
      for (const entry of tenant.assets.values()) {
        if (entry.held) held.push(assetLease(tenant, entry.id));
        entry.held = false;
      }
      for (const group of tenant.groups.values()) {
        if (group.held) held.push(groupLease(tenant, group.id));
        group.held = false;
      }
    }
    this.stopped = true;
    this.offReconnect?.();
    this.stopController.abort(new StatusWatcherStoppedError());
    this.wakeLoop?.();
    for (const subscription of [...this.subscriptions]) subscription.close();
    await this.loop;
    if (releaseLeases) {
      this.releaseQueue.push(...held);
      await this.flushReleases();
    } else {
      this.releaseQueue = [];
    }
    const channels = [...this.tenants.values()].map((tenant) => {
      tenant.released = true;
      return tenant.channel?.then((unsubscribe) => unsubscribe()).catch(() => undefined);
    });
    this.tenants.clear();
    await Promise.all(channels);
    if (this.ownsBroker) await this.broker.close();
  }
}

function assetLease(tenant: Tenant, assetId: string): string {
  return `${tenant.key}:a:${assetId}`;
}

function groupLease(tenant: Tenant, groupId: string): string {
  return `${tenant.key}:g:${groupId}`;
}

/** Records that a direct subscriber got the last event of `assetId`; ends it after its last. */
function settle(subscription: WatchSubscription, assetId: string): void {
  const open = subscription.open;
  if (open?.delete(assetId) && open.size === 0) subscription.finish();
}

function notFound(assetId: string): UpstreamError {
  return new UpstreamError('NOT_FOUND', `The specified asset ${assetId} is not found.`, {
    upstreamCode: 'NotFound.asset_id',
  });
}
