/**
 * `npm run simulator`: the simulator on a port of its own, as a stateful stand-in for the
 * upstream that frontends and several gateway instances can share (statuses change, unlike
 * Prism's static examples). It serves the contract's REST paths, the H5 liveness page and the
 * deterministic outcomes of `state.ts`, keeps everything in memory, prints its URL and the
 * `UPSTREAM_URL=…` line for gateways, and stops on SIGINT/SIGTERM.
 *
 *   npm run simulator -- --port 4020 --host 0.0.0.0
 *
 * Flags win over `SIMULATOR_PORT`/`SIMULATOR_HOST`; `SIMULATOR_ACTIVATION_MS`,
 * `H5_LINK_TTL_SECONDS` and `VERIFICATION_TTL_SECONDS` apply as to the gateway's
 * built-in simulator.
 */
import { parseArgs } from 'node:util';
import { loadDotEnv } from '../util/dotenv.js';
import { loadSimulatorConfig, type SimulatorConfig } from '../config/index.js';
import { exitOnStartupFailure } from '../startup-failure.js';
import { browserHost, freePort, loopbackHost } from '../util/hosts.js';
import { startSimulator, type RunningSimulator } from './ark-http.js';
import { SimulatorState } from './state.js';

const ADDRESS = { port: 'SIMULATOR_PORT', host: 'SIMULATOR_HOST' };
const USAGE = 'usage: npm run simulator -- [--port <port>] [--host <address>]';

async function main(): Promise<void> {
  let config: Readonly<SimulatorConfig>;
  try {
    loadDotEnv();
    config = loadSimulatorConfig(withFlags(process.argv.slice(2), process.env));
  } catch (error) {
    return exitOnStartupFailure(error, ADDRESS);
  }
  let running: RunningSimulator;
  let port = config.port;
  try {
    // The H5 page's URL is part of the state: the port must be known before listening.
    if (port === 0) port = await freePort(config.host);
    const state = new SimulatorState({
      activationMs: config.activationMs,
      tokenTtlMs: config.tokenTtlMs,
      h5LinkTtlMs: config.h5LinkTtlMs,
      h5BaseUrl: `http://${browserHost(config.host)}:${port}`,
    });
    running = await startSimulator(state, { port, host: config.host });
  } catch (error) {
    return exitOnStartupFailure(error, ADDRESS, { port, host: config.host });
  }
  const url = `http://${loopbackHost(config.host)}:${port}`;
  console.log(
    `avatar-gateway simulator at ${url}: in memory, any Bearer key (each sees its own data), ` +
      `assets turn ACTIVE ${config.activationMs} ms after upload`,
  );
  console.log(`Point gateways at it with: UPSTREAM_URL=${url}`);

  const stop = () => {
    running.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(error);
        process.exit(1);
      },
    );
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

/** The environment with `--port`/`--host` in place of `SIMULATOR_PORT`/`SIMULATOR_HOST`. */
function withFlags(args: string[], env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let values: { port?: string; host?: string };
  try {
    ({ values } = parseArgs({
      args,
      options: { port: { type: 'string' }, host: { type: 'string' } },
    }));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    process.exit(1);
  }
  return {
    ...env,
    ...(values.port === undefined ? {} : { SIMULATOR_PORT: values.port }),
    ...(values.host === undefined ? {} : { SIMULATOR_HOST: values.host }),
  };
}

main().catch((error: unknown) => exitOnStartupFailure(error, ADDRESS));
