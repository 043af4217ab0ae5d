/**
 * The only entry that listens: load the config, pick the upstream, start the server, stop on
 * SIGINT/SIGTERM.
 */
import 'reflect-metadata';
import { pino } from 'pino';
import { ConfigError, loadConfig } from './config.js';
import { createServer } from './server.js';
import { SimulatorState } from './simulator/state.js';
import type { Upstream } from './upstream/port.js';

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
  const logger = pino({ level: config.logLevel });

  let upstream: Upstream;
  if (config.upstreamUrl === null) {
    upstream = new SimulatorState({
      activationMs: config.simulatorActivationMs,
      tokenTtlMs: config.verificationTtlSeconds * 1000,
    });
    logger.info('UPSTREAM_URL is not set: running on the built-in in-memory simulator');
  } else {
    // TODO(lead): the undici client from src/upstream/ goes here.
    logger.fatal('UPSTREAM_URL is set, but the upstream HTTP client is not wired in yet');
    process.exit(1);
  }

  const server = await createServer(config, { upstream, logger });
  logger.info({ url: server.url }, `avatar-gateway ready at ${server.url}`);

  const shutdown = (signal: NodeJS.Signals) => {
    logger.info({ signal }, 'shutting down');
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
