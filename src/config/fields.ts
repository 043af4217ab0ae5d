/**
 * Every environment variable the gateway reads, once, as data: its name, default, accepted
 * values, bounds and description, grouped by topic. Each group's keys are the `Config` fields
 * they fill (`LIMITS` fills `config.limits`, `WEBSOCKET` fills `config.ws`, `JWT` is combined into
 * `config.jwt`; the others are flat). `index.ts` reads the groups in the order written here; the
 * README's configuration table and `.env.example` are rendered from `TOPICS` (`npm run config:docs`).
 */
import { createHash } from 'node:crypto';
import { ARK_MODELS, DEFAULT_MODEL } from '../upstream/ark/models.js';
import {
  bool,
  ConfigError,
  integer,
  list,
  oneOf,
  text,
  url,
  verbatim,
  type Env,
  type Field,
} from './read.js';

/** The upstream dialects the gateway speaks (`src/upstream/index.ts`). */
export const UPSTREAM_DIALECTS = ['ark', 'apimart'] as const;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const NODE_ENVS = ['development', 'production', 'test'] as const;
export type NodeEnv = (typeof NODE_ENVS)[number];

const MIN_TOKEN_LENGTH = 12;
const LOOPBACK_HOSTS: ReadonlySet<string> = new Set(['localhost', '127.0.0.1', '[::1]']);
const MIB = 1024 * 1024;

export const SERVER = {
  port: integer({
    env: 'PORT',
    default: 4000,
    min: 0,
    max: 65_535,
    doc: 'TCP port to listen on; `0` picks a free one',
  }),
  host: text({
    env: 'HOST',
    default: '127.0.0.1',
    accepts: 'an address',
    doc: 'interface to listen on; `0.0.0.0` in a container',
  }),
  nodeEnv: oneOf({
    env: 'NODE_ENV',
    values: NODE_ENVS,
    default: 'development',
    doc: '`production` turns off introspection, the landing page, GraphiQL and the console',
  }),
  shutdownTimeoutMs: integer({
    env: 'SHUTDOWN_TIMEOUT_MS',
    default: 10_000,
    min: 0,
    max: 600_000,
    doc: 'on SIGTERM/SIGINT, how long in-flight requests may take to finish before their connections are closed',
  }),
  shutdownDelayMs: integer({
    env: 'SHUTDOWN_DELAY_MS',
    default: 0,
    min: 0,
    max: 120_000,
    doc: 'on SIGTERM/SIGINT, how long to keep accepting and answering as usual (with `/readyz` at 503) before the shutdown begins, so that a load balancer stops routing here first (e.g. 5000 behind Kubernetes)',
  }),
  httpRequestTimeoutMs: integer({
    env: 'HTTP_REQUEST_TIMEOUT_MS',
    default: 30_000,
    min: 100,
    max: 3_600_000,
    doc: "how long a client may take to send a request's headers and body; slower connections (slowloris) are dropped. Responses are not bound by it",
  }),
  trustProxyHops: integer({
    env: 'TRUST_PROXY_HOPS',
    default: 0,
    min: 0,
    max: 10,
    doc: 'proxies in front of the gateway that append to `X-Forwarded-For` (nginx: `$proxy_add_x_forwarded_for`); the per-address limits (`RATE_LIMIT_PER_IP_*`, `WS_MAX_CONNECTIONS_PER_IP`) then key on the address that many entries from its right. `0`: the connecting address, the header ignored (a client could write anything in it)',
  }),
};

/** `UPSTREAM_URL=simulator`: the built-in simulator, asked for by name (required in production). */
export const SIMULATOR_UPSTREAM = 'simulator';

const UPSTREAM_HTTP_URL = url({
  env: 'UPSTREAM_URL',
  schemes: ['http:', 'https:'],
  expected: `an absolute http(s) URL or "${SIMULATOR_UPSTREAM}"`,
  check: (parsed) =>
    parsed.username !== '' || parsed.password !== ''
      ? 'must not carry credentials; use UPSTREAM_API_KEY'
      : null,
  normalise: (raw) => raw.replace(/\/+$/, ''),
  doc: '',
});

/**
 * The upstream's base URL, or `null` for the built-in simulator. The simulator answers any key
 * and keeps data in memory, so production never falls back to it: there it runs only when asked
 * for by name.
 */
