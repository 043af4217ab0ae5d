/**
 * Start-up waits, within a bound, for Redis: the first requests then pace and rate-limit from
 * the shared buckets rather than this process's, and an unreachable Redis still never stops it.
 */
import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { whenReady } from '../../src/redis.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('whenReady', () => {
  it('resolves true once a reachable Redis is ready, and at once when it already is', async () => {
    const redis = new Redis(REDIS_URL, { enableOfflineQueue: false });
    try {
      expect(redis.status).not.toBe('ready');
      expect(await whenReady(redis, 5_000)).toBe(true);
      expect(redis.status).toBe('ready');
      expect(await whenReady(redis, 0)).toBe(true);
    } finally {
      redis.disconnect();
    }
  });

  it('resolves false after its bound when Redis cannot be reached, and leaves no listener', async () => {
    const redis = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false });
    redis.on('error', () => undefined);
    try {
      const started = performance.now();
      expect(await whenReady(redis, 300)).toBe(false);
      expect(performance.now() - started).toBeGreaterThanOrEqual(290);
      expect(redis.listenerCount('ready')).toBe(0);
    } finally {
      redis.disconnect();
    }
  });
});
