/**
 * The gateway's configuration, read from the environment once at start-up into a typed,
 * frozen object. Every other module receives it (or a part of it) as a parameter; nothing else
 * reads `process.env`.
 */

/** The upstream `model` routing values the gateway accepts. */
export const MODELS = ['doubao-seedance-2-0-260128', 'doubao-seedance-2-0-fast-260128'] as const;
export type Model = (typeof MODELS)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

export interface Config {
  /**
   * `PORT`: the TCP port to listen on; `0` picks a free one.
   * @default 4000
   */
  readonly port: number;
  /**
   * `HOST`: the interface to listen on. Set `0.0.0.0` in a container.
   * @default '127.0.0.1'
   */
  readonly host: string;
  /**
   * `UPSTREAM_URL`: base URL of the upstream gateway; `null` (unset or empty) runs the gateway
   * on the built-in simulator.
   * @default null
   */
  readonly upstreamUrl: string | null;
  /**
   * `UPSTREAM_API_KEY`: when set, every upstream call uses this key and callers need not send
   * one; when unset, each caller's `Authorization: Bearer <key>` is used. Never logged.
   * @default null
   */
  readonly upstreamApiKey: string | null;
  /**
   * `DEFAULT_MODEL`: the upstream `model` routing field.
   * @default 'doubao-seedance-2-0-260128'
   */
  readonly defaultModel: Model;
  /**
   * `UPSTREAM_CREATE_ASSET_PER_MINUTE`: client-side pacing of uploads (CreateAsset), per API key.
   * The upstream limit depends on the plan: 3 (basic), 120 (advanced) or 300 (premium) a minute.
   * The built-in simulator has no plan and ignores it.
   * @default 3
   */
  readonly createAssetPerMinute: number;
  /**
   * `SIMULATOR_ACTIVATION_MS`: how long a simulated asset stays `PROCESSING`.
   * @default 3000
   */
  readonly simulatorActivationMs: number;
  /**
   * `VERIFICATION_TTL_SECONDS`: how long a real-person verification token may be exchanged.
   * @default 120
   */
  readonly verificationTtlSeconds: number;
  /**
   * `LOG_LEVEL`: a pino level.
   * @default 'info'
   */
  readonly logLevel: LogLevel;
  /**
   * `NODE_ENV`: `production` turns off introspection and the landing page.
   * @default 'development'
   */
  readonly nodeEnv: NodeEnv;
}

/** A variable that cannot be used; the message names it. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly variable: string,
    message: string,
  ) {
    super(`Invalid environment variable ${variable}: ${message}`);
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/** Parses the environment; throws a `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const config: Config = {
    port: integer(env, 'PORT', 4000, 0, 65535),
    host: nonEmpty(env, 'HOST') ?? '127.0.0.1',
    upstreamUrl: httpUrl(env, 'UPSTREAM_URL'),
    upstreamApiKey: apiKey(env, 'UPSTREAM_API_KEY'),
    defaultModel: oneOf(env, 'DEFAULT_MODEL', MODELS, 'doubao-seedance-2-0-260128'),
    createAssetPerMinute: integer(env, 'UPSTREAM_CREATE_ASSET_PER_MINUTE', 3, 1, 60_000),
    simulatorActivationMs: integer(env, 'SIMULATOR_ACTIVATION_MS', 3000, 0, 86_400_000),
    verificationTtlSeconds: integer(env, 'VERIFICATION_TTL_SECONDS', 120, 1, 86_400),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    nodeEnv: oneOf(env, 'NODE_ENV', NODE_ENVS, 'development'),
  };
  return Object.freeze(config);
}

/** Unset and empty (after trim) both mean "not set". */
function nonEmpty(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!/^\d+$/.test(raw)) throw new ConfigError(name, `expected an integer, got "${raw}"`);
  const value = Number(raw);
  if (value < min || value > max) {
    throw new ConfigError(name, `expected an integer from ${min} to ${max}, got ${raw}`);
  }
  return value;
}

function oneOf<T extends string>(env: Env, name: string, allowed: readonly T[], fallback: T): T {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (!(allowed as readonly string[]).includes(raw)) {
    throw new ConfigError(name, `expected one of ${allowed.join(', ')}, got "${raw}"`);
  }
  return raw as T;
}

function httpUrl(env: Env, name: string): string | null {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, 'expected an absolute http(s) URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(name, `expected an http(s) URL, got the scheme "${url.protocol}"`);
  }
  if (url.username !== '' || url.password !== '') {
    throw new ConfigError(name, 'must not carry credentials; use UPSTREAM_API_KEY');
  }
  return raw.replace(/\/+$/, '');
}

function apiKey(env: Env, name: string): string | null {
  const raw = env[name];
  if (raw === undefined || raw === '') return null;
  // The key's value never goes into the message.
  if (raw.trim() !== raw || /\s/.test(raw)) {
    throw new ConfigError(name, 'must not contain whitespace');
  }
  return raw;
}
