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
   * `UPSTREAM_TIMEOUT_MS`: the deadline of one upstream call, pacing waits and retries
   * included; past it the call fails with `UPSTREAM_TIMEOUT` (or `RATE_LIMITED` when only a
   * `Retry-After` beyond it was left).
   * @default 15000
   */
  readonly upstreamTimeoutMs: number;
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
  /**
   * `GATEWAY_TOKENS`: comma-separated client tokens (12+ characters each) accepted as
   * `Authorization: Bearer <token>` when `UPSTREAM_API_KEY` is set. Never logged.
   * @default []
   */
  readonly gatewayTokens: readonly string[];
  /**
   * `JWT_JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE` (comma-separated): client JWTs verified against
   * this key set when `UPSTREAM_API_KEY` is set. All three or none.
   * @default null
   */
  readonly jwt: JwtConfig | null;
  /**
   * `ALLOW_UNAUTHENTICATED`: with `UPSTREAM_API_KEY` and neither tokens nor JWT, start anyway and
   * let anyone who can reach the gateway use the key. Without it, that configuration is refused.
   * No effect once tokens or a JWKS are configured: a credential is then always required.
   * @default false
   */
  readonly allowUnauthenticated: boolean;
  /**
   * `GRAPHQL_INTROSPECTION`: answer `__schema`/`__type`.
   * @default NODE_ENV !== 'production'
   */
  readonly graphqlIntrospection: boolean;
  /**
   * `GRAPHQL_LANDING_PAGE`: serve Apollo Sandbox to browsers that GET `/graphql`.
   * @default NODE_ENV !== 'production'
   */
  readonly graphqlLandingPage: boolean;
  /**
   * `CORS_ORIGINS`: comma-separated origins (`https://app.example.com`) whose browser pages may
   * call the gateway. Empty: same-origin only.
   * @default []
   */
  readonly corsOrigins: readonly string[];
  /** Limits on what one request may ask; see each field. */
  readonly limits: Limits;
  /** The per-client request rate. */
  readonly rateLimit: RateLimitConfig;
  /**
   * `REDIS_URL`: a `redis://` or `rediss://` URL; when set, the rate limit, the status watcher
   * (events and poll leases) and redeemed verification tokens are shared through Redis, so that
   * several instances poll each asset once. Never logged (it may hold a password).
   * @default null
   */
  readonly redisUrl: string | null;
  /**
   * `SHUTDOWN_TIMEOUT_MS`: on SIGTERM/SIGINT, how long in-flight requests may take to finish
   * before their connections are closed.
   * @default 10000
   */
  readonly shutdownTimeoutMs: number;
  /**
   * `HTTP_REQUEST_TIMEOUT_MS`: how long a client may take to send a request's headers and body;
   * slower connections (slowloris) are dropped. Responses are not bound by it.
   * @default 30000
   */
  readonly httpRequestTimeoutMs: number;
  /**
   * `ASSET_URLS_ALLOW_INTERNAL`: accept asset URLs at internal addresses (loopback,
   * link-local such as 169.254.169.254, private ranges, `localhost`); off, they are refused
   * with `BAD_USER_INPUT`.
   * @default false
   */
  readonly assetUrlsAllowInternal: boolean;
  /**
   * `POLL_INTERVAL_MS`: how often live subscriptions poll the upstream (asset statuses,
   * verification tokens); slow assets back off from there.
   * @default 2000
   */
  readonly pollIntervalMs: number;
  /**
   * `REDIS_KEY_PREFIX`: the prefix of every Redis key and channel of the status watcher, so
   * that several deployments can share one Redis.
   * @default 'avatar-gateway:'
   */
  readonly redisKeyPrefix: string;
  /** Limits of GraphQL subscriptions over WebSocket; see each field. */
  readonly ws: WsConfig;
}