const UPSTREAM_URL: Field<string | null> = {
  ...UPSTREAM_HTTP_URL,
  accepts: `${UPSTREAM_HTTP_URL.accepts}, \`${SIMULATOR_UPSTREAM}\``,
  defaultNote: `\`${SIMULATOR_UPSTREAM}\` unless \`NODE_ENV=production\` (then required)`,
  doc: `the upstream's base URL; \`${SIMULATOR_UPSTREAM}\` runs the built-in in-memory simulator (any key works, data is lost on restart, its REST API and H5 page are served under \`/simulator\`)`,
  read(env) {
    if (env[UPSTREAM_HTTP_URL.env]?.trim() === SIMULATOR_UPSTREAM) return null;
    const value = UPSTREAM_HTTP_URL.read(env);
    if (value === null && SERVER.nodeEnv.read(env) === 'production') {
      throw new ConfigError(
        UPSTREAM_HTTP_URL.env,
        `is not set, and NODE_ENV=production does not fall back to the in-memory simulator. Set UPSTREAM_URL to the upstream's base URL (https://…), or to "${SIMULATOR_UPSTREAM}" to serve the simulator on purpose`,
      );
    }
    return value;
  },
};

export const UPSTREAM = {
  upstreamDialect: oneOf({
    env: 'UPSTREAM_DIALECT',
    values: UPSTREAM_DIALECTS,
    default: 'ark',
    doc: "which vendor's API the upstream speaks, for the client, the built-in simulator and the status watcher alike: `ark` (the Volcengine-style REST contract) or `apimart` (tasks polled with `GET /v1/tasks/{id}`; see [Dialects](#dialects))",
  }),
  upstreamUrl: UPSTREAM_URL,
  upstreamApiKey: verbatim({
    env: 'UPSTREAM_API_KEY',
    default: null,
    accepts: 'a key',
    secret: true,
    doc: "a server-held upstream key, used for every call; unset passes each caller's `Authorization: Bearer` key through (see [Security](#security)). Never logged",
  }),
  defaultModel: oneOf({
    env: 'DEFAULT_MODEL',
    values: ARK_MODELS,
    default: DEFAULT_MODEL,
    doc: 'the `model` routing field the `ark` dialect sends with every call; `apimart` has none',
  }),
  createAssetPerMinute: integer({
    env: 'UPSTREAM_CREATE_ASSET_PER_MINUTE',
    default: 3,
    min: 1,
    max: 60_000,
    doc: 'client-side pacing of uploads (CreateAsset) per API key: 3 (basic), 120 (advanced) or 300 (premium) a minute by upstream plan; the simulator ignores it',
  }),
  upstreamTimeoutMs: integer({
    env: 'UPSTREAM_TIMEOUT_MS',
    default: 15_000,
    min: 100,
    max: 600_000,
    doc: 'deadline of one upstream call, pacing, retries and `Retry-After` waits included; past it `UPSTREAM_TIMEOUT` (or `RATE_LIMITED` when only a `Retry-After` beyond it was left)',
  }),
  assetUrlsAllowInternal: bool({
    env: 'ASSET_URLS_ALLOW_INTERNAL',
    default: false,
    doc: 'accept asset URLs at internal addresses (loopback, link-local such as 169.254.169.254, private ranges, `localhost`); off, they are refused with `BAD_USER_INPUT`',
  }),
};

const UPSTREAM_API_KEY = UPSTREAM.upstreamApiKey;

