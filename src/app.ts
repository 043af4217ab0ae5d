/**
 * The whole gateway as `index.ts` runs it, minus signal handling: picks the upstream (the real
 * one at `UPSTREAM_URL`, or the built-in simulator), starts the server, and returns `stop`.
 *
 * The built-in simulator (`UPSTREAM_URL=simulator`, and the default outside production, see
 * `config/fields.ts`) mounts the simulator's REST contract under `/simulator` on the gateway's
 * own port and reaches it through the real upstream client over loopback, so running with no
 * credentials exercises the same client, error mapping and runtime contract checks as
 * production; the H5 liveness page lives there too (`/simulator/h5/verify?token=…`). With a real
 * upstream nothing is mounted there.
 */
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import { assertSharedLedger, IN_MEMORY_LEDGER, openLedger, type Ledger } from './ledger/index.js';
import type { ReadinessCheck } from './observability/endpoints.js';
import { createMetrics } from './observability/metrics.js';
import { redisReadiness, upstreamReadiness } from './observability/readiness.js';
import { openRedis, whenReady, type RedisConnections } from './redis.js';
import { createRedisRateLimiter } from './security/rate-limit.js';
import { createServer, type RunningServer, type ServerDeps } from './server.js';
import { createApimartSimulatorHandler } from './simulator/apimart-http.js';
import { createSimulatorHandler } from './simulator/ark-http.js';
import { createLive, type RunningLive } from './subscriptions/live.js';
import { SimulatorState } from './simulator/state.js';
import {
  createUpstream,
  statusSourceOf,
  type UpstreamClient,
  type UpstreamOptions,
} from './upstream/index.js';
import { browserHost, freePort, loopbackHost } from './util/hosts.js';

/** How long start-up waits for Redis before serving without it (see `whenReady`). */
const REDIS_READY_WAIT_MS = 2000;

export const SIMULATOR_PATH = '/simulator';

/** How often expired idempotency records and verification tokens are deleted from the ledger. */
export const LEDGER_PURGE_INTERVAL_MS = 60 * 60 * 1000;

export interface RunningGateway extends RunningServer {
  /** `simulator` on the built-in simulator (`UPSTREAM_URL=simulator`, or unset outside production). */
  mode: 'simulator' | 'upstream';
  /** Where the simulator's REST contract is served, in simulator mode. */
  simulatorUrl: string | null;
  /**
   * The status watcher and verification poller behind subscriptions, for stats and tests.
   * `stop` stops them too; `live.stop({ releaseLeases: false })` before it stops like a crash.
   */
  live: RunningLive;
  /** The ledger this gateway opened (closed last by `stop`). */
  ledger: Ledger;
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
    /**
     * The gateway's ledger (ownership, tokens, idempotent creates, and what the apimart dialect
     * cannot ask apimart); the caller closes it.
     * @default opened from DATABASE_URL / LEDGER_PATH / LEDGER_SCHEMA, closed last by `stop`
     */
    ledger?: Ledger;
  };

export async function startGateway(
  config: Readonly<Config>,
  { logger, readinessCacheMs, ledger: givenLedger, ...given }: GatewayDeps,
): Promise<RunningGateway> {
  if (givenLedger) {
    return startWithLedger(config, givenLedger, false, { logger, readinessCacheMs, ...given });
  }
  // Several instances (Redis) on SQLite files would each keep a ledger of their own.
  assertSharedLedger(config);
  // Opened before anything else, so that a bad LEDGER_PATH or an unreachable DATABASE_URL
  // stops start-up at once; `launch` closes it last.
  const ledger = await openLedger({
    databaseUrl: config.databaseUrl,
    // The built-in simulator forgets everything on restart; by default, so does its ledger.
    path: config.ledgerPath ?? (config.upstreamUrl === null ? IN_MEMORY_LEDGER : undefined),
    ...(config.ledgerSchema === null ? {} : { schema: config.ledgerSchema }),
    logger,
  });
  try {
    return await startWithLedger(config, ledger, true, { logger, readinessCacheMs, ...given });
  } catch (error) {
    await ledger.close().catch(() => undefined);
    throw error;
  }
}

