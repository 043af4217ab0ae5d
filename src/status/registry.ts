/**
 * The watcher's state, per credential (a "tenant"): the entries for watched assets and groups,
 * the subscriptions that point at them, and how an entry comes into being and is dropped once
 * nothing uses it. Also `WatcherCore`, the part of the watcher the other modules work on.
 */
import type { Logger } from 'pino';
import type { Asset, CallOptions, Upstream } from '../upstream/port.js';
import type { StatusBroker } from './broker/broker.js';
import { diffAsset, isFinal } from './diff.js';
import type { StatusEvent } from './events.js';
import type { LeaseKeeper } from './leases.js';
import type { RateBudget, RateLimits } from './rate-budget.js';
import { QueueSubscription } from './queue.js';
import { secretHash } from '../util/secret-hash.js';
import type { Sleep } from '../util/time.js';

/** The key a credential's state is stored under: never the credential itself. */
export const credentialKey = secretHash;

export const PAGE_SIZE = 100;
export const MAX_GROUP_IDS = 100;

/** The watcher's options, defaults applied. */
export interface Settings {
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly backoffFactor: number;
  readonly backoffAfterMs: number;
  readonly staleAfterMs: number;
  readonly batch: boolean;
  readonly rateLimits: RateLimits;
  readonly concurrency: number;
  readonly maxAssetIds: number;
  readonly model: string | undefined;
}

/** The running totals behind `stats()`. */
export interface Totals {
  /** Upstream calls made by the loop. */
  pollsTotal: number;
  pollErrorsTotal: number;
  /** Upstream calls made by `watch` for initial state. */
  subscribeReadsTotal: number;
  eventsTotal: number;
  ticksTotal: number;
}

/** What the watcher's modules share: its settings, dependencies and state. */
export interface WatcherCore {
  readonly settings: Settings;
  readonly upstream: Upstream;
  readonly broker: StatusBroker;
  readonly leases: LeaseKeeper;
  readonly now: () => number;
  readonly sleep: Sleep;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
  /** Aborts when the watcher stops; every upstream call listens to it. */
  readonly signal: AbortSignal;
  readonly tenants: Map<string, Tenant>;
  readonly subscriptions: Set<WatchSubscription>;
  readonly totals: Totals;
  readonly stopped: boolean;
}

export interface PollState {
  /** This instance holds the poll lease. */
  held: boolean;
  intervalMs: number;
  nextDueAt: number;
  /** Since when nothing changed (for back-off). */
  quietSince: number;
}

export interface AssetEntry extends PollState {
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

export interface GroupEntry extends PollState {
  readonly id: string;
  readonly tenant: Tenant;
  load: Promise<void> | null;
  loaded: boolean;
  holds: number;
  readonly subscribers: Set<WatchSubscription>;
  /** Asset ids of the group, in the order subscribers first see them. */
  readonly known: Set<string>;
}

export interface Tenant {
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

export class WatchSubscription extends QueueSubscription {
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

/** Upstream calls and failures of one loop iteration, for `onTick`. */
export interface Counters {
  GetAsset: number;
  ListAssets: number;
  errors: number;
}

export function newAssetEntry(w: WatcherCore, tenant: Tenant, id: string): AssetEntry {
  const now = w.now();
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
    intervalMs: w.settings.intervalMs,
    nextDueAt: now + w.settings.intervalMs,
    quietSince: now,
    lastOkAt: now,
    failingSince: null,
    failReason: null,
    staleAnnounced: false,
    stale: null,
  };
}

export function newGroupEntry(w: WatcherCore, tenant: Tenant, id: string): GroupEntry {
  const now = w.now();
  return {
    id,
    tenant,
    load: null,
    loaded: false,
    holds: 0,
    subscribers: new Set(),
    known: new Set(),
    held: false,
    intervalMs: w.settings.intervalMs,
    nextDueAt: now + w.settings.intervalMs,
    quietSince: now,
  };
}

/** An asset this instance polls when it holds the lease: known, in a group, not final. */
export function pollable(entry: AssetEntry): boolean {
  return (
    !entry.gone &&
    entry.current !== null &&
    entry.basis !== null &&
    entry.groupId !== null &&
    !isFinal(entry.current.status) &&
    !isFinal(entry.basis.status)
  );
}

/** The first known state of an entry: delivered silently (nobody here has seen the asset). */
export function setFirstState(w: WatcherCore, entry: AssetEntry, asset: Asset): void {
  entry.current = asset;
  if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
  entry.groupId = asset.groupId;
  const now = w.now();
  entry.quietSince = Math.min(now, asset.createdAt?.getTime() ?? now);
  entry.lastOkAt = now;
}

/** Sets the diff basis; the returned function puts the previous one back if still current. */
export function setBasis(entry: AssetEntry, asset: Asset): () => void {
  const previous = entry.basis;
  entry.basis = asset;
  return () => {
    if (entry.basis === asset) entry.basis = previous;
  };
}

export function callOptions(w: WatcherCore, tenant: Tenant): CallOptions {
  return {
    credential: tenant.credential,
    signal: w.signal,
    ...(w.settings.model === undefined ? {} : { model: w.settings.model }),
  };
}

/** Records that a direct subscriber got the last event of `assetId`; ends it after its last. */
export function settle(subscription: WatchSubscription, assetId: string): void {
  const open = subscription.open;
  if (open?.delete(assetId) && open.size === 0) subscription.finish();
}

// -----------------------------------------------------------------------------------------------
// Releasing state nothing uses any more

export function releaseAssetIfUnused(w: WatcherCore, entry: AssetEntry): void {
  if (entry.subscribers.size > 0 || entry.holds > 0) return;
  const tenant = entry.tenant;
  if (!entry.gone && entry.groupId !== null) {
    if (tenant.groups.get(entry.groupId)?.known.has(entry.id)) return;
  }
  if (tenant.assets.get(entry.id) !== entry) return;
  tenant.assets.delete(entry.id);
  w.leases.stopPolling(entry);
}

export function releaseGroupIfUnused(w: WatcherCore, group: GroupEntry): void {
  if (group.subscribers.size > 0 || group.holds > 0) return;
  const tenant = group.tenant;
  if (tenant.groups.get(group.id) !== group) return;
  tenant.groups.delete(group.id);
  w.leases.stopPolling(group);
  for (const id of group.known) {
    const entry = tenant.assets.get(id);
    if (entry) releaseAssetIfUnused(w, entry);
  }
}

export function releaseTenantIfUnused(w: WatcherCore, tenant: Tenant): void {
  if (tenant.pending > 0 || tenant.assets.size > 0 || tenant.groups.size > 0) return;
  if (w.tenants.get(tenant.key) !== tenant) return;
  w.tenants.delete(tenant.key);
  tenant.released = true;
  tenant.channel
    ?.then((unsubscribe) => unsubscribe())
    .catch((error: unknown) =>
      w.logger.warn({ err: error, credential: tenant.key }, 'status: unsubscribe failed'),
    );
}
