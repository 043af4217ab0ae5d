import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryRateLimiter, createRedisRateLimiter } from '../../src/security/rate-limit.js';

describe('the in-memory token bucket', () => {
  it('lets a burst through, then one request per refill interval', async () => {
    const clock = { now: 0 };
    const limiter = createMemoryRateLimiter({ perMinute: 60, burst: 3, now: () => clock.now });
    for (let i = 0; i < 3; i++) expect((await limiter.take('a')).allowed).toBe(true);
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 1 });
    clock.now += 999;
    expect((await limiter.take('a')).allowed).toBe(false);
    clock.now += 1;
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(false);
  });

  it('keeps clients apart', async () => {
    const limiter = createMemoryRateLimiter({ perMinute: 1, burst: 1, now: () => 0 });
    expect((await limiter.take('a')).allowed).toBe(true);
    expect(await limiter.take('a')).toEqual({ allowed: false, retryAfterSeconds: 60 });
    expect((await limiter.take('b')).allowed).toBe(true);
  });

  it('never refills above the burst', async () => {
    const clock = { now: 0 };
    const limiter = createMemoryRateLimiter({ perMinute: 600, burst: 2, now: () => clock.now });
    clock.now += 3_600_000;
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(false);
  });

  it('forgets idle clients when it holds too many', async () => {
    const clock = { now: 0 };
    const limiter = createMemoryRateLimiter({
      perMinute: 60,
      burst: 1,
      now: () => clock.now,
      maxKeys: 2,
    });
    await limiter.take('a');
    await limiter.take('b');
    clock.now += 60_000;
    await limiter.take('c'); // prunes a and b, which are full again
    expect((await limiter.take('a')).allowed).toBe(true);
  });

  it('lets go of the buckets of a burst of new keys once they are full again', async () => {
    const clock = { now: 0 };
    const limiter = createMemoryRateLimiter({
      perMinute: 600,
      burst: 10,
      now: () => clock.now,
    });
    for (let i = 0; i < 500; i++) await limiter.take(`invented-${i}`);
    await limiter.take('regular');
    clock.now += 500;
    await limiter.take('regular');
    expect(limiter.size).toBe(501); // not yet a second since the last sweep
    clock.now += 600; // every bucket has refilled: the sweep drops them all
    await limiter.take('regular');
    expect(limiter.size).toBe(1);
    // A key seen again after its bucket was dropped starts full, as it would have been.
    for (let i = 0; i < 10; i++) expect((await limiter.take('invented-0')).allowed).toBe(true);
    expect((await limiter.take('invented-0')).allowed).toBe(false);
  });
});

describe('the Redis token bucket', () => {
  const REDIS_URL = process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379';
  const prefix = `test:ratelimit:${randomUUID()}:`;
  let redis: Redis;

  beforeAll(() => {
    redis = new Redis(REDIS_URL, { maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    const keys = await redis.keys(`${prefix}*`);
    if (keys.length > 0) await redis.del(...keys);
    await redis.quit();
  });

  it('shares one bucket between limiters (instances), per client, with an expiry', async () => {
    const options = { redis, keyPrefix: prefix, perMinute: 1, burst: 2 };
    const one = createRedisRateLimiter(options);
    const two = createRedisRateLimiter(options);
    expect((await one.take('client-a')).allowed).toBe(true);
    expect((await two.take('client-a')).allowed).toBe(true);
    const denied = await one.take('client-a');
    expect(denied.allowed).toBe(false);
    expect(denied.retryAfterSeconds).toBeGreaterThan(55);
    expect(denied.retryAfterSeconds).toBeLessThanOrEqual(60);
    expect((await two.take('client-b')).allowed).toBe(true);
    const ttl = await redis.pttl(`${prefix}client-a`);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(121_000);
  });

  it('lets requests through (and says so) when Redis fails', async () => {
    const broken = new Redis('redis://127.0.0.1:9', {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    broken.on('error', () => {});
    const warnings: string[] = [];
    const logger = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(line) });
    const limiter = createRedisRateLimiter({ redis: broken, perMinute: 1, burst: 1, logger });
    expect(await limiter.take('a')).toEqual({ allowed: true, retryAfterSeconds: 0 });
    expect(warnings.join('')).toContain('letting the request through');
    broken.disconnect();
  });
});
