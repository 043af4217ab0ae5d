/**
 * The readiness checks `startGateway` registers for `/readyz`: the upstream origin answers
 * HTTP, and Redis answers `PING` when `REDIS_URL` is set. Each is cheap: the upstream probe is
 * one request without a credential, its result cached for a few seconds; the Redis ping fails at
 * once while the connection is down (the client queues nothing).
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Redis } from 'ioredis';
import type { ReadinessCheck } from './endpoints.js';

export interface UpstreamProbeOptions {
  /**
   * How long a result stands before the next `/readyz` probes again. Concurrent checks share
   * one probe.
   * @default 2000
   */
  cacheMs?: number;
  /**
   * How long the probe waits for the connection and the response headers.
   * @default 1500
   */
  timeoutMs?: number;
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * `upstream`: a `HEAD` of the upstream's base URL on a fresh connection (never a pooled one,
 * which could outlive a listener that is gone). Any HTTP answer counts as reachable, a 401 or a
 * 503 included: the origin is there, and the call's own error says what is wrong; a refused
 * connection, a reset or no headers within `timeoutMs` do not. No credential is sent.
 */
export function upstreamReadiness(
  baseUrl: string,
  options: UpstreamProbeOptions = {},
): ReadinessCheck {
  const url = new URL(baseUrl);
  const cacheMs = options.cacheMs ?? 2000;
  const timeoutMs = options.timeoutMs ?? 1500;
  const now = options.now ?? Date.now;
  let last: { ok: boolean; at: number } | null = null;
  let probing: Promise<boolean> | null = null;

  const probe = () =>
    new Promise<boolean>((resolve) => {
      const request = url.protocol === 'https:' ? httpsRequest : httpRequest;
      const req = request(url, { method: 'HEAD', agent: false, timeout: timeoutMs }, (res) => {
        res.resume();
        req.destroy();
        resolve(true);
      });
      req.once('timeout', () => req.destroy(new Error('upstream probe timed out')));
      req.once('error', () => resolve(false));
      req.end();
    });

  return {
    name: 'upstream',
    check() {
      if (last && now() - last.at < cacheMs) return Promise.resolve(last.ok);
      probing ??= probe().then((ok) => {
        last = { ok, at: now() };
        probing = null;
        return ok;
      });
      return probing;
    },
  };
}

/** `redis`: the connection answers `PING`. Give it a client without an offline queue. */
export function redisReadiness(redis: Pick<Redis, 'ping'>): ReadinessCheck {
  return { name: 'redis', check: async () => (await redis.ping()) === 'PONG' };
}
