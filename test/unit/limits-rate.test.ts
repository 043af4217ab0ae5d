/**
 * The per-client rate that HTTP requests and WebSocket subscribe messages share
 * (`client-rate.ts`): the client's own bucket and its address's, in memory and in Redis.
 */
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import type { AccessResult } from '../../src/security/access.js';
import { clientAddress } from '../../src/security/client-address.js';
import { createClientRate } from '../../src/security/client-rate.js';
import {
  createMemoryRateLimiter,
  createRedisRateLimiter,
  type RateLimiter,
} from '../../src/security/rate-limit.js';

const keyed = (id: string): AccessResult => ({
  ok: true,
  credential: 'secret',
  principal: { id, kind: 'upstream-key' },
  tenant: id,
  admin: false,
});
const anonymous: AccessResult = {
  ok: true,
  credential: 'k',
  principal: { id: 'anonymous', kind: 'anonymous' },
  tenant: 'anonymous',
  admin: false,
};

/** Takes `n` times, a new key each time, from one address: how many were allowed. */
async function rotate(rate: ReturnType<typeof createClientRate>, n: number, address: string) {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await rate.take(keyed(`key:${i}`), address)).allowed) allowed++;
  return allowed;
}

function behaves(name: string, limiter: () => RateLimiter) {
  describe(name, () => {
    it('holds back an address that invents a key per request', async () => {
      const rate = createClientRate({
        limiter: limiter(),
        perAddress: { perMinute: 1, burst: 5 },
      });
      const address = `10.0.0.${Math.floor(Math.random() * 250)}-${randomUUID()}`;
      expect(await rotate(rate, 12, address)).toBe(5);
      // Another address is not affected.
      expect((await rate.take(keyed('key:0'), `${address}-other`)).allowed).toBe(true);
    });

    it('refuses a key over its own budget whatever the address, with the longer wait', async () => {
      const rate = createClientRate({
        limiter: limiter(),
        perAddress: { perMinute: 600, burst: 100 },
      });
      const key = `key:${randomUUID()}`;
      for (let i = 0; i < 3; i++) expect((await rate.take(keyed(key), `a${i}`)).allowed).toBe(true);
      const refused = await rate.take(keyed(key), 'a9');
      expect(refused.allowed).toBe(false);
      expect(refused.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    });

    it('keys a client without a credential by its address', async () => {
      const rate = createClientRate({ limiter: limiter(), perAddress: null });
      const address = `anon-${randomUUID()}`;
      for (let i = 0; i < 3; i++) expect((await rate.take(anonymous, address)).allowed).toBe(true);
      expect((await rate.take(anonymous, address)).allowed).toBe(false);
      expect((await rate.take(anonymous, `${address}-2`)).allowed).toBe(true);
    });
  });
}

behaves('in memory', () => createMemoryRateLimiter({ perMinute: 1, burst: 3 }));

let redis: Redis;
const prefix = `test:client-rate:${randomUUID()}:`;
beforeAll(() => {
  redis = new Redis(process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', {
    maxRetriesPerRequest: 1,
  });
});
afterAll(async () => {
  const keys = await redis.keys(`${prefix}*`);
  if (keys.length > 0) await redis.del(...keys);
  redis.disconnect();
});
behaves('in Redis', () =>
  createRedisRateLimiter({ redis, keyPrefix: prefix, perMinute: 1, burst: 3 }),
);

describe('the in-memory limiter under key rotation', () => {
  it('keeps at most maxKeys buckets, dropping the least recently used', async () => {
    const limiter = createMemoryRateLimiter({ perMinute: 1, burst: 1, maxKeys: 3, now: () => 0 });
    for (const key of ['a', 'b', 'c']) await limiter.take(key);
    await limiter.take('a'); // `b` is now the oldest, and none is full.
    await limiter.take('d');
    // `b` was forgotten (full again); `a` was kept (still empty).
    expect((await limiter.take('b')).allowed).toBe(true);
    expect((await limiter.take('a')).allowed).toBe(false);
  });
});

describe('clientAddress: the address the per-address limits key on', () => {
  const request = (forwardedFor?: string | string[]) =>
    ({
      socket: { remoteAddress: '10.0.0.5' },
      headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor },
    }) as unknown as IncomingMessage;

  it('is the connecting address unless proxies are trusted, whatever the header says', () => {
    expect(clientAddress(request('203.0.113.7'), 0)).toBe('10.0.0.5');
    expect(clientAddress(request(), 1)).toBe('10.0.0.5');
  });

  it('takes the entry as many hops from the right as there are trusted proxies', () => {
    // The client wrote 1.2.3.4 itself; the proxy appended what it saw, 203.0.113.7.
    expect(clientAddress(request('1.2.3.4, 203.0.113.7'), 1)).toBe('203.0.113.7');
    expect(clientAddress(request(['1.2.3.4', '198.51.100.1, 203.0.113.7']), 2)).toBe(
      '198.51.100.1',
    );
    // Fewer entries than hops: the furthest address known.
    expect(clientAddress(request('203.0.113.7'), 3)).toBe('203.0.113.7');
  });
});
