/**
 * The per-client request rate: a token bucket per key (a principal id or an IP address) that
 * holds `burst` tokens and refills at `perMinute / 60` tokens a second; each request takes one.
 * In memory for one instance, or in Redis (one Lua script, Redis's clock) for several.
 */
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RateLimitDecision {
  allowed: boolean;
  /** Whole seconds until a token is available; 0 when allowed. */
  retryAfterSeconds: number;
}

export interface RateLimiter {
  /**
   * Takes one token from `key`'s bucket, sized by `bucket` (the limiter's own options when
   * absent; one key is always taken with the same sizes). Resolves, never rejects.
   */
  take(key: string, bucket?: TokenBucketOptions): Promise<RateLimitDecision>;
}

export interface TokenBucketOptions {
  /** Tokens added per minute (> 0). */
  perMinute: number;
  /** The bucket's size: how many requests may come at once. */
  burst: number;
}

const ALLOWED: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

function denied(waitMs: number): RateLimitDecision {
  return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(waitMs / 1000)) };
}

export interface MemoryRateLimiterOptions extends TokenBucketOptions {
  /**
   * The clock, in milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Above this many buckets, full ones (clients idle long enough) are dropped, then the least
   * recently used, so that inventing keys cannot grow memory without bound (the per-address
   * bucket still holds those clients back).
   * @default 10000
   */
  maxKeys?: number;
  /**
   * How often (at most) a take first drops the buckets that are full again (clients idle long
   * enough), oldest first, so that memory goes back down after a burst of new keys.
   * @default 1000
   */
  sweepIntervalMs?: number;
}

interface MemoryBucket {
  tokens: number;
  at: number;
  readonly perMs: number;
  readonly burst: number;
}

export function createMemoryRateLimiter(
  options: MemoryRateLimiterOptions,
): RateLimiter & { /** How many buckets it holds now. */ readonly size: number } {
  const now = options.now ?? Date.now;
  const maxKeys = options.maxKeys ?? 10_000;
  // In order of last use: a `Map` keeps insertion order, and a take re-inserts.
  const buckets = new Map<string, MemoryBucket>();
  const sweepIntervalMs = options.sweepIntervalMs ?? 1000;
  let lastSweep = now();

  const level = (bucket: MemoryBucket, t: number) =>
    Math.min(bucket.burst, bucket.tokens + Math.max(0, t - bucket.at) * bucket.perMs);

  function prune(t: number): void {
    for (const [key, bucket] of buckets) if (level(bucket, t) >= bucket.burst) buckets.delete(key);
    for (const key of buckets.keys()) {
      if (buckets.size < maxKeys) break;
      buckets.delete(key);
    }
  }

  /** Least recently used first: stops at the first bucket still in use, so it costs little. */
  function sweep(t: number): void {
    lastSweep = t;
    for (const [key, bucket] of buckets) {
      if (level(bucket, t) < bucket.burst) break;
      buckets.delete(key);
    }
  }

  return {
    get size() {
      return buckets.size;
    },
    async take(key, sizes = options) {
      const t = now();
      if (t - lastSweep >= sweepIntervalMs) sweep(t);
      let bucket = buckets.get(key);
      if (bucket === undefined) {
        if (buckets.size >= maxKeys) prune(t);
        bucket = {
          tokens: sizes.burst,
          at: t,
          perMs: sizes.perMinute / 60_000,
          burst: sizes.burst,
        };
      }
      buckets.delete(key);
      buckets.set(key, bucket);
      bucket.tokens = level(bucket, t);
      bucket.at = t;
      if (bucket.tokens >= 1) {
        bucket.tokens -= 1;
        return ALLOWED;
      }
      return denied((1 - bucket.tokens) / bucket.perMs);
    },
  };
}

/**
 * KEYS[1] the bucket; ARGV: tokens per ms, burst. Returns {allowed (0/1), ms to wait}. Uses the
 * Redis server's clock, so instances with skewed clocks agree.
 */
const TAKE_SCRIPT = `
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1])
local at = tonumber(b[2])
if tokens == nil or at == nil then
  tokens = burst
  at = now
end
tokens = math.min(burst, tokens + math.max(0, now - at) * rate)
local allowed = 0
local wait = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
else
  wait = math.ceil((1 - tokens) / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil(burst / rate) + 1000)
return {allowed, wait}
`;

export interface RedisRateLimiterOptions extends TokenBucketOptions {
  /** A connected ioredis client; the limiter does not close it. */
  redis: Redis;
  /**
   * Prefix of every bucket key.
   * @default 'avatar-gateway:ratelimit:'
   */
  keyPrefix?: string;
  /** Told when Redis fails; the request is then let through (the limit fails open). */
  logger?: Logger;
}

export function createRedisRateLimiter(options: RedisRateLimiterOptions): RateLimiter {
  const prefix = options.keyPrefix ?? 'avatar-gateway:ratelimit:';
  return {
    async take(key, sizes = options) {
      try {
        const [allowed, wait] = (await options.redis.eval(
          TAKE_SCRIPT,
          1,
          prefix + key,
          String(sizes.perMinute / 60_000),
          String(sizes.burst),
        )) as [number, number];
        return allowed === 1 ? ALLOWED : denied(wait);
      } catch (error) {
        // A Redis outage must not take the gateway down with it.
        options.logger?.warn(
          { err: error },
          'rate limit: Redis failed; letting the request through',
        );
        return ALLOWED;
      }
    },
  };
}
