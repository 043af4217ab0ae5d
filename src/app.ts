/**
 * The whole gateway as `index.ts` runs it, minus signal handling: picks the upstream (the real
 * one at `UPSTREAM_URL`, or the built-in simulator), starts the server, and returns `stop`.
 *
 * The embedded default mounts the simulator's REST contract under `/simulator` on the gateway's
 * own port and reaches it through the real upstream client over loopback, so running with no
 * credentials exercises the same client, error mapping and runtime contract checks as
 * production; the H5 liveness page lives there too (`/simulator/h5/verify?token=…`).
 */
import { createServer as createNetServer } from 'node:net';
import { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import type { ReadinessCheck } from './observability/endpoints.js';
import { createMetrics } from './observability/metrics.js';
import { redisReadiness, upstreamReadiness } from './observability/readiness.js';
import { createRedisRateLimiter } from './security/rate-limit.js';
import { createServer, type RunningServer, type ServerDeps } from './server.js';
import { createSimulatorHandler } from './simulator/http.js';
import { createLive, type RunningLive } from './subscriptions/live.js';
import { SimulatorState } from './simulator/state.js';
import { createArkClient, type ArkClient } from './upstream/client.js';

export const SIMULATOR_PATH = '/simulator';

export interface RunningGateway extends RunningServer {
  /** `simulator` when no `UPSTREAM_URL` is configured. */
  mode: 'simulator' | 'upstream';
  /** Where the simulator's REST contract is served, in simulator mode. */
  simulatorUrl: string | null;
  /**
   * The status watcher and verification poller behind subscriptions, for stats and tests.
   * `stop` stops them too; `live.stop({ releaseLeases: false })` before it stops like a crash.
   */
  live: RunningLive;
}

/**
 * What `index.ts` hands over: the logger, and optionally the operations wiring. `startGateway`
 * adds its own readiness checks (`upstream` with `UPSTREAM_URL`, `redis` with `REDIS_URL`) before
 * the ones given, and with `REDIS_URL` rate-limits through Redis unless `rateLimiter` is given.
 */
export type GatewayDeps = { logger: Logger } & Pick<
  ServerDeps,
  'metrics' | 'readiness' | 'rateLimiter'
> & {
    /**
     * How long `/readyz` trusts one probe of the upstream.
     * @default 2000
     */
    readinessCacheMs?: number;
  };

export async function startGateway(
  config: Readonly<Config>,
  { logger, readinessCacheMs, ...given }: GatewayDeps,
): Promise<RunningGateway> {
  // One registry for the server, the upstream client and the watcher.
  const ops = { ...given, metrics: given.metrics ?? createMetrics() };
  const readiness: ReadinessCheck[] = [];
  if (config.upstreamUrl !== null) {
    readiness.push(
      upstreamReadiness(config.upstreamUrl, {
        ...(readinessCacheMs === undefined ? {} : { cacheMs: readinessCacheMs }),
      }),
    );
  }
  const redis = config.redisUrl === null ? null : opsRedis(config.redisUrl, logger);
  if (redis) {
    readiness.push(redisReadiness(redis));
    if (ops.rateLimiter === undefined && config.rateLimit.perMinute > 0) {
      ops.rateLimiter = createRedisRateLimiter({
        redis,
        keyPrefix: `${config.redisKeyPrefix}ratelimit:`,
        ...config.rateLimit,
        logger,
      });
    }
  }
  ops.readiness = [...readiness, ...(given.readiness ?? [])];

  if (config.upstreamUrl !== null) {
    const client = createArkClient({
      baseUrl: config.upstreamUrl,
      defaultModel: config.defaultModel,
      timeoutMs: config.upstreamTimeoutMs,
      rateLimits: { CreateAsset: { requests: config.createAssetPerMinute, per: 'minute' } },
      logger,
      metrics: ops.metrics.upstream,
    });
    const live = createLive(config, { upstream: client, logger, metrics: ops.metrics.watcher });
    return withClient({ client, live, redis }, { mode: 'upstream', simulatorUrl: null }, () =>
      createServer(config, { upstream: client, logger, live, ...ops }),
    );
  }

  // Every URL of the simulator must be known before the server starts: pick the port first.
  const port = config.port === 0 ? await freePort(config.host) : config.port;
  const simulatorUrl = `http://${loopbackHost(config.host)}:${port}${SIMULATOR_PATH}`;
  const state = new SimulatorState({
    activationMs: config.simulatorActivationMs,
    tokenTtlMs: config.verificationTtlSeconds * 1000,
    h5BaseUrl: `http://${browserHost(config.host)}:${port}${SIMULATOR_PATH}`,
  });
  const client = createArkClient({
    baseUrl: simulatorUrl,
    defaultModel: config.defaultModel,
    timeoutMs: config.upstreamTimeoutMs,
    // The simulator has no plan limit on uploads; the documented per-second limits still apply.
    rateLimits: { CreateAsset: null },
    logger,
    metrics: ops.metrics.upstream,
  });
  const live = createLive(config, { upstream: client, logger, metrics: ops.metrics.watcher });
  const deps: ServerDeps = {
    ...ops,
    upstream: client,
    logger,
    live,
    handlers: [createSimulatorHandler(state, { basePath: SIMULATOR_PATH })],
  };
  const gateway = await withClient(
    { client, live, redis },
    { mode: 'simulator', simulatorUrl },
    () => createServer({ ...config, port }, deps),
  );
  logger.info(
    { simulatorUrl, activationMs: config.simulatorActivationMs },
    'UPSTREAM_URL is not set: running on the built-in simulator (in memory, no credentials needed; ' +
      'any API key works, each sees its own data)',
  );
  return gateway;
}

/**
 * The connection behind the rate limit and the `redis` readiness check. Commands fail at once
 * while Redis is away (no offline queue): the rate limit then lets requests through and
 * `/readyz` answers 503, instead of both waiting for a reconnect. ioredis reconnects by itself;
 * an unreachable Redis at start-up is logged, never fatal.
 */
function opsRedis(url: string, logger: Logger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 1000,
  });
  redis.on('error', (error: Error) => logger.warn({ err: error }, 'Redis connection error'));
  return redis;
}

interface Owned {
  client: ArkClient;
  live: RunningLive;
  redis: Redis | null;
}

/**
 * Starts the server; stops it, then the live services, then the client and the operations
 * Redis connection, in that order.
 */
async function withClient(
  { client, live, redis }: Owned,
  extra: Pick<RunningGateway, 'mode' | 'simulatorUrl'>,
  start: () => Promise<RunningServer>,
): Promise<RunningGateway> {
  const close = async () => {
    try {
      await live.stop();
    } finally {
      await client.close().finally(() => redis?.quit().catch(() => redis.disconnect()));
    }
  };
  let server: RunningServer;
  try {
    server = await start();
  } catch (error) {
    await close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...extra,
    live,
    url: server.url,
    stop: () => (stopping ??= server.stop().finally(close)),
  };
}

const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '']);

/** The address this process reaches its own server on. */
function loopbackHost(host: string): string {
  if (WILDCARD_HOSTS.has(host)) return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

/** The address a browser on this machine opens the H5 page on. */
function browserHost(host: string): string {
  if (WILDCARD_HOSTS.has(host)) return 'localhost';
  return host.includes(':') ? `[${host}]` : host;
}

function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen(0, WILDCARD_HOSTS.has(host) ? undefined : host, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}