export interface WsConfig {
  /**
   * `WS_KEEPALIVE_MS`: how often the server pings each socket; one that has not answered after
   * as long again is terminated. `0` turns pings off.
   * @default 12000
   */
  readonly keepAliveMs: number;
  /**
   * `WS_MAX_SUBSCRIPTIONS_PER_CONNECTION`: operations one socket may run at once; one more gets
   * a `TOO_MANY_SUBSCRIPTIONS` error and the others go on.
   * @default 50
   */
  readonly maxSubscriptionsPerConnection: number;
  /**
   * `WS_MAX_PAYLOAD_BYTES`: the largest WebSocket message a client may send; larger closes the
   * socket with 1009.
   * @default 65536
   */
  readonly maxPayloadBytes: number;
  /**
   * `WS_CONNECTION_INIT_TIMEOUT_MS`: how long a socket may take to send `connection_init`
   * before it is closed with 4408.
   * @default 3000
   */
  readonly connectionInitTimeoutMs: number;
  /**
   * `WS_MAX_MESSAGES_PER_SECOND`: the steady rate of messages one socket may send (bursts of
   * five seconds' worth are fine); a socket over it is closed with 1008 (policy violation).
   * @default 20
   */
  readonly maxMessagesPerSecond: number;
  /**
   * `WS_MAX_CONNECTIONS`: open sockets per process; one more upgrade is refused with HTTP 503
   * ("try again later", with `Retry-After`) before the handshake.
   * @default 10000
   */
  readonly maxConnections: number;
  /**
   * `WS_MAX_CONNECTIONS_PER_IP`: open sockets per client address; one more upgrade is refused
   * with HTTP 429 before the handshake. Clients behind one proxy share its address.
   * @default 250
   */
  readonly maxConnectionsPerIp: number;
  /**
   * `WS_MAX_SUBSCRIPTIONS`: operations running at once over all sockets of the process; one more
   * gets a `TOO_MANY_SUBSCRIPTIONS` error and the others go on.
   * @default 20000
   */
  readonly maxSubscriptions: number;
  /**
   * `WS_CLOSE_TIMEOUT_MS`: how long a socket the server closed may take to answer the close
   * before it is terminated; its messages meanwhile are ignored.
   * @default 1000
   */
  readonly closeTimeoutMs: number;
}

export interface JwtConfig {
  /** `JWT_JWKS_URL`: https, or http on localhost / 127.0.0.1 / [::1]. */
  readonly jwksUrl: string;
  /** `JWT_ISSUER`: the required `iss` claim. */
  readonly issuer: string;
  /** `JWT_AUDIENCE`: `aud` must hold one of these. */
  readonly audience: readonly string[];
}

export interface Limits {
  /**
   * `MAX_BODY_BYTES`: the largest HTTP request body; larger ones get 413 `PAYLOAD_TOO_LARGE`.
   * @default 1048576
   */
  readonly maxBodyBytes: number;
  /**
   * `GRAPHQL_MAX_DEPTH`: how deep fields may nest (introspection fields excepted).
   * @default 10
   */
  readonly maxDepth: number;
  /**
   * `GRAPHQL_MAX_COST`: the largest estimated cost of one operation (objects 1, scalars 0, a
   * paged field multiplies its selection by `pageSize`/`first`, each mutation field adds 10).
   * @default 1000
   */
  readonly maxCost: number;
  /**
   * `GRAPHQL_MAX_ALIASES`: aliases per document.
   * @default 30
   */
  readonly maxAliases: number;
  /**
   * `GRAPHQL_MAX_BATCH`: operations per HTTP request; `1` refuses batches (JSON arrays).
   * @default 1
   */
  readonly maxBatch: number;
  /**
   * `GRAPHQL_MAX_TOKENS`: lexical tokens per document, checked while parsing.
   * @default 10000
   */
  readonly maxTokens: number;
  /**
   * `GRAPHQL_MAX_STRING_LENGTH`: characters in any string argument or variable.
   * @default 2048
   */
  readonly maxStringLength: number;
  /**
   * `GRAPHQL_MAX_LIST_LENGTH`: items in any list argument or variable (a safety net above the
   * schema's own limits, such as 100 ids per filter, which answer `BAD_USER_INPUT`).
   * @default 1000
   */
  readonly maxListLength: number;
  /**
   * `GRAPHQL_MAX_VARIABLES_BYTES`: the approximate size of all variables together.
   * @default 65536
   */
  readonly maxVariablesBytes: number;
  /**
   * `GRAPHQL_MAX_SELECTIONS`: fields in one document, counting each fragment spread as the
   * fields it brings; checked before validation, whose cost grows with the square of repeated
   * selections. Over it: `QUERY_TOO_COMPLEX`.
   * @default 500
   */
  readonly maxSelections: number;
}

