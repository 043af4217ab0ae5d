/**
 * What the watcher knows, and the only place it changes hands: per credential (a "tenant", keyed
 * by a hash of the credential) the entries of the watched assets and groups, and the
 * subscriptions that point at them. Entries are reference-counted: `watch` holds them while it
 * reads their first state, subscriptions while they are open; an entry nothing uses any more is
 * dropped, and a tenant with no entries left too.
 *
 * "When does this instance stop polling X?" has one answer: when the registry reports the
 * lease key of X to `onUnpolled` — X was dropped, turned final or deleted, or its lease turned
 * out to be unwanted. The registry never talks to the broker itself.
 *
 * Each asset entry carries two states: `current`, the last state delivered to subscribers here,
 * and `basis`, the last state published (or received) on the bus, which this instance's polls
 * are diffed against. They differ only between a publish and its message coming back.
 */
import type { Asset } from '../upstream/port.js';
import { secretHash } from '../util/secret-hash.js';
import type { LoopLogger } from '../util/time.js';
import { diffAsset, isFinal } from './diff.js';
import type { StatusEvent } from './events.js';
import { QueueSubscription } from './queue.js';
import type { RateBudget } from './rate-budget.js';

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
  /** Cancels `load`: aborted when the entry is dropped (nobody waits for it any more). */
  loading: AbortController | null;
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
  /** Cancels `load`: aborted when the group is dropped (nobody waits for it any more). */
  loading: AbortController | null;
  loaded: boolean;
  holds: number;
  readonly subscribers: Set<WatchSubscription>;
  /** Asset ids of the group, in the order subscribers first see them. */
  readonly known: Set<string>;
}

export interface Tenant {
  /** The credential's hash: the name of its bus channel and the prefix of its lease keys. */
  readonly key: string;
  readonly credential: string;
  readonly assets: Map<string, AssetEntry>;
  readonly groups: Map<string, GroupEntry>;
  readonly budget: RateBudget;
  /** Not-final assets per group seen by the last list, for the source's `planReads`. */
  readonly processingByGroup: Map<string, number>;
  /** `watch` calls in progress. */
  pending: number;
  /** The subscription to the tenant's bus channel; resolves to its unsubscribe function. */
  channel: Promise<() => Promise<void>> | null;
  released: boolean;
}