async function startWithLedger(
  config: Readonly<Config>,
  ledger: Ledger,
  ownsLedger: boolean,
  { logger, readinessCacheMs, ...given }: GatewayDeps,
): Promise<RunningGateway> {
  // Every URL of the built-in simulator must be known before the server starts: pick the port
  // first, before anything is opened that a failure here would leave open.
  const port =
    config.upstreamUrl === null && config.port === 0 ? await freePort(config.host) : config.port;
  // One registry for the server, the upstream client and the watcher.
  const ops = { ...given, metrics: given.metrics ?? createMetrics(), ledger };
  const readiness: ReadinessCheck[] = [{ name: 'ledger', check: () => ledger.ping() }];
  if (config.upstreamUrl !== null) {
    readiness.push(
      upstreamReadiness(config.upstreamUrl, {
        ...(readinessCacheMs === undefined ? {} : { cacheMs: readinessCacheMs }),
      }),
    );
  }
  // One connection set for the whole process, closed last (see `launch`).
  const redis = config.redisUrl === null ? null : openRedis(config.redisUrl, logger);
  if (redis) {
    if (!(await whenReady(redis.commands, REDIS_READY_WAIT_MS))) {
      logger.warn(
        `Redis is not ready after ${REDIS_READY_WAIT_MS} ms: starting anyway; until it is, rate limits and upstream pacing are per instance`,
      );
    }
    readiness.push(redisReadiness(redis.commands));
    if (ops.rateLimiter === undefined && config.rateLimit.perMinute > 0) {
      ops.rateLimiter = createRedisRateLimiter({
        redis: redis.commands,
        keyPrefix: `${config.redisKeyPrefix}ratelimit:`,
        ...config.rateLimit,
        logger,
      });
    }
  }
  ops.readiness = [...readiness, ...(given.readiness ?? [])];

  if (config.upstreamUrl !== null) {
    const client = createUpstream(
      dialectOptions(config, ledger, {
        baseUrl: config.upstreamUrl,
        model: config.defaultModel,
        timeoutMs: config.upstreamTimeoutMs,
        rateLimits: { CreateAsset: { requests: config.createAssetPerMinute, per: 'minute' } },
        // With Redis, every instance paces from the same buckets: one budget per upstream key.
        ...(redis && {
          sharedPacing: { redis: redis.commands, keyPrefix: `${config.redisKeyPrefix}pace:` },
        }),
        logger,
        metrics: ops.metrics.upstream,
      }),
    );
    return launch(
      config,
      { client, redis, logger, ops, ownsLedger },
      { mode: 'upstream', simulatorUrl: null },
    );
  }

  const simulatorUrl = `http://${loopbackHost(config.host)}:${port}${SIMULATOR_PATH}`;
  const state = new SimulatorState({
    activationMs: config.simulatorActivationMs,
    tokenTtlMs: config.verificationTtlSeconds * 1000,
    h5LinkTtlMs: config.h5LinkTtlSeconds * 1000,
    h5BaseUrl: `http://${browserHost(config.host)}:${port}${SIMULATOR_PATH}`,
  });
  // The simulator speaks the configured dialect over HTTP, so the embedded default exercises
  // the production client.
  const simulatorHandler =
    config.upstreamDialect === 'apimart' ? createApimartSimulatorHandler : createSimulatorHandler;
  const client = createUpstream(
    dialectOptions(config, ledger, {
      baseUrl: simulatorUrl,
      model: config.defaultModel,
      timeoutMs: config.upstreamTimeoutMs,
      // The simulator has no plan limit on uploads; the documented per-second limits still apply.
      rateLimits: { CreateAsset: null },
      logger,
      metrics: ops.metrics.upstream,
    }),
  );
  const gateway = await launch(
    { ...config, port },
    {
      client,
      redis,
      logger,
      ops: { ...ops, handlers: [simulatorHandler(state, { basePath: SIMULATOR_PATH })] },
      ownsLedger,
    },
    { mode: 'simulator', simulatorUrl },
  );
  logger.info(
    { simulatorUrl, activationMs: config.simulatorActivationMs, dialect: config.upstreamDialect },
    'running on the built-in simulator (UPSTREAM_URL unset or "simulator"): in memory, no ' +
      'credentials needed, any API key works and each sees its own data',
  );
  return gateway;
}

