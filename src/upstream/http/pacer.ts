/**
 * Client-side pacing: token buckets per (credential, action name), so that one credential stays
 * under each action's documented rate instead of provoking 429 storms. The rates are the
 * dialect's data (Ark's are `ark/actions.ts` `DEFAULT_RATE_LIMITS`); an action without a limit
 * is not paced. `Pacer` keeps the buckets in this process; `SharedPacer` (`shared-pacing.ts`)
 * keeps them in Redis, so that several processes together stay under the rate.
 */
import { hash } from 'node:crypto';

/** A rate: `requests` per `per`, with bursts up to `burst` (default: `requests`). */
export interface RateLimit {
  requests: number;
  per: 'second' | 'minute';
  burst?: number;
}

/** A reservation of one request slot. */
export interface Reservation {
  /** How long to wait before sending, in ms (0: send now). */
  waitMs: number;
  /** Gives the slot back, when the caller does not send after all. */
  cancel(): void;
}

/** Where the engine reserves its slots: in memory (`Pacer`) or shared (`SharedPacer`). */
export interface CallPacer {
  reserve(credential: string, action: string): Reservation | Promise<Reservation>;
}

/** The reservation of an action that is not paced. */
export const UNPACED: Reservation = { waitMs: 0, cancel: () => {} };

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    /** Tokens per ms. */
    readonly rate: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate);
    this.updatedAt = now;
  }

  /** Takes a token now, going into debt if needed: later callers queue behind earlier ones. */
  take(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.rate);
  }

  giveBack(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** A full bucket is the same as a new one, so dropping it loses nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }
}

export interface PacerOptions {
  /** Per action name; `null` or absent: not paced. */
  limits: Readonly<Record<string, RateLimit | null | undefined>>;
  now: () => number;
  /** How often idle (full) buckets are dropped. @default 60000 */
  sweepIntervalMs?: number;
}

/**
 * Delays calls so that one credential stays under the rate of each action. Buckets are keyed by
 * a hash of the credential (the key itself is never stored) and dropped once full, so idle
 * credentials cost nothing.
 */
export class Pacer implements CallPacer {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;
  private readonly sweepIntervalMs: number;

  constructor(private readonly options: PacerOptions) {
    this.lastSweep = options.now();
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  /** Number of live buckets (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  reserve(credential: string, action: string): Reservation {
    const limit = this.options.limits[action];
    const now = this.options.now();
    this.sweep(now);
    if (!limit) return UNPACED;
    const key = bucketKey(credential, action);
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const intervalMs = limit.per === 'second' ? 1_000 : 60_000;
      bucket = new TokenBucket(limit.burst ?? limit.requests, limit.requests / intervalMs, now);
      this.buckets.set(key, bucket);
    }
    const taken = bucket;
    let cancelled = false;
    return {
      waitMs: taken.take(now),
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        taken.giveBack();
      },
    };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}

/**
 * A bucket's key: a hash of the credential (never the key itself) and the action. One-shot
 * `hash`, as it runs on every upstream call.
 */
export function bucketKey(credential: string, action: string): string {
  return `${hash('sha256', credential, 'base64url').slice(0, 22)}:${action}`;
}