export class WatchSubscription extends QueueSubscription<StatusEvent> {
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

/** The lease key of an asset or group: `<credential hash>:a:<asset id>` or `…:g:<group id>`. */
export function leaseKey(target: AssetEntry | GroupEntry): string {
  return isGroup(target)
    ? `${target.tenant.key}:g:${target.id}`
    : `${target.tenant.key}:a:${target.id}`;
}

function isGroup(target: AssetEntry | GroupEntry): target is GroupEntry {
  return 'known' in target;
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

/** Sets the diff basis; the returned function puts the previous one back if still current. */
export function setBasis(entry: AssetEntry, asset: Asset): () => void {
  const previous = entry.basis;
  entry.basis = asset;
  return () => {
    if (entry.basis === asset) entry.basis = previous;
  };
}

/** Records that a direct subscriber got the last event of `assetId`; ends it after its last. */
export function settle(subscription: WatchSubscription, assetId: string): void {
  const open = subscription.open;
  if (open?.delete(assetId) && open.size === 0) subscription.finish();
}

/** A lease this instance may claim, and the asset or group it is for. */
export interface LeaseTarget {
  readonly key: string;
  readonly target: AssetEntry | GroupEntry;
}

export interface RegistryOptions {
  /** The first poll interval of a new entry. */
  intervalMs: number;
  now: () => number;
  /** A rate budget for a new tenant. */
  newBudget: () => RateBudget;
  /**
   * Called with the lease key of an asset or group whose lease this instance held and no
   * longer needs: the one place where polling something here stops.
   */
  onUnpolled: (key: string) => void;
  logger: LoopLogger;
}

export class Registry {
  private readonly tenantsByKey = new Map<string, Tenant>();
  /** Open subscriptions. */
  readonly subscriptions = new Set<WatchSubscription>();

  constructor(private readonly options: RegistryOptions) {}

  get size(): number {
    return this.tenantsByKey.size;
  }

  has(credentialKey: string): boolean {
    return this.tenantsByKey.has(credentialKey);
  }

  tenants(): Tenant[] {
    return [...this.tenantsByKey.values()];
  }

  // ---------------------------------------------------------------------------------------------
  // Holding and releasing: what `watch` does while it reads first states

  /** The credential's tenant (created if new), held until `releaseTenant`. */
  holdTenant(credential: string): Tenant {
    const key = secretHash(credential);
    let tenant = this.tenantsByKey.get(key);
    if (!tenant) {
      tenant = {
        key,
        credential,
        assets: new Map(),
        groups: new Map(),
        budget: this.options.newBudget(),
        processingByGroup: new Map(),
        pending: 0,
        channel: null,
        released: false,
      };
      this.tenantsByKey.set(key, tenant);
    }
    tenant.pending++;
    return tenant;
  }

  releaseTenant(tenant: Tenant): void {
    tenant.pending--;
    this.dropTenantIfUnused(tenant);
  }

  /** The asset's entry (created if new), held until `releaseAsset`. */
  holdAsset(tenant: Tenant, id: string): AssetEntry {
    const entry = tenant.assets.get(id) ?? this.addAsset(tenant, id);
    entry.holds++;
    return entry;
  }

  releaseAsset(entry: AssetEntry): void {
    entry.holds--;
    this.dropAssetIfUnused(entry);
  }

  /** The group's entry (created if new), held until `releaseGroup`. */
  holdGroup(tenant: Tenant, id: string): GroupEntry {
    let group = tenant.groups.get(id);
    if (!group) {
      group = {
        id,
        tenant,
        load: null,
        loading: null,
        loaded: false,
        holds: 0,
        subscribers: new Set(),
        known: new Set(),
        ...this.newPollState(),
      };
      tenant.groups.set(id, group);
    }
    group.holds++;
    return group;
  }

  releaseGroup(group: GroupEntry): void {
    group.holds--;
    this.dropGroupIfUnused(group);
  }

  // ---------------------------------------------------------------------------------------------
  // Entries

  /** A new, empty entry for asset `id`, stored in the tenant. */
  addAsset(tenant: Tenant, id: string): AssetEntry {
    const poll = this.newPollState();
    const entry: AssetEntry = {
      id,
      tenant,
      groupId: null,
      current: null,
      basis: null,
      load: null,
      loading: null,
      gone: false,
      holds: 0,
      subscribers: new Set(),
      ...poll,
      lastOkAt: poll.quietSince,
      failingSince: null,
      failReason: null,
      staleAnnounced: false,
      stale: null,
    };
    tenant.assets.set(id, entry);
    return entry;
  }

  /** Not held, first due one interval from now. */
  private newPollState(): PollState {
    const now = this.options.now();
    const { intervalMs } = this.options;
    return { held: false, intervalMs, nextDueAt: now + intervalMs, quietSince: now };
  }

  /** The first known state of an entry: delivered silently (nobody here has seen the asset). */
  setFirstState(entry: AssetEntry, asset: Asset): void {
    entry.current = asset;
    if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
    entry.groupId = asset.groupId;
    const now = this.options.now();
    entry.quietSince = Math.min(now, asset.createdAt?.getTime() ?? now);
    entry.lastOkAt = now;
  }

  /** Stops polling `target` here (final, deleted or dropped): its lease goes to `onUnpolled`. */
  stopPolling(target: AssetEntry | GroupEntry): void {
    if (!target.held) return;
    target.held = false;
    this.options.onUnpolled(leaseKey(target));
  }

  // ---------------------------------------------------------------------------------------------
  // Subscriptions

  /** A new open subscription of `tenant`; closing it detaches it from its entries. */
  subscribe(tenant: Tenant, signal: AbortSignal | undefined): WatchSubscription {
    const subscription = new WatchSubscription(tenant, (s) => this.detach(s), signal);
    this.subscriptions.add(subscription);
    return subscription;
  }

  private detach(subscription: WatchSubscription): void {
    this.subscriptions.delete(subscription);
    for (const entry of subscription.entries) {
      entry.subscribers.delete(subscription);
      this.dropAssetIfUnused(entry);
    }
    subscription.entries.clear();
    const group = subscription.group;
    if (group) {
      subscription.group = null;
      group.subscribers.delete(subscription);
      this.dropGroupIfUnused(group);
    }
    this.dropTenantIfUnused(subscription.tenant);
  }

  // ---------------------------------------------------------------------------------------------
  // Dropping what nothing uses any more

  /** Drops the entry when no subscriber, `watch` or group of the tenant uses it. */
  dropAssetIfUnused(entry: AssetEntry): void {
    if (entry.subscribers.size > 0 || entry.holds > 0) return;
    const tenant = entry.tenant;
    if (!entry.gone && entry.groupId !== null) {
      if (tenant.groups.get(entry.groupId)?.known.has(entry.id)) return;
    }
    if (tenant.assets.get(entry.id) !== entry) return;
    tenant.assets.delete(entry.id);
    entry.loading?.abort();
    this.stopPolling(entry);
  }

  /** Drops the group (and the assets only it used) when no subscriber or `watch` uses it. */
  dropGroupIfUnused(group: GroupEntry): void {
    if (group.subscribers.size > 0 || group.holds > 0) return;
    const tenant = group.tenant;
    if (tenant.groups.get(group.id) !== group) return;
    tenant.groups.delete(group.id);
    group.loading?.abort();
    this.stopPolling(group);
    for (const id of group.known) {
      const entry = tenant.assets.get(id);
      if (entry) this.dropAssetIfUnused(entry);
    }
  }

  /** Drops a group whose first read failed, with the assets it had started to know. */
  dropUnloadedGroup(group: GroupEntry): void {
    const tenant = group.tenant;
    if (group.loaded || tenant.groups.get(group.id) !== group) return;
    tenant.groups.delete(group.id);
    for (const id of group.known) {
      const entry = tenant.assets.get(id);
      if (entry) this.dropAssetIfUnused(entry);
    }
    group.known.clear();
  }

  private dropTenantIfUnused(tenant: Tenant): void {
    if (tenant.pending > 0 || tenant.assets.size > 0 || tenant.groups.size > 0) return;
    if (this.tenantsByKey.get(tenant.key) !== tenant) return;
    this.tenantsByKey.delete(tenant.key);
    tenant.released = true;
    tenant.channel
      ?.then((unsubscribe) => unsubscribe())
      .catch((error: unknown) =>
        this.options.logger.warn(
          { err: error, credential: tenant.key },
          'status: unsubscribe failed',
        ),
      );
  }

  // ---------------------------------------------------------------------------------------------
  // Leases

  /** What this instance may poll: every pollable asset and loaded group, with its lease key. */
  leaseTargets(): LeaseTarget[] {
    const out: LeaseTarget[] = [];
    for (const tenant of this.tenantsByKey.values()) {
      for (const entry of tenant.assets.values()) {
        if (pollable(entry)) out.push({ key: leaseKey(entry), target: entry });
      }
      for (const group of tenant.groups.values()) {
        if (group.loaded) out.push({ key: leaseKey(group), target: group });
      }
    }
    return out;
  }

  /**
   * Marks each target `held` or not after a claim. A lease won for a target no longer wanted
   * (dropped or turned final while the claim ran) goes straight to `onUnpolled`.
   */
  markHeld(targets: readonly LeaseTarget[], held: ReadonlySet<string>): void {
    for (const { key, target } of targets) {
      const isHeld = held.has(key);
      const stillWanted = isGroup(target)
        ? target.tenant.groups.get(target.id) === target
        : target.tenant.assets.get(target.id) === target && pollable(target);
      if (isHeld && !stillWanted) {
        target.held = false;
        this.options.onUnpolled(key);
        continue;
      }
      if (!isHeld && !isGroup(target)) {
        // Another instance polls it now: this one's failure record no longer applies.
        target.failingSince = null;
        target.staleAnnounced = false;
      }
      target.held = isHeld;
    }
  }

  /** Marks nothing held any more and returns the keys of the leases that were (for stopping). */
  takeHeld(): string[] {
    const held: string[] = [];
    for (const tenant of this.tenantsByKey.values()) {
      for (const target of [...tenant.assets.values(), ...tenant.groups.values()]) {
        if (target.held) held.push(leaseKey(target));
        target.held = false;
      }
    }
    return held;
  }

  /** Asset entries over every tenant (watched, or being read for a `watch`). */
  countAssets(): number {
    let count = 0;
    for (const tenant of this.tenantsByKey.values()) count += tenant.assets.size;
    return count;
  }

  countHeld(): number {
    let held = 0;
    for (const tenant of this.tenantsByKey.values()) {
      for (const entry of tenant.assets.values()) if (entry.held) held++;
      for (const group of tenant.groups.values()) if (group.held) held++;
    }
    return held;
  }

  /** Cancels every initial read still running (stopping), with `reason`. */
  abortLoads(reason: unknown): void {
    for (const tenant of this.tenantsByKey.values()) {
      for (const target of [...tenant.assets.values(), ...tenant.groups.values()]) {
        target.loading?.abort(reason);
      }
    }
  }

  /** Forgets every tenant (stopping) and returns their channels, to unsubscribe. */
  clear(): Array<Promise<() => Promise<void>> | null> {
    const channels = this.tenants().map((tenant) => {
      tenant.released = true;
      return tenant.channel;
    });
    this.tenantsByKey.clear();
    return channels;
  }
}