/** The client options of the configured dialect, from the options every dialect shares. */
function dialectOptions(
  config: Readonly<Config>,
  ledger: Ledger,
  common: Omit<Extract<UpstreamOptions, { dialect: 'ark' }>, 'dialect'>,
): UpstreamOptions {
  if (config.upstreamDialect === 'ark') return { dialect: 'ark', ...common };
  // apimart has no model routing, and its own rate table (`apimart/actions.ts`).
  const { model: _model, rateLimits: _rates, ...http } = common;
  return { dialect: 'apimart', ...http, ledger: ledger.apimart };
}

/** What `launch` starts the live services and the server with, and owns from then on. */
interface Owned {
  client: UpstreamClient;
  /** Whether `stop` closes the ledger (`ops.ledger`): not when the caller gave it. */
  ownsLedger: boolean;
  redis: RedisConnections | null;
  logger: Logger;
  /** The server's dependencies other than the upstream, the logger and the live services. */
  ops: Omit<ServerDeps, 'upstream' | 'logger' | 'live'> &
    Pick<Required<ServerDeps>, 'metrics' | 'ledger'>;
}

/**
 * Starts the live services and the server over `client`. Everything the gateway owns is stopped
 * by the one list below, in its order, also when the server fails to start.
 */
async function launch(
  config: Readonly<Config>,
  { client, redis, logger, ops, ownsLedger }: Owned,
  extra: Pick<RunningGateway, 'mode' | 'simulatorUrl'>,
): Promise<RunningGateway> {
  const live = createLive(config, {
    upstream: client,
    statusSource: statusSourceOf(config.upstreamDialect),
    logger,
    metrics: ops.metrics.watcher,
    redis,
  });
  let server: RunningServer | undefined;
  const { ledger } = ops;
  const purge = setInterval(() => {
    ledger.purgeExpired().catch((error: unknown) => {
      logger.warn({ err: error }, 'ledger: could not purge expired records; will try again');
    });
  }, LEDGER_PURGE_INTERVAL_MS).unref();
  const stopList: ReadonlyArray<() => Promise<unknown> | undefined> = [
    // No new requests or sockets; Apollo's drain lets in-flight requests finish (up to
    // `SHUTDOWN_TIMEOUT_MS`) while it closes the WebSockets with 1001, ending their subscriptions.
    () => server?.stop(),
    // Then the poll loop and the verification pollers: leases released, broker closed. The
    // upstream client and Redis are still open for both.
    () => live.stop(),
    () => client.close(),
    // The broker, the leases, the rate limit and readiness all used these.
    () => redis?.close(),
    // Last: every request and poller that could write to it has ended (a caller's ledger is
    // the caller's to close).
    async () => {
      clearInterval(purge);
      if (ownsLedger) await ledger.close();
    },
  ];
  try {
    server = await createServer(config, { ...ops, upstream: client, logger, live });
  } catch (error) {
    await stopInOrder(stopList);
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    ...extra,
    live,
    ledger,
    url: server.url,
    stop: () => (stopping ??= stopInOrder(stopList)),
  };
}

/** Runs every step in order, each after the previous settled; rejects with the first failure. */
async function stopInOrder(
  steps: ReadonlyArray<() => Promise<unknown> | undefined>,
): Promise<void> {
  const failures: unknown[] = [];
  for (const step of steps) {
    try {
      await step();
    } catch (error) {
      failures.push(error);
    }
  }
  if (failures.length > 0) throw failures[0];
}
