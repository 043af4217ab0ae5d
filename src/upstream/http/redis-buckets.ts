/**
 * Token buckets in Redis, one hash per key, updated by one atomic Lua script on the Redis
 * server's clock: every process that shares the Redis shares the buckets, whatever its own
 * clock says. Same semantics as the in-memory `Pacer`: a take goes into debt when the bucket is
 * empty and answers how long to wait, so callers queue behind earlier ones across processes.
 * Each key expires once its bucket would be full again, so idle credentials leave nothing behind.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { RateLimit } from './pacer.js';

/** The two commands the buckets use, as ioredis's `Redis` (the gateway's commands connection). */
export type RedisCommands = Pick<Redis, 'eval' | 'evalsha'>;

/**
 * KEYS[1] the bucket; ARGV: capacity, tokens per ms, cost (1 takes a token, -1 gives one back).
 * Returns the ms to wait before using the token taken (0: now). `TIME` inside a script needs
 * effect replication, the default since Redis 5.
 */
const SCRIPT = `
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local cost = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local b = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(b[1]) or capacity
local at = tonumber(b[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate - cost)
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], math.ceil((capacity - tokens) / rate) + 1000)
if tokens >= 0 then return 0 end
return math.ceil(-tokens / rate)
`;
const SHA = createHash('sha1').update(SCRIPT).digest('hex');

export class RedisTokenBuckets {
  constructor(
    private readonly redis: RedisCommands,
    /** Prefix of every bucket key, e.g. `avatar-gateway:pace:`. */
    private readonly keyPrefix: string,
  ) {}

  /** Takes a token from `key`'s bucket; resolves with the ms to wait. Rejects if Redis fails. */
  take(key: string, limit: RateLimit): Promise<number> {
    return this.run(key, limit, 1);
  }

  /** Gives back a token taken but not used. Rejects if Redis fails. */
  async giveBack(key: string, limit: RateLimit): Promise<void> {
    await this.run(key, limit, -1);
  }

  private async run(key: string, limit: RateLimit, cost: 1 | -1): Promise<number> {
    const intervalMs = limit.per === 'second' ? 1_000 : 60_000;
    const args = [
      this.keyPrefix + key,
      String(limit.burst ?? limit.requests),
      String(limit.requests / intervalMs),
      String(cost),
    ];
    try {
      return Number(await this.redis.evalsha(SHA, 1, ...args));
    } catch (error) {
      // The script is sent once per Redis (and again after a restart or SCRIPT FLUSH).
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return Number(await this.redis.eval(SCRIPT, 1, ...args));
    }
  }
}