export interface RateLimitConfig {
  /**
   * `RATE_LIMIT_PER_MINUTE`: requests per client per minute, refilled continuously; `0` turns the
   * limit off.
   * @default 600
   */
  readonly perMinute: number;
  /**
   * `RATE_LIMIT_BURST`: how many requests a client may send at once (the bucket's size).
   * @default 100
   */
  readonly burst: number;
  /**
   * `RATE_LIMIT_PER_IP_PER_MINUTE`: requests (and WebSocket `subscribe` messages) per client
   * address per minute, on top of the per-client limit, so that inventing keys does not dodge
   * it; `0` turns it off.
   * @default 1200
   */
  readonly perIpPerMinute: number;
  /**
   * `RATE_LIMIT_PER_IP_BURST`: how many requests one address may send at once.
   * @default 200
   */
  readonly perIpBurst: number;
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
    upstreamTimeoutMs: integer(env, 'UPSTREAM_TIMEOUT_MS', 15_000, 100, 600_000),
    simulatorActivationMs: integer(env, 'SIMULATOR_ACTIVATION_MS', 3000, 0, 86_400_000),
    verificationTtlSeconds: integer(env, 'VERIFICATION_TTL_SECONDS', 120, 1, 86_400),
    logLevel: oneOf(env, 'LOG_LEVEL', LOG_LEVELS, 'info'),
    nodeEnv: oneOf(env, 'NODE_ENV', NODE_ENVS, 'development'),
    ...security(env),
    ...live(env),
  };
  return Object.freeze(config);
}

/** The variables of issue 5 ("Live status"): polling, the watcher's Redis keys, WebSocket. */
function live(env: Env): Pick<Config, 'pollIntervalMs' | 'redisKeyPrefix' | 'ws'> {
  const prefix = env['REDIS_KEY_PREFIX'] ?? '';
  if (/\s/.test(prefix)) throw new ConfigError('REDIS_KEY_PREFIX', 'must not contain whitespace');
  return {
    pollIntervalMs: integer(env, 'POLL_INTERVAL_MS', 2000, 10, 600_000),
    redisKeyPrefix: prefix === '' ? 'avatar-gateway:' : prefix,
    ws: Object.freeze({
      keepAliveMs: integer(env, 'WS_KEEPALIVE_MS', 12_000, 0, 600_000),
      maxSubscriptionsPerConnection: integer(
        env,
        'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION',
        50,
        1,
        10_000,
      ),
      maxPayloadBytes: integer(env, 'WS_MAX_PAYLOAD_BYTES', 65_536, 1024, 64 * 1024 * 1024),
      connectionInitTimeoutMs: integer(env, 'WS_CONNECTION_INIT_TIMEOUT_MS', 3000, 1, 600_000),
      maxMessagesPerSecond: integer(env, 'WS_MAX_MESSAGES_PER_SECOND', 20, 1, 100_000),
      maxConnections: integer(env, 'WS_MAX_CONNECTIONS', 10_000, 1, 1_000_000),
      maxConnectionsPerIp: integer(env, 'WS_MAX_CONNECTIONS_PER_IP', 250, 1, 1_000_000),
      maxSubscriptions: integer(env, 'WS_MAX_SUBSCRIPTIONS', 20_000, 1, 10_000_000),
      closeTimeoutMs: integer(env, 'WS_CLOSE_TIMEOUT_MS', 1000, 1, 60_000),
    }),
  };
}

