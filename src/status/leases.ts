/**
 * The poll-lease protocol: which instance reads an asset or a group. Every iteration claims (or
 * renews) the leases of what subscribers here watch and is pollable; only the holder reads and
 * publishes. Releases are batched in a microtask; `stop({ releaseLeases: false })` keeps them,
 * leaving them to expire as a crashed instance would.
 */
import type { Logger } from 'pino';
import type { StatusBroker } from './broker/broker.js';
import { pollable, type AssetEntry, type GroupEntry, type Tenant } from './registry.js';

export function leaseKey(target: AssetEntry | GroupEntry): string {
  return 'known' in target
    ? `${target.tenant.key}:g:${target.id}`
    : `${target.tenant.key}:a:${target.id}`;
}

export class LeaseKeeper {
  private queue: string[] = [];
  private scheduled = false;
  /** Leases are left to expire instead of being released (set when stopping). */
  keep = false;

  constructor(
    private readonly broker: StatusBroker,
    private readonly instanceId: string,
    private readonly ttlMs: number,
    private readonly logger: Pick<Logger, 'warn' | 'error'>,
  ) {}

  /** Stops polling `target` here, releasing its lease if this instance held it. */
  stopPolling(target: AssetEntry | GroupEntry): void {
    if (!target.held) return;
    target.held = false;
    this.release(leaseKey(target));
  }

  /**
   * Claims (or renews) the leases of every pollable asset and loaded group, and marks each
   * target `held` or not. A lease won for a target no longer wanted is released again.
   */
  async claim(tenants: Iterable<Tenant>): Promise<void> {
    const keys: string[] = [];
    const targets: Array<AssetEntry | GroupEntry> = [];
    for (const tenant of tenants) {
      for (const entry of tenant.assets.values()) {
        if (!pollable(entry)) continue;
        keys.push(leaseKey(entry));
        targets.push(entry);
      }
      for (const group of tenant.groups.values()) {
        if (!group.loaded) continue;
        keys.push(leaseKey(group));
        targets.push(group);
      }
    }
    if (keys.length === 0) return;
    let held: Set<string>;
    try {
      held = await this.broker.leases.claim(this.instanceId, keys, this.ttlMs);
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
          : target.tenant.assets.get(target.id) === target && pollable(target);
      if (isHeld && !stillWanted) {
        target.held = false;
        this.release(key);
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

  /** Forgets every lease held here (marking nothing held) and returns their keys. */
  takeHeld(tenants: Iterable<Tenant>): string[] {
    const held: string[] = [];
    for (const tenant of tenants) {
      for (const entry of tenant.assets.values()) {
        if (entry.held) held.push(leaseKey(entry));
        entry.held = false;
      }
      for (const group of tenant.groups.values()) {
        if (group.held) held.push(leaseKey(group));
        group.held = false;
      }
    }
    return held;
  }

  /** Releases `keys` now, with whatever releases are queued. */
  async releaseNow(keys: readonly string[]): Promise<void> {
    this.queue.push(...keys);
    await this.flush();
  }

  /** Drops queued releases (the leases expire instead). */
  forget(): void {
    this.queue = [];
  }

  private release(key: string): void {
    if (this.keep) return;
    this.queue.push(key);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    const keys = this.queue;
    this.queue = [];
    if (keys.length === 0 || this.keep) return;
    try {
      await this.broker.leases.release(this.instanceId, keys);
    } catch (error) {
      this.logger.warn({ err: error }, 'status: releasing leases failed');
    }
  }
}
