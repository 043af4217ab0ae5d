/**
 * One upstream budget across instances: the pacing buckets, and any other per-credential budget
 * (the verification pollers'), kept in Redis (`redis-buckets.ts`) so that N gateway instances
 * together stay under the upstream's per-account rates instead of N times them.
 *
 * Redis is a help, never a gate: when it fails, pacing falls back to this process's buckets
 * (`Pacer`) and a shared budget lets the call through (the local one still applies), with one
 * warning per outage.
 */
import type { UpstreamLogger } from './transport.js';
import {
  bucketKey,
  Pacer,
  UNPACED,
  type CallPacer,
  type RateLimit,
  type Reservation,
} from './pacer.js';
import { RedisTokenBuckets, type RedisCommands } from './redis-buckets.js';

/** Where the shared buckets live. */
export interface SharedPacingOptions {
  /** The gateway's Redis commands connection; not closed here. */
  redis: RedisCommands;
  /** Prefix of every bucket key (the gateway passes `REDIS_KEY_PREFIX` + `pace:`). */
  keyPrefix: string;
}

/** Warns once when Redis starts failing, and again only after it has worked in between. */
class OutageNote {
  private failing = false;

  constructor(
    private readonly logger: UpstreamLogger | undefined,
    private readonly what: string,
  ) {}

  failed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    this.logger?.warn({ err: error }, `${this.what}: Redis failed; using this process's budget`);
  }

  worked(): void {
    this.failing = false;
  }
}

/** `Pacer`'s buckets, shared through Redis; the in-memory `Pacer` while Redis fails. */
export class SharedPacer implements CallPacer {
  private readonly limits: Readonly<Record<string, RateLimit | null | undefined>>;
  private readonly buckets: RedisTokenBuckets;
  private readonly fallback: Pacer;
  private readonly outage: OutageNote;

  constructor(
    options: SharedPacingOptions & {
      limits: Readonly<Record<string, RateLimit | null | undefined>>;
      now: () => number;
      logger?: UpstreamLogger;
    },
  ) {
    this.buckets = new RedisTokenBuckets(options.redis, options.keyPrefix);
    this.fallback = new Pacer({ limits: options.limits, now: options.now });
    this.outage = new OutageNote(options.logger, 'upstream pacing');
    this.limits = options.limits;
  }

  async reserve(credential: string, action: string): Promise<Reservation> {
    const limit = this.limits[action];
    if (!limit) return UNPACED;
    const key = bucketKey(credential, action);
    let waitMs: number;
    try {
      waitMs = await this.buckets.take(key, limit);
    } catch (error) {
      this.outage.failed(error);
      return this.fallback.reserve(credential, action);
    }
    this.outage.worked();
    let cancelled = false;
    return {
      waitMs,
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        // A lost give-back only makes the next callers wait a little longer.
        this.buckets.giveBack(key, limit).catch(() => undefined);
      },
    };
  }
}

/** A per-key budget of calls per second, shared by every instance on the Redis. */
export interface SharedBudget {
  /**
   * Takes one call from `key`'s budget of `perSecond`; resolves with the ms to wait before
   * making it (0 when Redis fails). Never rejects.
   */
  take(key: string, action: string, perSecond: number): Promise<number>;
}

export function createSharedBudget(
  options: SharedPacingOptions & { logger?: UpstreamLogger },
): SharedBudget {
  const buckets = new RedisTokenBuckets(options.redis, options.keyPrefix);
  const outage = new OutageNote(options.logger, 'shared budget');
  return {
    async take(key, action, perSecond) {
      try {
        const waitMs = await buckets.take(`${key}:${action}`, {
          requests: perSecond,
          per: 'second',
          // At least one call may go at once, as in the in-memory budgets.
          burst: Math.max(1, perSecond),
        });
        outage.worked();
        return waitMs;
      } catch (error) {
        outage.failed(error);
        return 0;
      }
    },
  };
}