/** The variables of issue 6 ("Hardening"): access, limits, CORS, Redis, shutdown. */
function security(env: Env): SecurityConfig {
  const nodeEnv = oneOf(env, 'NODE_ENV', NODE_ENVS, 'development');
  const upstreamApiKey = apiKey(env, 'UPSTREAM_API_KEY');
  const gatewayTokens = tokenList(env, 'GATEWAY_TOKENS', upstreamApiKey);
  const jwt = jwtConfig(env);
  const allowUnauthenticated = bool(env, 'ALLOW_UNAUTHENTICATED', false);
  if (upstreamApiKey === null) {
    const clientAuth = gatewayTokens.length > 0 ? 'GATEWAY_TOKENS' : jwt ? 'JWT_JWKS_URL' : null;
    if (clientAuth !== null) {
      throw new ConfigError(
        clientAuth,
        'needs UPSTREAM_API_KEY: without a server-held key each caller sends its own upstream key as the Bearer token (pass-through), so there is no room for a gateway token',
      );
    }
  } else if (gatewayTokens.length === 0 && jwt === null && !allowUnauthenticated) {
    throw new ConfigError(
      'UPSTREAM_API_KEY',
      'is set, but no client authentication is configured, so anyone who can reach the gateway could spend this key. Set GATEWAY_TOKENS, or JWT_JWKS_URL with JWT_ISSUER and JWT_AUDIENCE, or ALLOW_UNAUTHENTICATED=true to accept that',
    );
  }
  const production = nodeEnv === 'production';
  const maxBodyBytes = integer(env, 'MAX_BODY_BYTES', 1024 * 1024, 1024, 64 * 1024 * 1024);
  const limits: Limits = Object.freeze({
    maxBodyBytes,
    maxDepth: integer(env, 'GRAPHQL_MAX_DEPTH', 10, 2, 100),
    maxCost: integer(env, 'GRAPHQL_MAX_COST', 1000, 1, 10_000_000),
    maxAliases: integer(env, 'GRAPHQL_MAX_ALIASES', 30, 0, 10_000),
    maxBatch: integer(env, 'GRAPHQL_MAX_BATCH', 1, 1, 100),
    maxTokens: integer(env, 'GRAPHQL_MAX_TOKENS', 10_000, 100, 1_000_000),
    maxStringLength: integer(env, 'GRAPHQL_MAX_STRING_LENGTH', 2048, 64, 1_048_576),
    maxListLength: integer(env, 'GRAPHQL_MAX_LIST_LENGTH', 1000, 1, 100_000),
    maxVariablesBytes: integer(env, 'GRAPHQL_MAX_VARIABLES_BYTES', 65_536, 1024, maxBodyBytes),
    maxSelections: integer(env, 'GRAPHQL_MAX_SELECTIONS', 500, 1, 1_000_000),
  });
  const perMinute = integer(env, 'RATE_LIMIT_PER_MINUTE', 600, 0, 1_000_000);
  return {
    gatewayTokens,
    jwt,
    allowUnauthenticated,
    graphqlIntrospection: bool(env, 'GRAPHQL_INTROSPECTION', !production),
    graphqlLandingPage: bool(env, 'GRAPHQL_LANDING_PAGE', !production),
    corsOrigins: originList(env, 'CORS_ORIGINS'),
    limits,
    rateLimit: Object.freeze({
      perMinute,
      burst: integer(env, 'RATE_LIMIT_BURST', 100, 1, 1_000_000),
      perIpPerMinute: integer(env, 'RATE_LIMIT_PER_IP_PER_MINUTE', 1200, 0, 1_000_000),
      perIpBurst: integer(env, 'RATE_LIMIT_PER_IP_BURST', 200, 1, 1_000_000),
    }),
    redisUrl: redisUrl(env, 'REDIS_URL'),
    shutdownTimeoutMs: integer(env, 'SHUTDOWN_TIMEOUT_MS', 10_000, 0, 600_000),
    httpRequestTimeoutMs: integer(env, 'HTTP_REQUEST_TIMEOUT_MS', 30_000, 100, 3_600_000),
    assetUrlsAllowInternal: bool(env, 'ASSET_URLS_ALLOW_INTERNAL', false),
  };
}

/** The fields `security()` reads. */
type SecurityConfig = Pick<
  Config,
  | 'gatewayTokens'
  | 'jwt'
  | 'allowUnauthenticated'
  | 'graphqlIntrospection'
  | 'graphqlLandingPage'
  | 'corsOrigins'
  | 'limits'
  | 'rateLimit'
  | 'redisUrl'
  | 'shutdownTimeoutMs'
  | 'httpRequestTimeoutMs'
  | 'assetUrlsAllowInternal'
