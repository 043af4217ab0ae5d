/**
 * Delivery on this instance: what arrives on a tenant's bus channel (from any instance, this one
 * included) updates the registry's entries and becomes `StatusEvent`s for the subscribers here,
 * each change once (diffed against what they were sent), one event per asset, each carrying the
 * asset as they know it. Fan-out only: nothing here reads upstream or publishes.
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
    for (const item of items) {
      if (tenant.released) return;
      if (item.kind === 'status') this.applyStatus(tenant, item.asset);
      else if (item.kind === 'deleted') this.applyDeleted(tenant, item.assetId);
      else this.applyNotice(tenant, item);
    }
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

  /** The asset no longer exists: its last event, to everyone who was shown it here. */
  applyDeleted(tenant: Tenant, assetId: string): void {
    const entry = tenant.assets.get(assetId);
    if (!entry || entry.gone) return;
    const to = entry.current === null ? [] : recipients(entry);
    entry.gone = true;
    const group = entry.groupId === null ? undefined : tenant.groups.get(entry.groupId);
    group?.known.delete(assetId);
    if (entry.current !== null) {
      const event: StatusEvent = { kind: 'deleted', asset: entry.current };
      for (const subscription of to) this.push(subscription, event);
    }
    this.deps.registry.stopPolling(entry);
    for (const subscription of [...entry.subscribers]) settle(subscription, assetId);
    this.deps.registry.dropAssetIfUnused(entry);
  }

  /**
   * The asset could not be read for a while, or can be again: an event to everyone who was shown
   * it here. A `recovered` notice for an asset not known to be stale here says nothing new.
   */
  applyNotice(tenant: Tenant, item: Extract<BusItem, { kind: 'stale' | 'recovered' }>): void {
    const entry = tenant.assets.get(item.assetId);
    if (!entry || entry.gone || entry.current === null) return;
    let event: StatusEvent;
    if (item.kind === 'stale') {
      entry.stale = { since: item.since, reason: item.reason };
      event = staleEvent(entry);
    } else {
      if (!entry.stale) return;
      entry.stale = null;
      event = { kind: 'recovered', asset: entry.current };
    }
    for (const subscription of recipients(entry)) this.push(subscription, event);
  }

  push(subscription: WatchSubscription, event: StatusEvent): void {
    if (!subscription.isOpen) return;
    this.deps.totals.eventsTotal++;
    subscription.push(event);
  }
}

/** The `stale` event of an entry that has a state and is known to be stale. */
export function staleEvent(entry: AssetEntry): StatusEvent {
  return {
    kind: 'stale',
    asset: entry.current!,
    since: new Date(entry.stale!.since),
    reason: entry.stale!.reason,
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
