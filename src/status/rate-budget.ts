/**
 * A token bucket per upstream action, for one credential. Each bucket holds at most one
 * second of calls (at least one call) and refills continuously; an upstream `RATE_LIMITED`
 * answer pauses the action until its `Retry-After`. The actions and their rates are the
 * caller's (for the watcher, its `StatusSource`'s).
 *
 * Callers that must wait for a token (`take`) queue per action, first come first served: only
 * the head of the line sleeps on the bucket, so thousands of waiters cost one timer per token,
 * not one wake-up each per token.
 */
import type { Sleep } from '../util/time.js';
import { abortable } from '../util/time.js';

interface Bucket {
  tokens: number;
  at: number;
  pausedUntil: number;
}

export class RateBudget<A extends string = string> {
  private readonly buckets = new Map<A, Bucket>();
  /** Per action, the turn of the last caller in `take`'s line: it settles when that one is done. */
  private readonly lines = new Map<A, Promise<void>>();

  constructor(
    private readonly limits: Readonly<Record<A, number>>,
    private readonly now: () => number,
  ) {}

  /** Takes a token when one is available now. */
  tryTake(action: A): boolean {
    const bucket = this.refill(action);
    if (bucket.tokens < 1) return false;
    bucket.tokens -= 1;
    return true;
  }

  /**
   * Takes a token for `action`, waiting in line for one. Rejects with `signal`'s reason as soon
   * as it aborts; an aborted caller leaves the line without taking a token.
   * @param sleep waits between checks of the bucket (it may resolve early when `signal` aborts).
   */
  async take(action: A, signal: AbortSignal, sleep: Sleep): Promise<void> {
    const before = this.lines.get(action) ?? Promise.resolve();
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    this.lines.set(action, turn);
    try {
      await abortable(before, signal);
      for (;;) {
        signal.throwIfAborted();
        const wait = this.waitFor(action);
        if (wait === 0 && this.tryTake(action)) return;
        await sleep(Math.max(1, wait), signal);
      }
    } finally {
      // The next caller's turn comes once everyone before it is done, whatever this one did.
      void before.then(() => {
        done();
        if (this.lines.get(action) === turn) this.lines.delete(action);
      });
    }
  }

  /** Milliseconds until a token will be available (0 when one is). */
  waitFor(action: A): number {
    const bucket = this.refill(action);
    const at = this.now();
    if (bucket.pausedUntil > at) return bucket.pausedUntil - at;
    if (bucket.tokens >= 1) return 0;
    return Math.ceil(((1 - bucket.tokens) * 1000) / this.limits[action]);
  }

  /** No token for `action` before `until` (epoch ms). */
  pause(action: A, until: number): void {
    const bucket = this.refill(action);
    bucket.pausedUntil = Math.max(bucket.pausedUntil, until);
    bucket.tokens = Math.min(bucket.tokens, 0);
  }

  private refill(action: A): Bucket {
    const at = this.now();
    const rate = this.limits[action];
    const capacity = Math.max(1, rate);
    let bucket = this.buckets.get(action);
    if (!bucket) {
      bucket = { tokens: capacity, at, pausedUntil: 0 };
      this.buckets.set(action, bucket);
      return bucket;
    }
    if (at < bucket.pausedUntil) {
      bucket.at = at;
      return bucket;
    }
    const from = Math.max(bucket.at, bucket.pausedUntil);
    bucket.tokens = Math.min(capacity, bucket.tokens + ((at - from) * rate) / 1000);
    bucket.at = at;
    return bucket;
  }
}
