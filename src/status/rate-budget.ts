/**
 * A token bucket per upstream action, for one credential. Each bucket holds at most one
 * second of calls (at least one call) and refills continuously; an upstream `RATE_LIMITED`
 * answer pauses the action until its `Retry-After`. The actions and their rates are the
 * caller's (for the watcher, its `StatusSource`'s).
 */

interface Bucket {
  tokens: number;
  at: number;
  pausedUntil: number;
}

export class RateBudget<A extends string = string> {
  private readonly buckets = new Map<A, Bucket>();

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
