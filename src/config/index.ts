/**
 * The gateway's configuration, read from the environment once at start-up into a typed,
 * frozen object. Every other module receives it (or a part of it) as a parameter; nothing else
 * reads `process.env`.
 *
 * Each field of `Config` is declared once, in `fields.ts`, with its variable, default, bounds and
 * description; the types below are derived from those declarations.
 */
import {
  AUTH,
  BROWSERS,
  JWT,
  LEDGER,
  LIMITS,
  LIVE_STATUS,
  LOGGING,
  RATE_LIMIT,
  REDIS,
  SERVER,
  SIMULATOR,
  UPSTREAM,
  WEBSOCKET,
} from './fields.js';
import { ConfigError, type Env, type Field } from './read.js';

export { ConfigError } from './read.js';
export { loadSimulatorConfig, type SimulatorConfig } from './simulator.js';
export {
  LOG_LEVELS,
  namedToken,
  type NamedToken,
  NODE_ENVS,
  SIMULATOR_UPSTREAM,
  type LogLevel,
  type NodeEnv,
} from './fields.js';

/** The values a group of fields reads, under the group's keys. */
type ValuesOf<Group> = {
  readonly [K in keyof Group]: Group[K] extends Field<infer T> ? T : never;
};

/** `GRAPHQL_MAX_*`, `MAX_BODY_BYTES`: limits on what one request may ask (`fields.ts` LIMITS). */
export type Limits = ValuesOf<typeof LIMITS>;
/** `RATE_LIMIT_*`: the per-client request rate (`fields.ts` RATE_LIMIT). */
export type RateLimitConfig = ValuesOf<typeof RATE_LIMIT>;
/** `WS_*`: limits of GraphQL subscriptions over WebSocket (`fields.ts` WEBSOCKET). */
export type WsConfig = ValuesOf<typeof WEBSOCKET>;

/** `JWT_JWKS_URL`, `JWT_ISSUER`, `JWT_AUDIENCE`, all three set (`fields.ts` JWT). */
export interface JwtConfig {
  readonly jwksUrl: string;
  readonly issuer: string;
  readonly audience: readonly string[];
}

/** See `fields.ts` for each field's variable, default and meaning. */
export type Config = ValuesOf<typeof SERVER> &
  ValuesOf<typeof UPSTREAM> &
  ValuesOf<typeof AUTH> &
  ValuesOf<typeof BROWSERS> &
  ValuesOf<typeof REDIS> &
  ValuesOf<typeof LEDGER> &
  ValuesOf<typeof LIVE_STATUS> &
  ValuesOf<typeof SIMULATOR> &
  ValuesOf<typeof LOGGING> & {
    /** Client JWTs are verified when set; `null` when `JWT_JWKS_URL` is unset. */
    readonly jwt: JwtConfig | null;
    readonly limits: Limits;
    readonly rateLimit: RateLimitConfig;
    readonly ws: WsConfig;
  };

/** Parses the environment; throws a `ConfigError` naming the first bad variable. */
export function loadConfig(env: Env = process.env): Readonly<Config> {
  const server = read(env, SERVER);
  const upstream = read(env, UPSTREAM);
  const auth = read(env, AUTH);
  const jwt = jwtConfig(read(env, JWT));
  checkAccess(upstream.upstreamApiKey, auth, jwt);
  const config: Config = {
    ...server,
    ...upstream,
    ...auth,
    jwt,
    ...read(env, BROWSERS),
    limits: Object.freeze(read(env, LIMITS)),
    rateLimit: Object.freeze(read(env, RATE_LIMIT)),
    ...read(env, REDIS),
    ...read(env, LEDGER),
    ...read(env, LIVE_STATUS),
    ws: Object.freeze(read(env, WEBSOCKET)),
    ...read(env, SIMULATOR),
    ...read(env, LOGGING),
  };
  return Object.freeze(config);
}

/** Reads every field of `group`, in declaration order. */
function read<Group extends Record<string, Field<unknown>>>(
  env: Env,
  group: Group,
): ValuesOf<Group> {
  const values: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(group)) values[key] = field.read(env);
  return values as ValuesOf<Group>;
}

function jwtConfig({ jwksUrl, issuer, audience }: ValuesOf<typeof JWT>): JwtConfig | null {
  if (jwksUrl === null) {
    if (issuer !== null) throw new ConfigError(JWT.issuer.env, 'needs JWT_JWKS_URL');
    if (audience.length > 0) throw new ConfigError(JWT.audience.env, 'needs JWT_JWKS_URL');
    return null;
  }
  if (issuer === null) throw new ConfigError(JWT.issuer.env, 'is required with JWT_JWKS_URL');
  if (audience.length === 0) {
    throw new ConfigError(JWT.audience.env, 'is required with JWT_JWKS_URL');
  }
  return Object.freeze({ jwksUrl, issuer, audience });
}

/**
 * Client credentials only make sense with a server-held key, and a server-held key needs them
 * (or an explicit `ALLOW_UNAUTHENTICATED=true`).
 */
function checkAccess(
  upstreamApiKey: string | null,
  { gatewayTokens, adminTokens, allowUnauthenticated }: ValuesOf<typeof AUTH>,
  jwt: JwtConfig | null,
): void {
  if (upstreamApiKey === null) {
    const clientAuth =
      gatewayTokens.length > 0
        ? AUTH.gatewayTokens.env
        : adminTokens.length > 0
          ? AUTH.adminTokens.env
          : jwt
            ? JWT.jwksUrl.env
            : null;
    if (clientAuth !== null) {
      throw new ConfigError(
        clientAuth,
        'needs UPSTREAM_API_KEY: without a server-held key each caller sends its own upstream key as the Bearer token (pass-through), so there is no room for a gateway token',
      );
    }
  } else if (
    gatewayTokens.length === 0 &&
    adminTokens.length === 0 &&
    jwt === null &&
    !allowUnauthenticated
  ) {
    throw new ConfigError(
      UPSTREAM.upstreamApiKey.env,
      'is set, but no client authentication is configured, so anyone who can reach the gateway could spend this key. Set GATEWAY_TOKENS, or JWT_JWKS_URL with JWT_ISSUER and JWT_AUDIENCE, or ALLOW_UNAUTHENTICATED=true to accept that',
    );
  }
}
