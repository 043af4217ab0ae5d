/**
 * The poll-lease protocol, over plain string keys: which instance reads an asset or a group.
 * Every iteration claims (or renews) the leases of what subscribers here watch; only the holder
 * reads and publishes. Releases are batched in a microtask; `keep` (set by
 * `stop({ releaseLeases: false })`) leaves them to expire, as a crashed instance would.
 * Which keys to claim, and what holding one means for an entry, is the registry's business.
 */
import type { LoopLogger } from '../util/time.js';
import type { Leases } from './broker/broker.js';

export class LeaseKeeper {
  private queue: string[] = [];
  private scheduled = false;
  /** Leases are left to expire instead of being released (set when stopping). */
  keep = false;

  constructor(
    private readonly leases: Leases,
    private readonly instanceId: string,
    private readonly ttlMs: number,
    private readonly logger: LoopLogger,
  ) {}

  /**
   * Claims (or renews) `keys`; resolves with those this instance holds afterwards, or `null`
   * when the broker failed: without leases nobody knows who polls, so nothing is polled here
   * until the broker is back.
   */
  async claim(keys: readonly string[]): Promise<Set<string> | null> {
    if (keys.length === 0) return new Set();
    try {
      return await this.leases.claim(this.instanceId, keys, this.ttlMs);
    } catch (error) {
      this.logger.warn({ err: error }, 'status: claiming leases failed');
      return null;
    }
  }

  /** Releases `key` soon, with the other releases of this turn. */
  release(key: string): void {
    if (this.keep) return;
    this.queue.push(key);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => void this.flush());
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

  private async flush(): Promise<void> {
    this.scheduled = false;
    const keys = this.queue;
    this.queue = [];
    if (keys.length === 0 || this.keep) return;
    try {
      await this.leases.release(this.instanceId, keys);
    } catch (error) {
      this.logger.warn({ err: error }, 'status: releasing leases failed');
    }
  }
}
