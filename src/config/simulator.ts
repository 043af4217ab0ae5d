/**
 * The standalone simulator's configuration (`npm run simulator`): its own address, and the
 * simulator settings it shares with the gateway's built-in one. Read once, like `loadConfig`.
 */
import { LIVE_STATUS, SIMULATOR, SIMULATOR_SERVER } from './fields.js';
import type { Env } from './read.js';

export interface SimulatorConfig {
  /** `SIMULATOR_PORT`; `0` picks a free one. */
  readonly port: number;
  /** `SIMULATOR_HOST`. */
  readonly host: string;
  /** `SIMULATOR_ACTIVATION_MS`: how long a new asset stays `PROCESSING`. */
  readonly activationMs: number;
  /** `VERIFICATION_TTL_SECONDS`: how long a verification token can be used, in milliseconds. */
  readonly tokenTtlMs: number;
  /** `H5_LINK_TTL_SECONDS`: how long an H5 liveness link can be opened, in milliseconds. */
  readonly h5LinkTtlMs: number;
}

/** Parses the environment; throws a `ConfigError` naming the first bad variable. */
export function loadSimulatorConfig(env: Env = process.env): Readonly<SimulatorConfig> {
  return Object.freeze({
    port: SIMULATOR_SERVER.port.read(env),
    host: SIMULATOR_SERVER.host.read(env),
    activationMs: SIMULATOR.simulatorActivationMs.read(env),
    tokenTtlMs: LIVE_STATUS.verificationTtlSeconds.read(env) * 1000,
    h5LinkTtlMs: LIVE_STATUS.h5LinkTtlSeconds.read(env) * 1000,
  });
}
