/**
 * The long-lived services behind subscriptions: the asset status watcher and the verification
 * poller, over one broker (in memory, or Redis when `REDIS_URL` is set so that several gateway
 * instances share polling and events). Created by `app.ts`, handed to the server, stopped after it.
 */
import type { Logger } from 'pino';
import type { Config } from '../config/index.js';
import type { LiveServices } from '../graphql/context.js';
import type { WatcherMetrics } from '../observability/metrics.js';
import type { RedisConnections } from '../redis.js';
import {
  createMemoryBroker,
  createRedisBroker,
  createStatusWatcher,
  type StatusBroker,
  type StatusWatcher,
  type StopOptions,
} from '../status/index.js';
import { createSharedBudget } from '../upstream/index.js';
import type { Upstream } from '../upstream/port.js';
import type { StatusSource } from '../upstream/status-source.js';
import {
  createMemoryVerificationResults,
  createRedisVerificationResults,
  createVerificationService,
} from '../verification/index.js';

export interface RunningLive extends LiveServices {
  /**
   * Ends every subscription, stops polling, closes the broker. Idempotent.
   * `releaseLeases: false` stops like a crashed instance (other instances take over only when the
   * leases expire): for tests.
   */
  stop(options?: StopOptions): Promise<void>;
}

export type LiveConfig = Pick<
  Config,
  'pollIntervalMs' | 'redisKeyPrefix' | 'verificationTtlSeconds' | 'ws'
>;

export function createLive(
  config: LiveConfig,
  deps: {
    upstream: Upstream;
    /**
     * How the watcher reads statuses from `upstream`: the dialect's status source
     * (`statusSourceOf(config.upstreamDialect)` in `app.ts`).
     */
    statusSource: StatusSource;
    logger: Logger;
    /** Poll cycles, and the gauges of subscriptions and polled assets (read at each scrape). */
    metrics?: WatcherMetrics;
    /**
     * The process's Redis connections (`REDIS_URL`), owned by the caller: the broker and the
     * verification memory use them, `stop` leaves them open.
     * @default null: in memory, this instance alone
     */
    redis?: RedisConnections | null;
  },
): RunningLive {
  const logger = deps.logger.child({ component: 'status' });
  const redis = deps.redis ?? null;
  const broker: StatusBroker = redis
    ? createRedisBroker({
        redis: redis.commands,
        subscriber: redis.subscriber,
        keyPrefix: config.redisKeyPrefix,
      })
    : createMemoryBroker();
  const { metrics } = deps;
  const watcher: StatusWatcher = createStatusWatcher({
    upstream: deps.upstream,
    source: deps.statusSource,
    intervalMs: config.pollIntervalMs,
    maxWatchedAssets: config.ws.maxWatchedAssets,
    broker,
    logger,
    ...(metrics && {
      onTick: (tick) => metrics.observePollCycle(tick.durationMs / 1000),
    }),
  });
  const tokenTtlMs = config.verificationTtlSeconds * 1000;
  const verifications = createVerificationService({
    upstream: deps.upstream,
    intervalMs: config.pollIntervalMs,
    tokenTtlMs,
    results: redis
      ? createRedisVerificationResults({ redis: redis.commands, keyPrefix: config.redisKeyPrefix })
      : createMemoryVerificationResults(),
    ...(redis && {
      sharedBudget: createSharedBudget({
        redis: redis.commands,
        keyPrefix: `${config.redisKeyPrefix}budget:`,
        logger,
      }),
    }),
    logger,
  });

  metrics?.track(() => {
    const stats = watcher.stats();
    return {
      activeSubscriptions: stats.subscribers + verifications.stats().subscribers,
      watchedAssets: stats.pollingAssets,
    };
  });

  let stopping: Promise<void> | undefined;
  return {
    watcher,
    verifications,
    stop: (options) =>
      (stopping ??= (async () => {
        await Promise.all([watcher.stop(options), verifications.stop()]);
        await broker.close();
      })()),
  };
}
