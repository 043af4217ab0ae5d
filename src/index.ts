/**
 * The only entry that listens: load the config, start the gateway (`app.ts`), stop on
 * SIGINT/SIGTERM.
 */
import 'reflect-metadata';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from './config.js';
import { startGateway, type GatewayDeps } from './app.js';
import type { ReadinessCheck } from './observability/endpoints.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { createRedisRateLimiter } from './security/rate-limit.js';

async function main(): Promise<void> {
  let config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: [config.upstreamApiKey, ...config.gatewayTokens, passwordOf(config.redisUrl)],
  });
  const metrics = createMetrics({ defaultMetrics: true });
  const readiness: ReadinessCheck[] = [];
  const ops: Omit<GatewayDeps, 'logger'> = { metrics, readiness };
  let redis: Redis | null = null;
  if (config.redisUrl !== null) {
    // Fail fast while Redis is away: the rate limit then lets requests through (fails open).
    redis = new Redis(config.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      commandTimeout: 1000,
    });
    redis.on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
    const client = redis;
    readiness.push({ name: 'redis', check: async () => (await client.ping()) === 'PONG' });
    if (config.rateLimit.perMinute > 0) {
      ops.rateLimiter = createRedisRateLimiter({
        redis,
        keyPrefix: `${config.redisKeyPrefix}ratelimit:`,
        ...config.rateLimit,
        logger,
      });
    }
  }

  const server = await startGateway(config, { logger, ...ops });
  logger.info({ url: server.url }, `avatar-gateway ready at ${server.url}`);

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // Connections still open after the grace period are closed by stop(); this is the backstop.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    server
      .stop()
      .then(() => redis?.quit())
      .then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: error }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});

/** The password in a `redis://` URL, to keep out of logs. */
function passwordOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}
