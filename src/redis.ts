/**
 * The process's Redis connections, opened once by `app.ts` when `REDIS_URL` is set and handed to
 * every user: the rate limiter, the `redis` readiness check, the status broker and the memory of
 * redeemed verification tokens. None of them opens or closes a connection of its own.
 *
 * ioredis reconnects both by itself; an unreachable Redis at start-up is logged, never fatal.
 */
import { Redis } from 'ioredis';
import type { Logger } from 'pino';

export interface RedisConnections {
  /**
   * Every command. It fails at once while Redis is away (no offline queue, one retry, 1 s
   * timeout): the rate limit then lets requests through, `/readyz` answers 503, the poller retries
   * its leases next iteration and reverts unpublished changes, instead of all of them waiting for
   * a reconnect.
   */
  readonly commands: Redis;
  /**
   * Subscriber mode, for the status broker's channels only. Unlike `commands` it queues while
   * Redis is away, so a `SUBSCRIBE` made meanwhile takes effect on reconnect (ioredis also
   * re-subscribes by itself).
   */
  readonly subscriber: Redis;
  /** Closes both connections; the last step of the gateway's stop. Idempotent. */
  close(): Promise<void>;
}

export function openRedis(url: string, logger: Logger): RedisConnections {
  const commands = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
  });
  commands.on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
  const subscriber = new Redis(url);
  // Its outages are the commands connection's too, logged above: not reported twice.
  subscriber.on('error', () => undefined);
  let closing: Promise<void> | undefined;
  return {
    commands,
    subscriber,
    close: () =>
      (closing ??= Promise.all([quit(subscriber), quit(commands)]).then(() => undefined)),
  };
}

/**
 * Resolves once `redis` is ready, or after `timeoutMs` (true when ready). Start-up waits on this
 * so that the first requests already pace and rate-limit from the shared buckets: without an
 * offline queue, a command sent while the connection is still opening fails, and its caller
 * falls back to this process's budget. Never rejects: an unreachable Redis is not fatal.
 */
export function whenReady(redis: Redis, timeoutMs: number): Promise<boolean> {
  if (redis.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const done = (ready: boolean) => {
      clearTimeout(timer);
      redis.off('ready', onReady);
      resolve(ready);
    };
    const onReady = () => done(true);
    const timer = setTimeout(() => done(false), timeoutMs);
    redis.once('ready', onReady);
  });
}

/**
 * `QUIT` when connected, or drop the connection when that fails. While Redis is away, drop it at
 * once: a `QUIT` behind queued commands (a `SUBSCRIBE` made meanwhile) would wait for Redis.
 */
function quit(redis: Redis): Promise<unknown> {
  if (redis.status !== 'ready') return Promise.resolve(redis.disconnect());
  return redis.quit().catch(() => redis.disconnect());
}
