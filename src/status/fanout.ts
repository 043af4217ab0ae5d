/**
 * Delivery on this instance: what arrives on a tenant's bus channel (from any instance, this one
 * included) updates the registry's entries and becomes events for the subscribers here, each
 * change once (diffed against what they were sent). Fan-out only: nothing here reads upstream
 * or publishes.
 */
import type { Asset } from '../upstream/port.js';
import type { LoopLogger } from '../util/time.js';
import { decodeItems, type BusItem } from './bus-codec.js';
import { diffAsset, isFinal } from './diff.js';
import type { StatusEvent } from './events.js';
import {
  settle,
  type AssetEntry,
  type Registry,
  type Tenant,
  type WatchSubscription,
} from './registry.js';
import type { Totals } from './settings.js';

export interface FanoutDeps {
  readonly registry: Registry;
  readonly logger: LoopLogger;
  readonly totals: Pick<Totals, 'eventsTotal'>;
}

export class Fanout {
  constructor(private readonly deps: FanoutDeps) {}

  /** A message from the tenant's channel: a batch of bus items, delivered in order. */
  receive(tenant: Tenant, message: string): void {
    if (tenant.released) return;
    let items: BusItem[];
    try {
      items = decodeItems(message);
    } catch (error) {
      this.deps.logger.warn(
        { err: error, credential: tenant.key },
        'status: dropped a bad message',
      );
      return;
    }
    this.deliver(tenant, items);
  }

  /** Bus items, delivered in order: as received, or made here when the bus cannot carry them. */
  deliver(tenant: Tenant, items: readonly BusItem[]): void {
    if (tenant.released) return;
    // Stale and recovered notices are gathered per subscriber, one event each, in order.
    let notice = null as {
      kind: 'stale' | 'recovered';
      bySubscriber: Map<WatchSubscription, AssetEntry[]>;
    } | null;
    const flush = () => {
      if (!notice) return;
      for (const [subscription, entries] of notice.bySubscriber) {
        const assetIds = entries.map((entry) => entry.id);
        if (notice.kind === 'recovered') this.push(subscription, { kind: 'recovered', assetIds });
        else this.push(subscription, staleEvent(entries));
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
      for (const subscription of recipients(entry)) {
        const list = notice.bySubscriber.get(subscription);
        if (list) list.push(entry);
        else notice.bySubscriber.set(subscription, [entry]);
      }
    }
    flush();
  }

  /**
   * The asset as last read: a change for its subscribers here, or new to a group watched here.
   * A final state stops polling it here and ends direct subscriptions whose last asset it was.
   */
  applyStatus(tenant: Tenant, asset: Asset): void {
    const { registry } = this.deps;
    const group = tenant.groups.get(asset.groupId);
    let entry = tenant.assets.get(asset.id);
    if (!entry) {
      if (!group) return;
      entry = registry.addAsset(tenant, asset.id);
    }
    if (entry.gone) return;
    if (entry.basis === null || diffAsset(entry.basis, asset)) entry.basis = asset;
    const change = diffAsset(entry.current, asset);
    if (change) {
      if (entry.current === null) registry.setFirstState(entry, asset);
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
      for (const subscription of direct) this.push(subscription, change);
    }
    if (group) {
      const event: StatusEvent | null = newToGroup
        ? { kind: 'status', asset: current, previousStatus: null }
        : change;
      if (event) {
        for (const subscription of [...group.subscribers]) {
          if (!entry.subscribers.has(subscription)) this.push(subscription, event);
        }
      }
    }
    if (isFinal(current.status)) {
      registry.stopPolling(entry);
      for (const subscription of direct) settle(subscription, entry.id);
    }
  }

  /** The asset no longer exists: its last event, to everyone who watched it here. */
  applyDeleted(tenant: Tenant, assetId: string): void {
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
    for (const subscription of to) this.push(subscription, event);
    this.deps.registry.stopPolling(entry);
    for (const subscription of [...entry.subscribers]) settle(subscription, assetId);
    this.deps.registry.dropAssetIfUnused(entry);
  }

  push(subscription: WatchSubscription, event: StatusEvent): void {
    if (!subscription.isOpen) return;
    this.deps.totals.eventsTotal++;
    subscription.push(event);
  }
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