>;

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return fallback;
  if (raw === 'true') return true;
  if (raw === 'false') return false;
  throw new ConfigError(name, `expected true or false, got "${raw}"`);
}

/** Comma-separated, blanks dropped. */
function list(env: Env, name: string): string[] {
  return (env[name] ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

const MIN_TOKEN_LENGTH = 12;

function tokenList(env: Env, name: string, upstreamApiKey: string | null): readonly string[] {
  const tokens = list(env, name);
  // Positions only: a token's value never goes into the message.
  tokens.forEach((token, i) => {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(
        name,
        `token #${i + 1} is shorter than ${MIN_TOKEN_LENGTH} characters; use long random tokens`,
      );
    }
    if (/[\s"\\]/.test(token)) {
      throw new ConfigError(name, `token #${i + 1} contains whitespace, a quote or a backslash`);
    }
    if (token === upstreamApiKey) {
      throw new ConfigError(name, `token #${i + 1} is the UPSTREAM_API_KEY; use a different one`);
    }
  });
  return Object.freeze([...new Set(tokens)]);
}

const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);

function jwtConfig(env: Env): JwtConfig | null {
  const jwksUrl = nonEmpty(env, 'JWT_JWKS_URL');
  const issuer = nonEmpty(env, 'JWT_ISSUER');
  const audience = list(env, 'JWT_AUDIENCE');
  if (jwksUrl === undefined) {
    if (issuer !== undefined) throw new ConfigError('JWT_ISSUER', 'needs JWT_JWKS_URL');
    if (audience.length > 0) throw new ConfigError('JWT_AUDIENCE', 'needs JWT_JWKS_URL');
    return null;
  }
  let url: URL;
  try {
    url = new URL(jwksUrl);
  } catch {
    throw new ConfigError('JWT_JWKS_URL', 'expected an absolute https URL');
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) {
    throw new ConfigError(
      'JWT_JWKS_URL',
      'expected an https URL (http only on localhost, 127.0.0.1 or [::1])',
    );
  }
  if (issuer === undefined) throw new ConfigError('JWT_ISSUER', 'is required with JWT_JWKS_URL');
  if (audience.length === 0) {
    throw new ConfigError('JWT_AUDIENCE', 'is required with JWT_JWKS_URL');
  }
  return Object.freeze({ jwksUrl: url.href, issuer, audience: Object.freeze(audience) });
}

function originList(env: Env, name: string): readonly string[] {
  const origins = list(env, name).map((raw) => {
    let url: URL;
    try {
      url = new URL(raw);
    } catch {
      throw new ConfigError(name, `"${raw}" is not an origin such as https://app.example.com`);
    }
    if (
      (url.protocol !== 'http:' && url.protocol !== 'https:') ||
      raw.replace(/\/$/, '').toLowerCase() !== url.origin.toLowerCase()
    ) {
      throw new ConfigError(
        name,
        `"${raw}" is not an origin: give scheme, host and port only, such as https://app.example.com`,
      );
    }
    return url.origin;
  });
  return Object.freeze([...new Set(origins)]);
}

function redisUrl(env: Env, name: string): string | null {
  return urlOf(env, name, ['redis:', 'rediss:'], 'a redis:// or rediss:// URL')?.raw ?? null;
}

/**
 * The variable as a URL with one of `schemes`, or `null` when unset. The message never echoes
 * the value: it may carry a password.
 */
function urlOf(
  env: Env,
  name: string,
  schemes: readonly string[],
  expected: string,
): { raw: string; url: URL } | null {
  const raw = nonEmpty(env, name);
  if (raw === undefined) return null;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(name, `expected ${expected}`);
  }
  if (!schemes.includes(url.protocol)) {
    throw new ConfigError(name, `expected ${expected}, got the scheme "${url.protocol}"`);
  }
  return { raw, url };
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
  const parsed = urlOf(env, name, ['http:', 'https:'], 'an absolute http(s) URL');
  if (parsed === null) return null;
  if (parsed.url.username !== '' || parsed.url.password !== '') {
    throw new ConfigError(name, 'must not carry credentials; use UPSTREAM_API_KEY');
  }
  return parsed.raw.replace(/\/+$/, '');
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
