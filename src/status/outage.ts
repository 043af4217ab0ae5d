/**
 * What subscribers here are told while the broker (Redis) is unreachable. Then nothing is polled
 * here (nobody knows who holds which lease) and nothing published arrives, so once the outage
 * has lasted `staleAfterMs` every not-final asset watched here gets a `stale` event (reason
 * `SERVICE_UNAVAILABLE`), delivered locally since the bus is down; `recovered` follows as soon as
 * the broker answers again, and the resync after its reconnect delivers what they missed.
 */
import type { BusItem } from './bus-codec.js';
import { isFinal } from './diff.js';
import type { Fanout } from './fanout.js';
import type { Registry } from './registry.js';

/** The `stale` reason of an outage of the broker: the `extensions.code` of its errors too. */
export const BROKER_OUTAGE_REASON = 'SERVICE_UNAVAILABLE';

export interface OutageDeps {
  readonly registry: Registry;
  readonly fanout: Fanout;
  readonly now: () => number;
  readonly staleAfterMs: number;
}

export class BrokerOutage {
  /** When the broker first failed in this outage; `null` while it answers. */
  private since: number | null = null;

  constructor(private readonly deps: OutageDeps) {}

  /**
   * The broker failed again. Past `staleAfterMs`, each not-final asset not yet stale gets its
   * `stale` event (on later calls, only assets subscribed to since).
   */
  failed(): void {
    const { registry, fanout, now, staleAfterMs } = this.deps;
    const at = now();
    this.since ??= at;
    if (at - this.since < staleAfterMs) return;
    for (const tenant of registry.tenants()) {
      const items: BusItem[] = [];
      for (const entry of tenant.assets.values()) {
        if (entry.gone || entry.stale || !entry.current || isFinal(entry.current.status)) continue;
        items.push({
          kind: 'stale',
          assetId: entry.id,
          since: entry.lastOkAt,
          reason: BROKER_OUTAGE_REASON,
        });
      }
      if (items.length > 0) fanout.deliver(tenant, items);
    }
  }

  /** The broker answers: `recovered` for what the outage made stale. */
  answered(): void {
    if (this.since === null) return;
    this.since = null;
    for (const tenant of this.deps.registry.tenants()) {
      const items: BusItem[] = [];
      for (const entry of tenant.assets.values()) {
        if (entry.stale?.reason === BROKER_OUTAGE_REASON) {
          items.push({ kind: 'recovered', assetId: entry.id });
        }
      }
      if (items.length > 0) this.deps.fanout.deliver(tenant, items);
    }
  }
}