export const AUTH = {
  gatewayTokens: list({
    env: 'GATEWAY_TOKENS',
    accepts: `tokens of ${MIN_TOKEN_LENGTH}+ characters`,
    secret: true,
    unique: true,
    doc: "comma-separated client tokens accepted as `Authorization: Bearer <token>` when `UPSTREAM_API_KEY` is set, each `name:token` (the name is the caller's tenant, see [Tenants](#tenants-and-the-ledger)) or a bare token (its tenant is `token:` and 16 hex of its hash). Never logged",
    // Positions only: a token's value never goes into the message.
    parse(entry, index, env) {
      const name = 'GATEWAY_TOKENS';
      const { token } = namedToken(entry);
      if (token.length < MIN_TOKEN_LENGTH) {
        throw new ConfigError(
          name,
          `token #${index + 1} is shorter than ${MIN_TOKEN_LENGTH} characters; use long random tokens`,
        );
      }
      if (/[\s"\\]/.test(token)) {
        throw new ConfigError(
          name,
          `token #${index + 1} contains whitespace, a quote or a backslash`,
        );
      }
      if (token === UPSTREAM_API_KEY.read(env)) {
        throw new ConfigError(
          name,
          `token #${index + 1} is the UPSTREAM_API_KEY; use a different one`,
        );
      }
      return entry;
    },
  }),
  adminTokens: list({
    env: 'ADMIN_TOKENS',
    accepts: '`name:token` or tokens',
    secret: true,
    unique: true,
    doc: "with `UPSTREAM_API_KEY`: operators' tokens, accepted like gateway tokens, whose holders see and change every tenant's resources (and those nobody owns). Never logged",
    parse(entry, index) {
      const { token } = namedToken(entry);
      if (token.length < MIN_TOKEN_LENGTH) {
        throw new ConfigError(
          'ADMIN_TOKENS',
          `token #${index + 1} is shorter than ${MIN_TOKEN_LENGTH} characters; use long random tokens`,
        );
      }
      return entry;
    },
  }),
  jwtTenantClaim: text({
    env: 'JWT_TENANT_CLAIM',
    default: 'sub',
    accepts: 'a claim name',
    doc: "the JWT claim naming the caller's tenant (a string); a JWT without it is refused",
  }),
  allowUnauthenticated: bool({
    env: 'ALLOW_UNAUTHENTICATED',
    default: false,
    doc: 'with `UPSTREAM_API_KEY` and neither tokens nor JWT, start anyway and let anyone who can reach the gateway spend the key (otherwise that is refused); no effect once tokens or a JWKS are configured',
  }),
};

/** A `GATEWAY_TOKENS` / `ADMIN_TOKENS` entry: `name:token`, or a bare token. */
export interface NamedToken {
  /** The tenant of the token's holders; derived from the token's hash when none is given. */
  readonly name: string;
  readonly token: string;
}

const TOKEN_NAME = /^([A-Za-z0-9._-]{1,64}):(.+)$/;

/**
 * Splits an entry into its name and token. A bare token (no `name:` of letters, digits, `.`, `_`,
 * `-` before a colon) is named `token:` and 16 hex of its SHA-256, which is stable and not secret.
 */
export function namedToken(entry: string): NamedToken {
  const match = TOKEN_NAME.exec(entry);
  if (match) return { name: match[1]!, token: match[2]! };
  return {
    name: `token:${createHash('sha256').update(entry, 'utf8').digest('hex').slice(0, 16)}`,
    token: entry,
  };
}

/** Combined into `config.jwt` by `index.ts`: all three or none. */
export const JWT = {
  jwksUrl: url({
    env: 'JWT_JWKS_URL',
    expected: 'an absolute https URL',
    accepts: '`https://` (`http://` on loopback)',
    check: (parsed) =>
      parsed.protocol === 'https:' ||
      (parsed.protocol === 'http:' && LOOPBACK_HOSTS.has(parsed.hostname))
        ? null
        : 'expected an https URL (http only on localhost, 127.0.0.1 or [::1])',
    normalise: (_raw, parsed) => parsed.href,
    doc: 'client JWTs are verified against this key set when `UPSTREAM_API_KEY` is set; all three `JWT_*` or none',
  }),
  issuer: text({
    env: 'JWT_ISSUER',
    default: null,
    accepts: 'text',
    doc: 'the `iss` claim a client JWT must carry; required with `JWT_JWKS_URL`',
  }),
  audience: list({
    env: 'JWT_AUDIENCE',
    accepts: 'comma-separated',
    doc: "a client JWT's `aud` must hold one of these; required with `JWT_JWKS_URL`",
  }),
};

export const BROWSERS = {
  corsOrigins: list({
    env: 'CORS_ORIGINS',
    accepts: 'comma-separated origins',
    unique: true,
    doc: 'origins (`https://app.example.com`) whose browser pages may call the gateway; empty: same-origin only',
    parse(raw) {
      const name = 'CORS_ORIGINS';
      let origin: URL;
      try {
        origin = new URL(raw);
      } catch {
        throw new ConfigError(name, `"${raw}" is not an origin such as https://app.example.com`);
      }
      if (
        (origin.protocol !== 'http:' && origin.protocol !== 'https:') ||
        raw.replace(/\/$/, '').toLowerCase() !== origin.origin.toLowerCase()
      ) {
        throw new ConfigError(
          name,
          `"${raw}" is not an origin: give scheme, host and port only, such as https://app.example.com`,
        );
      }
      return origin.origin;
    },
  }),
  graphqlIntrospection: bool({
    env: 'GRAPHQL_INTROSPECTION',
    default: { shown: '`true` unless `NODE_ENV=production`', of: notProduction },
    doc: 'answer `__schema` and `__type`',
  }),
  graphqlLandingPage: bool({
    env: 'GRAPHQL_LANDING_PAGE',
    default: { shown: '`true` unless `NODE_ENV=production`', of: notProduction },
    doc: 'answer browsers that GET `/graphql` with links to GraphiQL and the console, and serve GraphiQL at `/graphiql`',
  }),
  consoleEnabled: bool({
    env: 'CONSOLE_ENABLED',
    default: { shown: '`true` unless `NODE_ENV=production`', of: notProduction },
    doc: 'serve the web console at `/`, and point browsers that GET `/graphql` to it (see [A console and a guide for frontends](#a-console-and-a-guide-for-frontends))',
  }),
};

function notProduction(env: Env): boolean {
  return SERVER.nodeEnv.read(env) !== 'production';
}

const MAX_BODY_BYTES = integer({
  env: 'MAX_BODY_BYTES',
  default: MIB,
  min: 1024,
  max: 64 * MIB,
  doc: 'the largest HTTP request body; larger ones get 413 `PAYLOAD_TOO_LARGE`',
});

export const LIMITS = {
  maxBodyBytes: MAX_BODY_BYTES,
  maxDepth: integer({
    env: 'GRAPHQL_MAX_DEPTH',
    default: 10,
    min: 2,
    max: 100,
    doc: 'how deep fields may nest (introspection fields excepted)',
  }),
  maxCost: integer({
    env: 'GRAPHQL_MAX_COST',
    default: 1000,
    min: 1,
    max: 10_000_000,
    doc: 'the largest estimated cost of one operation (see [Limits](#limits))',
  }),
  maxAliases: integer({
    env: 'GRAPHQL_MAX_ALIASES',
    default: 30,
    min: 0,
    max: 10_000,
    doc: 'aliases per document',
  }),
  maxBatch: integer({
    env: 'GRAPHQL_MAX_BATCH',
    default: 1,
    min: 1,
    max: 100,
    doc: 'operations per HTTP request; `1` refuses batches (JSON arrays)',
  }),
  maxTokens: integer({
    env: 'GRAPHQL_MAX_TOKENS',
    default: 10_000,
    min: 100,
    max: 1_000_000,
    doc: 'lexical tokens per document, checked while parsing',
  }),
  maxStringLength: integer({
    env: 'GRAPHQL_MAX_STRING_LENGTH',
    default: 2048,
    min: 64,
    max: MIB,
    doc: 'characters in any string argument or variable',
  }),
  maxListLength: integer({
    env: 'GRAPHQL_MAX_LIST_LENGTH',
    default: 1000,
    min: 1,
    max: 100_000,
    doc: "items in any list argument or variable (a safety net above the schema's own limits)",
  }),
  maxVariablesBytes: integer({
    env: 'GRAPHQL_MAX_VARIABLES_BYTES',
    default: 65_536,
    min: 1024,
    max: { shown: '`MAX_BODY_BYTES`', of: (env: Env) => MAX_BODY_BYTES.read(env) },
    doc: 'the approximate size of all variables together',
  }),
  maxSelections: integer({
    env: 'GRAPHQL_MAX_SELECTIONS',
    default: 500,
    min: 1,
    max: 1_000_000,
    doc: 'fields in one document, each fragment spread counting as the fields it brings; checked before validation, whose cost grows with the square of repeated selections. Over it: `QUERY_TOO_COMPLEX`',
  }),
};

export const RATE_LIMIT = {
  perMinute: integer({
    env: 'RATE_LIMIT_PER_MINUTE',
    default: 600,
    min: 0,
    max: 1_000_000,
    doc: 'requests per client per minute, refilled continuously; `0` turns the rate limit off altogether, the per-address one included',
  }),
  burst: integer({
    env: 'RATE_LIMIT_BURST',
    default: 100,
    min: 1,
    max: 1_000_000,
    doc: 'how many requests a client may send at once',
  }),
  perIpPerMinute: integer({
    env: 'RATE_LIMIT_PER_IP_PER_MINUTE',
    default: 1200,
    min: 0,
    max: 1_000_000,
    doc: 'requests (and WebSocket `subscribe` messages) per client address a minute, on top of the per-client limit, so that inventing keys does not dodge it; `0` turns it off',
  }),
  perIpBurst: integer({
    env: 'RATE_LIMIT_PER_IP_BURST',
    default: 200,
    min: 1,
    max: 1_000_000,
    doc: 'how many requests one address may send at once',
  }),
};

export const REDIS = {
  redisUrl: url({
    env: 'REDIS_URL',
    schemes: ['redis:', 'rediss:'],
    expected: 'a redis:// or rediss:// URL',
    secret: true,
    doc: 'Redis shared by several instances: status events, poll leases, redeemed verification tokens, the rate limit (unset: in memory). Never logged',
  }),
  redisKeyPrefix: verbatim({
    env: 'REDIS_KEY_PREFIX',
    default: 'avatar-gateway:',
    accepts: 'no whitespace',
    doc: 'prefix of every Redis key and channel, so that several deployments can share one Redis',
  }),
};

export const LEDGER = {
  databaseUrl: url({
    env: 'DATABASE_URL',
    schemes: ['postgres:', 'postgresql:'],
    expected: 'a postgres:// (or postgresql://) URL',
    secret: true,
    doc: 'the ledger in PostgreSQL (required with `REDIS_URL`); unset: a SQLite file at `LEDGER_PATH` (see [Tenants and the ledger](#tenants-and-the-ledger)). Its password is never logged',
  }),
  ledgerPath: text({
    env: 'LEDGER_PATH',
    default: null,
    defaultNote:
      '`./data/avatar-gateway.sqlite`; in memory with the built-in simulator (`UPSTREAM_URL` unset or `simulator`)',
    accepts: 'a file path',
    doc: 'the SQLite ledger file when `DATABASE_URL` is unset; its directory is created. The built-in simulator forgets everything on restart, so by default its ledger does too: set `LEDGER_PATH` to keep it',
  }),
  ledgerSchema: text({
    env: 'LEDGER_SCHEMA',
    default: null,
    accepts: 'an SQL identifier',
    check: (value) =>
      /^[a-z_][a-z0-9_]{0,62}$/.test(value) ? null : 'expected lowercase letters, digits and _',
    doc: "PostgreSQL only: the schema holding the ledger, created when missing; unset: the connection's current schema",
  }),
};

export const LIVE_STATUS = {
  pollIntervalMs: integer({
    env: 'POLL_INTERVAL_MS',
    default: 2000,
    min: 10,
    max: 600_000,
    doc: 'how often live subscriptions poll the upstream (asset statuses, verification tokens); slow assets back off from there',
  }),
  verificationTtlSeconds: integer({
    env: 'VERIFICATION_TTL_SECONDS',
    default: 1800,
    min: 1,
    max: 86_400,
    doc: "how long a real-person verification token may be exchanged (`expiresAt`), and the longest a `realPersonVerification` subscription waits for the person before `EXPIRED`; `1800` is the upstream's own token validity, 30 minutes (its official pages as resellers quote them; see ⑪ in `mocks/openapi.yaml`). The simulators' tokens last as long",
  }),
  h5LinkTtlSeconds: integer({
    env: 'H5_LINK_TTL_SECONDS',
    default: 120,
    min: 1,
    max: 86_400,
    doc: "how long after `startRealPersonVerification` the H5 liveness link most likely still opens (`h5LinkExpiresAt`, never after `expiresAt`), unless the upstream's answer says (`ExpiresIn`); `120` is what resellers report, the link carrying short-lived credentials. The simulators' links stop opening after it (their page answers 410)",
  }),
};

export const WEBSOCKET = {
  keepAliveMs: integer({
    env: 'WS_KEEPALIVE_MS',
    default: 12_000,
    min: 0,
    max: 600_000,
    doc: 'how often the server pings each socket; one that has not answered after as long again is dropped; `0` turns pings off',
  }),
  maxSubscriptionsPerConnection: integer({
    env: 'WS_MAX_SUBSCRIPTIONS_PER_CONNECTION',
    default: 50,
    min: 1,
    max: 10_000,
    doc: 'operations one socket may run at once; one more gets `TOO_MANY_SUBSCRIPTIONS`',
  }),
  maxPayloadBytes: integer({
    env: 'WS_MAX_PAYLOAD_BYTES',
    default: 65_536,
    min: 1024,
    max: 64 * MIB,
    doc: 'the largest WebSocket message a client may send; larger closes the socket with `1009`',
  }),
  connectionInitTimeoutMs: integer({
    env: 'WS_CONNECTION_INIT_TIMEOUT_MS',
    default: 3000,
    min: 1,
    max: 600_000,
    doc: 'how long a socket may take to send `connection_init` before it is closed with `4408`',
  }),
  maxMessagesPerSecond: integer({
    env: 'WS_MAX_MESSAGES_PER_SECOND',
    default: 20,
    min: 1,
    max: 100_000,
    doc: "messages one socket may send a second (bursts of five seconds' worth); over it closes with `1008`",
  }),
  maxConnections: integer({
    env: 'WS_MAX_CONNECTIONS',
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: 'open sockets per process; one more upgrade is refused with HTTP 503 and `Retry-After` before the handshake',
  }),
  maxConnectionsPerIp: integer({
    env: 'WS_MAX_CONNECTIONS_PER_IP',
    default: 250,
    min: 1,
    max: 1_000_000,
    doc: 'open sockets per client address; one more upgrade is refused with HTTP 429 before the handshake. Clients behind one proxy share its address unless `TRUST_PROXY_HOPS` is set',
  }),
  maxSubscriptions: integer({
    env: 'WS_MAX_SUBSCRIPTIONS',
    default: 20_000,
    min: 1,
    max: 10_000_000,
    doc: 'operations running at once over all sockets of the process; one more gets `TOO_MANY_SUBSCRIPTIONS` and the others go on',
  }),
  maxWatchedAssets: integer({
    env: 'WS_MAX_WATCHED_ASSETS',
    default: 100_000,
    min: 1,
    max: 100_000_000,
    doc: 'assets the live-status engine of the process keeps (watched, or still being read for a subscription); a subscription that would add more gets `TOO_MANY_SUBSCRIPTIONS` (`scope: "server"`) and the others go on',
  }),
  closeTimeoutMs: integer({
    env: 'WS_CLOSE_TIMEOUT_MS',
    default: 1000,
    min: 1,
    max: 60_000,
    doc: 'how long a socket the server closed may take to answer the close before it is terminated; its messages meanwhile are ignored',
  }),
};

export const SIMULATOR = {
  simulatorActivationMs: integer({
    env: 'SIMULATOR_ACTIVATION_MS',
    default: 3000,
    min: 0,
    max: 86_400_000,
    doc: 'the simulator (built-in or standalone): how long a new asset stays `PROCESSING`',
  }),
};

/** The standalone simulator's own server (`npm run simulator`, `src/simulator/main.ts`). */
export const SIMULATOR_SERVER = {
  port: integer({
    env: 'SIMULATOR_PORT',
    default: 4020,
    min: 0,
    max: 65_535,
    doc: '`npm run simulator` only (or `--port`): the port the standalone simulator listens on; `0` picks a free one',
  }),
  host: text({
    env: 'SIMULATOR_HOST',
    default: '127.0.0.1',
    accepts: 'an address',
    doc: '`npm run simulator` only (or `--host`): the interface it listens on; `0.0.0.0` in a container',
  }),
};

export const LOGGING = {
  logLevel: oneOf({
    env: 'LOG_LEVEL',
    values: LOG_LEVELS,
    default: 'info',
    doc: 'a pino level',
  }),
};

/** A group of fields under one heading of the docs. */
export interface Topic {
  readonly title: string;
  readonly fields: Readonly<Record<string, Field<unknown>>>;
}

/** Every variable, in the order of the docs. */
export const TOPICS: readonly Topic[] = [
  { title: 'Server', fields: SERVER },
  { title: 'Upstream', fields: UPSTREAM },
  { title: 'Access (see [Security](#security))', fields: { ...AUTH, ...JWT } },
  { title: 'Browsers', fields: BROWSERS },
  { title: 'Limits on requests (see [Limits](#limits))', fields: LIMITS },
  { title: 'Rate limit', fields: RATE_LIMIT },
  { title: 'Redis', fields: REDIS },
  { title: 'Ledger (see [Tenants and the ledger](#tenants-and-the-ledger))', fields: LEDGER },
  { title: 'Live status', fields: LIVE_STATUS },
  { title: 'WebSocket', fields: WEBSOCKET },
  { title: 'Simulator', fields: { ...SIMULATOR, ...SIMULATOR_SERVER } },
  { title: 'Logging', fields: LOGGING },
];
