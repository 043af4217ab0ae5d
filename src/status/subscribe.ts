/**
 * Subscribing: checking a watch target, finding or creating the tenant, its channel and the
 * entries a watch needs, reading their initial state (coalesced across concurrent watches), and
 * attaching a subscription to its entries — or detaching it — with its first events.
 */
import { UpstreamError } from '../upstream/errors.js';
import type { Asset } from '../upstream/port.js';
import { diffAsset, isFinal } from './diff.js';
import { InvalidWatchTargetError, type WatchTarget } from './events.js';
import { onMessage, publish, push, staleEvent } from './fanout.js';
import { RateBudget } from './rate-budget.js';
import { initialRead } from './reads.js';
import {
  credentialKey,
  newAssetEntry,
  newGroupEntry,
  PAGE_SIZE,
  releaseAssetIfUnused,
  releaseGroupIfUnused,
  releaseTenantIfUnused,
  setBasis,
  setFirstState,
  WatchSubscription,
  type AssetEntry,
  type GroupEntry,
  type Tenant,
  type WatcherCore,
} from './registry.js';

export function validate(
  w: WatcherCore,
  target: WatchTarget,
): { credential: string; assetIds: string[]; groupId: string | undefined } {
  if (typeof target.credential !== 'string' || target.credential === '') {
    throw new UpstreamError('UNAUTHENTICATED', 'Missing credential.');
  }
  const assetIds = [...new Set(target.assetIds ?? [])];
  if (assetIds.some((id) => typeof id !== 'string' || id.trim() === '')) {
    throw new InvalidWatchTargetError('Asset ids must be non-empty strings.', 'assetIds');
  }
  if (assetIds.length > w.settings.maxAssetIds) {
    throw new InvalidWatchTargetError(
      `At most ${w.settings.maxAssetIds} asset ids can be watched at once.`,
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

export function tenantFor(w: WatcherCore, credential: string): Tenant {
  const key = credentialKey(credential);
  let tenant = w.tenants.get(key);
  if (!tenant) {
    tenant = {
      key,
      credential,
      assets: new Map(),
      groups: new Map(),
      budget: new RateBudget(w.settings.rateLimits, w.now),
      processingByGroup: new Map(),
      pending: 0,
      channel: null,
      released: false,
    };
    w.tenants.set(key, tenant);
  }
  return tenant;
}

export function ensureChannel(w: WatcherCore, tenant: Tenant): Promise<() => Promise<void>> {
  if (!tenant.channel) {
    const channel = w.broker.pubsub.subscribe(tenant.key, (message) =>
      onMessage(w, tenant, message),
    );
    tenant.channel = channel;
    channel.catch(() => {
      if (tenant.channel === channel) tenant.channel = null;
    });
  }
  return tenant.channel;
}

/** The asset's entry, held for a `watch` (its initial read started if needed). */
export function holdAsset(w: WatcherCore, tenant: Tenant, id: string): AssetEntry {
  let entry = tenant.assets.get(id);
  if (!entry) {
    entry = newAssetEntry(w, tenant, id);
    tenant.assets.set(id, entry);
  }
  if (entry.current === null && entry.load === null && !entry.gone) {
    entry.load = loadAsset(w, entry);
  }
  entry.holds++;
  return entry;
}

/** The group's entry, held for a `watch` (its initial read started if new). */
export function holdGroup(w: WatcherCore, tenant: Tenant, id: string): GroupEntry {
  let group = tenant.groups.get(id);
  if (!group) {
    group = newGroupEntry(w, tenant, id);
    tenant.groups.set(id, group);
    group.load = loadGroup(w, group);
  }
  group.holds++;
  return group;
}

function loadAsset(w: WatcherCore, entry: AssetEntry): Promise<void> {
  const tenant = entry.tenant;
  const load: Promise<void> = initialRead(w, tenant, 'GetAsset', (options) =>
    w.upstream.getAsset(options, entry.id),
  ).then(
    (asset) => {
      if (entry.load === load) entry.load = null;
      applyRead(w, entry, asset);
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

function loadGroup(w: WatcherCore, group: GroupEntry): Promise<void> {
  const tenant = group.tenant;
  const load: Promise<void> = (async () => {
    await initialRead(w, tenant, 'GetAssetGroup', (options) =>
      w.upstream.getGroup(options, group.id),
    );
    const listed: Asset[] = [];
    let pages = 1;
    for (let page = 1; page <= pages; page++) {
      const result = await initialRead(w, tenant, 'ListAssets', (options) =>
        w.upstream.listAssets(options, { groupIds: [group.id], page, pageSize: PAGE_SIZE }),
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
        entry = newAssetEntry(w, tenant, asset.id);
        tenant.assets.set(asset.id, entry);
      }
      if (!entry.gone) applyRead(w, entry, asset);
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
          if (entry) releaseAssetIfUnused(w, entry);
        }
        group.known.clear();
      }
      throw error;
    },
  );
  load.catch(() => undefined);
  return load;
}

/**
 * An answer read outside the loop (initial state). A first answer becomes the entry's state
 * silently (nobody here has seen the asset); a change to a known asset is published like a
 * poll's.
 */
function applyRead(w: WatcherCore, entry: AssetEntry, asset: Asset): void {
  if (entry.current === null) {
    setFirstState(w, entry, asset);
    return;
  }
  if (entry.basis && !diffAsset(entry.basis, asset)) return;
  if (!diffAsset(entry.current, asset)) return;
  const revert = setBasis(entry, asset);
  void publish(w, entry.tenant, [{ kind: 'status', asset }], [revert]);
}

/**
 * A new subscription to `entries` and `group`, with the first event of each asset queued (and a
 * `stale` one for those known to be stale).
 */
export function attach(
  w: WatcherCore,
  tenant: Tenant,
  entries: readonly AssetEntry[],
  group: GroupEntry | null,
  signal: AbortSignal | undefined,
): WatchSubscription {
  const subscription = new WatchSubscription(tenant, (s) => detach(w, s), signal);
  w.subscriptions.add(subscription);
  const sent = new Set<string>();
  const stale: AssetEntry[] = [];
  const open = group ? null : new Set<string>();
  const first = (entry: AssetEntry) => {
    sent.add(entry.id);
    push(w, subscription, { kind: 'status', asset: entry.current!, previousStatus: null });
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
  if (stale.length > 0) push(w, subscription, staleEvent(stale));
  subscription.open = open;
  if (open && open.size === 0) subscription.finish();
  return subscription;
}

function detach(w: WatcherCore, subscription: WatchSubscription): void {
  w.subscriptions.delete(subscription);
  for (const entry of subscription.entries) {
    entry.subscribers.delete(subscription);
    releaseAssetIfUnused(w, entry);
  }
  subscription.entries.clear();
  const group = subscription.group;
  if (group) {
    subscription.group = null;
    group.subscribers.delete(subscription);
    releaseGroupIfUnused(w, group);
  }
  releaseTenantIfUnused(w, subscription.tenant);
}

export function notFound(assetId: string): UpstreamError {
  return new UpstreamError('NOT_FOUND', `The specified asset ${assetId} is not found.`, {
    upstreamCode: 'NotFound.asset_id',
  });
}
