/**
 * Delivery: publishing on a tenant's channel, and what every instance does with what arrives on
 * it — update its entries and push events to its own subscribers, each change once. Also the
 * resync after a broker reconnect, which delivers locally what the outage may have lost.
 */
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset } from '../upstream/port.js';
import { chunk, mapLimit } from '../util/map-limit.js';
import { diffAsset, isFinal } from './diff.js';
import type { StatusEvent } from './events.js';
import type { BudgetAction } from './rate-budget.js';
import { listPages, noteError } from './reads.js';
import {
  callOptions,
  MAX_GROUP_IDS,
  newAssetEntry,
  PAGE_SIZE,
  releaseAssetIfUnused,
  setFirstState,
  settle,
  type AssetEntry,
  type Counters,
  type Tenant,
  type WatchSubscription,
  type WatcherCore,
} from './registry.js';
import { decodeItems, encodeItems, type BusItem } from './bus-codec.js';

// -----------------------------------------------------------------------------------------------
// Publishing (the lease holder)

/**
 * Publishes `items` on the tenant's channel. When that fails, `reverts` undo the diff basis
 * updates, so that the next poll finds the changes again.
 */
export function publish(
  w: WatcherCore,
  tenant: Tenant,
  items: readonly BusItem[],
  reverts: ReadonlyArray<() => void> = [],
): Promise<void> {
  return w.broker.pubsub.publish(tenant.key, encodeItems(items)).catch((error: unknown) => {
    for (const revert of reverts) revert();
    w.logger.warn({ err: error, credential: tenant.key }, 'status: publish failed');
  });
}

// -----------------------------------------------------------------------------------------------
// Receiving (every instance, for its own subscribers)

export function onMessage(w: WatcherCore, tenant: Tenant, message: string): void {
  if (tenant.released) return;
  let items: BusItem[];
  try {
    items = decodeItems(message);
  } catch (error) {
    w.logger.warn({ err: error, credential: tenant.key }, 'status: dropped a bad message');
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
      if (notice.kind === 'recovered') push(w, subscription, { kind: 'recovered', assetIds });
      else push(w, subscription, staleEvent(entries));
    }
    notice = null;
  };
  for (const item of items) {
    if (item.kind === 'status' || item.kind === 'deleted') {
      flush();
      if (item.kind === 'status') applyStatus(w, tenant, item.asset);
      else applyDeleted(w, tenant, item.assetId);
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
    for (const subscription of recipients(entry)) {
      const list = notice.bySubscriber.get(subscription);
      if (list) list.push(entry);
      else notice.bySubscriber.set(subscription, [entry]);
    }
  }
  flush();
}

/** One `stale` event for `entries` (all with `stale` set): earliest `since`, first reason. */
export function staleEvent(entries: readonly AssetEntry[]): StatusEvent {
  return {
    kind: 'stale',
    assetIds: entries.map((entry) => entry.id),
    since: new Date(Math.min(...entries.map((entry) => entry.stale!.since))),
    reason: entries[0]!.stale!.reason,
  };
}

export function applyStatus(w: WatcherCore, tenant: Tenant, asset: Asset): void {
  const group = tenant.groups.get(asset.groupId);
  let entry = tenant.assets.get(asset.id);
  if (!entry) {
    if (!group) return;
    entry = newAssetEntry(w, tenant, asset.id);
    tenant.assets.set(asset.id, entry);
  }
  if (entry.gone) return;
  if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
  const change = diffAsset(entry.current, asset);
  if (change) {
    if (entry.current === null) setFirstState(w, entry, asset);
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
    for (const subscription of direct) push(w, subscription, event);
  }
  if (group) {
    const event: StatusEvent | null = newToGroup
      ? { kind: 'status', asset: current, previousStatus: null }
      : change
        ? { kind: 'status', asset, previousStatus: change.previousStatus }
        : null;
    if (event) {
      for (const subscription of [...group.subscribers]) {
        if (!entry.subscribers.has(subscription)) push(w, subscription, event);
      }
    }
  }
  if (isFinal(current.status)) {
    w.leases.stopPolling(entry);
    for (const subscription of direct) settle(subscription, entry.id);
  }
}

export function applyDeleted(w: WatcherCore, tenant: Tenant, assetId: string): void {
  const entry = tenant.assets.get(assetId);
  if (!entry || entry.gone) return;
  const to = recipients(entry);
  entry.gone = true;
  const group = entry.groupId === null ? undefined : tenant.groups.get(entry.groupId);
  group?.known.delete(assetId);
  const event: StatusEvent = {
    kind: 'deleted',
    assetId,
    groupId: entry.groupId,
    previousStatus: entry.current?.status ?? null,
  };
  for (const subscription of to) push(w, subscription, event);
  w.leases.stopPolling(entry);
  for (const subscription of [...entry.subscribers]) settle(subscription, assetId);
  releaseAssetIfUnused(w, entry);
}

/** Direct subscribers, then group subscribers (once each). */
function recipients(entry: AssetEntry): WatchSubscription[] {
  const out = [...entry.subscribers];
  if (entry.groupId === null) return out;
  const group = entry.tenant.groups.get(entry.groupId);
  if (!group || !group.known.has(entry.id)) return out;
  for (const subscription of group.subscribers) {
    if (!entry.subscribers.has(subscription)) out.push(subscription);
  }
  return out;
}

export function push(w: WatcherCore, subscription: WatchSubscription, event: StatusEvent): void {
  if (!subscription.isOpen) return;
  w.totals.eventsTotal++;
  subscription.push(event);
}

// -----------------------------------------------------------------------------------------------
// Resync after a broker reconnect

/**
 * After a broker outage: reads the tenant's watched groups (every asset in them) and each other
 * asset not final for its subscribers here, and delivers the differences locally, as if the
 * lost messages had arrived. Lease holders' diff bases move along (`applyStatus`), so nothing
 * is published twice. Resolves `false` when a read failed or found no budget: the next
 * iteration should try again.
 */
export async function resync(w: WatcherCore, tenant: Tenant, counters: Counters): Promise<boolean> {
  if (tenant.released) return true;
  const options = callOptions(w, tenant);
  const listed = new Set<string>();
  let action: BudgetAction = 'ListAssets';
  try {
    const groups = [...tenant.groups.values()].filter((group) => group.loaded);
    for (const batch of chunk(groups, MAX_GROUP_IDS)) {
      const { items, complete } = await listPages(
        w,
        tenant,
        options,
        { groupIds: batch.map((group) => group.id), page: 1, pageSize: PAGE_SIZE },
        counters,
      );
      for (const asset of items) {
        listed.add(asset.id);
        applyStatus(w, tenant, asset);
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
    await mapLimit(unsure, w.settings.concurrency, async (entry) => {
      if (!tenant.budget.tryTake('GetAsset')) throw new Error('no GetAsset budget');
      counters.GetAsset++;
      w.totals.pollsTotal++;
      try {
        applyStatus(w, tenant, await w.upstream.getAsset(options, entry.id));
      } catch (error) {
        if (!isUpstreamError(error) || error.code !== 'NOT_FOUND') throw error;
        applyDeleted(w, tenant, entry.id);
      }
    });
    return true;
  } catch (error) {
    if (w.stopped) return true;
    counters.errors++;
    noteError(w, tenant, action, error, true);
    return false;
  }
}
