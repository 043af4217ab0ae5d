/**
 * The only entry that listens: load the config, start the gateway (`app.ts`), stop on
 * SIGINT/SIGTERM.
 */
import 'reflect-metadata';
import { ConfigError, loadConfig, namedToken } from './config/index.js';
import { startGateway } from './app.js';
import { createLogger } from './observability/logger.js';
import { createMetrics } from './observability/metrics.js';

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
    secrets: [
      config.upstreamApiKey,
      ...[...config.gatewayTokens, ...config.adminTokens].map((entry) => namedToken(entry).token),
      passwordOf(config.redisUrl),
      passwordOf(config.databaseUrl),
    ],
  });
  const metrics = createMetrics({ defaultMetrics: true });
  // Readiness (upstream, Redis) and the Redis rate limit are wired by startGateway.
  const server = await startGateway(config, { logger, metrics });
  logger.info({ url: server.url }, `avatar-gateway ready at ${server.url}`);

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal, timeoutMs: config.shutdownTimeoutMs }, 'shutting down');
    // Connections still open after the grace period are closed by stop(); this is the backstop.
    setTimeout(() => {
      logger.error('shutdown did not finish in time; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 5000).unref();
    server.stop().then(
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

/** The password in a `redis://` or `postgres://` URL, to keep out of logs. */
function passwordOf(url: string | null): string | null {
  if (url === null) return null;
  try {
    return decodeURIComponent(new URL(url).password) || null;
  } catch {
    return null;
  }
}
