/**
 * The only entry that listens: load the config, start the gateway (`app.ts`), stop on
 * SIGINT/SIGTERM. A start-up that fails for a reason the operator can fix (a bad variable, a
 * port in use, an address not of this machine) prints one line naming the variable and exits 1.
 */
import 'reflect-metadata';
import { loadConfig, namedToken, type Config } from './config/index.js';
import { startGateway, type RunningGateway } from './app.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';
import { exitOnStartupFailure } from './startup-failure.js';
import { loadDotEnv } from './util/dotenv.js';

const ADDRESS = { port: 'PORT', host: 'HOST' };

async function main(): Promise<void> {
  let config: Readonly<Config>;
  try {
    loadDotEnv();
    config = loadConfig();
  } catch (error) {
    return exitOnStartupFailure(error, ADDRESS);
  }
  const logger = createLogger({
    level: config.logLevel,
    secrets: [
      config.upstreamApiKey,
      ...[...config.gatewayTokens, ...config.adminTokens].map((entry) => namedToken(entry).token),
      passwordOf(config.redisUrl),
      passwordOf(config.databaseUrl),
    ],
  });
  const metrics = createMetrics({ defaultMetrics: true });
  let server: RunningGateway;
  try {
    // Readiness (upstream, Redis) and the Redis rate limit are wired by startGateway.
    server = await startGateway(config, { logger, metrics });
  } catch (error) {
    return exitOnStartupFailure(error, ADDRESS, config);
  }
  logger.info({ url: server.url }, `avatar-gateway ready at ${server.url}`);

  let stopping = false;
  const shutdown = (signal: NodeJS.Signals) => {
    // A repeated SIGTERM (a supervisor, or `node --watch` passing one on twice) must not cut the
    // drain short; a second Ctrl-C is a person who wants out now.
    if (stopping) {
      if (signal === 'SIGINT') process.exit(130);
      logger.warn({ signal }, 'already shutting down');
      return;
    }
    stopping = true;
    const { shutdownDelayMs: delayMs, shutdownTimeoutMs: timeoutMs } = config;
    logger.info({ signal, delayMs, timeoutMs }, 'shutting down');
    // Connections still open after the grace period are closed by stop(); this is the backstop.
    setTimeout(
      () => {
        logger.error('shutdown did not finish in time; exiting');
        process.exit(1);
      },
      delayMs + timeoutMs + 5000,
    ).unref();
    server.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', shutdown);
  process.on('SIGTERM', shutdown);
}

main().catch((error: unknown) => exitOnStartupFailure(error, ADDRESS));

/** The password in a `redis://` or `postgres://` URL, to keep out of logs. */
function passwordOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}
