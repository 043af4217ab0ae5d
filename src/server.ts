/**
 * The gateway's server: Apollo Server over `node:http`, GraphQL at `/graphql`. Nothing starts
 * at import; `createServer` listens and returns `{ url, stop }`, `createGraphQL` builds the
 * Apollo Server alone for in-process use (`executeOperation`).
 */
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import type { GraphQLError, GraphQLSchema } from 'graphql';
import {
  ApolloServerPluginCacheControlDisabled,
  ApolloServerPluginLandingPageDisabled,
} from '@apollo/server/plugin/disabled';
import type { JWTVerifyGetKey } from 'jose';
import type { Logger } from 'pino';
import type { Config } from './config/index.js';
import {
  createContext,
  type ContextDeps,
  type ContextRequest,
  type GatewayContext,
  type LiveServices,
} from './graphql/context.js';
import { createFormatError, type FormatError } from './errors/format.js';
import { createGraphQLHttpHandler, sendGraphQLError } from './graphql-http.js';
import { trackForDrain } from './http-drain.js';
import type { Ledger } from './ledger/index.js';
import { createOpsEndpoints, OPS_PATHS, type ReadinessCheck } from './observability/endpoints.js';
import {
  createMetrics,
  createMetricsPlugin,
  type GatewayMetrics,
} from './observability/metrics.js';
import { requestLogOf, startRequestLog } from './observability/request-log.js';
import { createAccess, type Access } from './security/access.js';
import { clientAddress } from './security/client-address.js';
import { createClientRate } from './security/client-rate.js';
import { createCorsPolicy } from './security/cors.js';
import { createGate } from './security/http-gate.js';
import { createDocumentAnalyzer, type DocumentAnalyzer } from './security/documents.js';
import { checkHttpOperations, createLimitsPlugin } from './security/limits.js';
import { createMemoryRateLimiter, type RateLimiter } from './security/rate-limit.js';
import { buildSchema } from './graphql/schema.js';
import { subscriptionTransportPlugin } from './subscriptions/apollo-plugin.js';
import { attachSubscriptions, type SubscriptionServer } from './subscriptions/server.js';
import type { Upstream } from './upstream/port.js';
import { createConsoleHandler } from './web/console.js';
import { landingPagePlugin } from './web/landing-page.js';

export const GRAPHQL_PATH = '/graphql';

export interface ServerDeps {
  /** The upstream port: the HTTP client, or the in-memory simulator. */
  upstream: Upstream;
  logger: Logger;
  /**
   * The clock.
   * @default () => new Date()
   */
  now?: () => Date;
  /**
   * Other HTTP handlers on the same server (e.g. the simulator under `/simulator`), tried in
   * order before GraphQL; each returns `true` when it took the request.
   * @default []
   */
  handlers?: Array<(req: IncomingMessage, res: ServerResponse) => boolean>;
  /**
   * This instance's metrics; pass one to share it with the upstream client and the watcher.
   * @default createMetrics()
   */
  metrics?: GatewayMetrics;
  /**
   * Checks `/readyz` runs (e.g. Redis answers); all must pass for 200.
   * @default []
   */
  readiness?: ReadinessCheck[];
  /**
   * The rate limiter (e.g. `createRedisRateLimiter`) behind the per-client and per-address
   * buckets of HTTP requests and WebSocket `subscribe` messages; `null` turns both off.
   * @default in memory from `config.rateLimit` (none when `perMinute` is 0)
   */
  rateLimiter?: RateLimiter | null;
  /**
   * Where JWT signing keys come from (tests pass a local key set).
   * @default the key set at `config.jwt.jwksUrl`
   */
  jwks?: JWTVerifyGetKey;
  /**
   * The status watcher and verification poller. With them, `createServer` also serves GraphQL
   * subscriptions over WebSocket on the same path (`src/subscriptions/server.ts`); their owner
   * stops them after the server.
   * @default none: no subscriptions
   */
  live?: LiveServices;
  /**
   * The ledger (`src/ledger/`): tenants' ownership, verification tokens, idempotent creates.
   * Its owner opens it before the server and closes it after.
   * @default none: nothing recorded, no isolation between callers of a server key
   */
  ledger?: Ledger;
}

export interface GraphQLService {
  /** Not started; call `start()` (or let `createServer` do it). */
  apollo: ApolloServer<GatewayContext>;
  /**
   * Who is calling, from an `Authorization` header value; the same check for HTTP and
   * WebSocket. Pass the result to `contextFor`.
   */
  access: Access;
  /**
   * The context of one request: from `access.authenticate`'s result (with the request's
   * logger), or, in-process, from an `Authorization` value checked by `authenticateSync`.
   */
  contextFor(request: ContextRequest | { authorization?: string }): GatewayContext;
  metrics: GatewayMetrics;
  /** The executable schema, for the WebSocket transport. */
  schema: GraphQLSchema;
  /** Apollo's `formatError` (masking and error counts), for the WebSocket transport. */
  formatError: FormatError;
  /** The analysis of documents (selection budget, limits, cost), cached for HTTP and WebSocket. */
  documents: DocumentAnalyzer;
}

/** Builds the schema and an Apollo Server around it, without any transport. */
export async function createGraphQL(
  config: Readonly<Config>,
  deps: ServerDeps,
  plugins: ApolloServerPlugin<GatewayContext>[] = [],
): Promise<GraphQLService> {
  const schema = await buildSchema();
  const access = createAccess(config, deps.jwks ? { jwks: deps.jwks } : {});
  const metrics = deps.metrics ?? createMetrics();
  const formatError = createFormatError(deps.logger, metrics, {
    hideSchemaDetails: !config.graphqlIntrospection,
  });
  const documents = createDocumentAnalyzer(schema, config.limits);
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    formatError,
    includeStacktraceInErrorResponses: false,
    introspection: config.graphqlIntrospection,
    // No "did you mean" hints that would reveal the schema when introspection is off.
    hideSchemaDetailsFromClientErrors: !config.graphqlIntrospection,
    // Batches are capped by `checkHttpOperations` (GRAPHQL_MAX_BATCH) before Apollo sees them.
    allowBatchedHttpRequests: config.limits.maxBatch > 1,
    parseOptions: { maxTokens: config.limits.maxTokens },
    maxRecursiveSelections: true,
    // index.ts handles signals; Apollo re-raising SIGTERM would defeat the exit code.
    stopOnTerminationSignals: false,
    logger: apolloLogger(deps.logger),
    plugins: [
      // A browser that opens /graphql is pointed to whichever of the two is served, so a
      // production console (CONSOLE_ENABLED without GRAPHQL_LANDING_PAGE) gets no raw CSRF error.
      config.graphqlLandingPage || config.consoleEnabled
        ? landingPagePlugin({
            console: config.consoleEnabled,
            graphiql: config.graphqlLandingPage,
          })
        : ApolloServerPluginLandingPageDisabled(),
      // No field has a cache hint, and its `willResolveField` made Apollo wrap every resolver
      // (~3% of the CPU profile); the HTTP handler sends `cache-control: no-store` instead.
      ApolloServerPluginCacheControlDisabled(),
      createLimitsPlugin(config.limits, documents),
      createMetricsPlugin(metrics),
      ...plugins,
    ],
  });
  const contextDeps: ContextDeps = { upstream: deps.upstream, logger: deps.logger };
  if (deps.now) contextDeps.now = deps.now;
  if (deps.live) contextDeps.live = deps.live;
  if (deps.ledger) contextDeps.ledger = deps.ledger;
  return {
    apollo,
    access,
    metrics,
    schema,
    formatError,
    documents,
    contextFor: (request) =>
      createContext(
        config,
        contextDeps,
        'access' in request ? request : { access: access.authenticateSync(request.authorization) },
      ),
  };
}

export interface RunningServer {
  /** Where GraphQL is served, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /**
   * Reports not ready at once; after `config.shutdownDelayMs` (serving as usual meanwhile), stops
   * accepting requests, lets in-flight ones finish (`config.shutdownTimeoutMs` at most), closes.
   * Idempotent.
   */
  stop(): Promise<void>;
}

/** Starts the gateway on `config.host`:`config.port`. */
export async function createServer(
  config: Readonly<Config>,
  deps: ServerDeps,
): Promise<RunningServer> {
  // Slow senders (slowloris) may hold a connection `httpRequestTimeoutMs` at most, headers
  // included; responses are not bound. Node checks these every `connectionsCheckingInterval`
  // (30 s by default, which held connections up to 60 s): check often enough to be on time.
  const timeoutMs = config.httpRequestTimeoutMs;
  const httpServer = createHttpServer({
    requestTimeout: timeoutMs,
    headersTimeout: timeoutMs,
    connectionsCheckingInterval: Math.max(50, Math.min(1000, Math.floor(timeoutMs / 10))),
  });
  const drain = trackForDrain(httpServer);
  const metrics = deps.metrics ?? createMetrics();
  let subscriptions: SubscriptionServer | undefined;
  const { apollo, access, contextFor, schema, formatError, documents } = await createGraphQL(
    config,
    { ...deps, metrics },
    [
      {
        serverWillStart: async () => ({ drainServer: () => drain.drain(config.shutdownTimeoutMs) }),
      },
      subscriptionTransportPlugin(() => subscriptions),
    ],
  );
  await apollo.start();
  // One origin rule for HTTP requests and WebSocket upgrades.
  const cors = createCorsPolicy(config.corsOrigins);
  const rate =
    deps.rateLimiter === null ||
    (deps.rateLimiter === undefined && config.rateLimit.perMinute === 0)
      ? null
      : createClientRate({
          limiter: deps.rateLimiter ?? createMemoryRateLimiter(config.rateLimit),
          perAddress:
            config.rateLimit.perIpPerMinute > 0
              ? { perMinute: config.rateLimit.perIpPerMinute, burst: config.rateLimit.perIpBurst }
              : null,
        });
  const refuse = (res: ServerResponse, error: GraphQLError, headers?: Record<string, string>) => {
    metrics.countRequest('unknown');
    metrics.countError(String(error.extensions['code']));
    sendGraphQLError(res, error, headers);
  };
  const addressOf = (req: IncomingMessage) => clientAddress(req, config.trustProxyHops);
  const gate = createGate({
    access,
    cors,
    rate,
    addressOf,
    refuse,
    onAccess: (req, result) =>
      requestLogOf(req)?.annotate({ principal: result.ok ? result.principal.id : null }),
  });
  const graphql = createGraphQLHttpHandler({
    apollo,
    path: GRAPHQL_PATH,
    logger: deps.logger,
    maxBodyBytes: config.limits.maxBodyBytes,
    admit: gate.admit,
    checkOperations: (body) => checkHttpOperations(body, config.limits, documents),
    onRefused: (code) => {
      metrics.countRequest('unknown');
      metrics.countError(code);
    },
    context: async (req) =>
      contextFor({
        access: gate.accessOf(req) ?? (await access.authenticate(req.headers.authorization)),
        logger: requestLogOf(req)?.logger ?? deps.logger,
        requestId: requestLogOf(req)?.requestId,
      }),
  });
  let stopping: Promise<void> | undefined;
  const ops = createOpsEndpoints({
    registry: metrics.registry,
    readiness: deps.readiness ?? [],
    stopping: () => stopping !== undefined,
  });
  const handlers = [
    ...(deps.handlers ?? []),
    // GraphiQL replaces the landing page, so it follows GRAPHQL_LANDING_PAGE.
    createConsoleHandler({
      console: config.consoleEnabled,
      graphiql: config.graphqlLandingPage,
      logger: deps.logger,
    }),
  ];
  httpServer.on('request', (req, res) => {
    startRequestLog(req, res, deps.logger, (path) => OPS_PATHS.has(path));
    res.setHeader('x-content-type-options', 'nosniff');
    if (handlers.some((handler) => handler(req, res)) || ops(req, res)) return;
    graphql(req, res);
  });
  // Listen before the WebSocket server attaches: `ws` re-emits the HTTP server's errors, and a
  // port in use must reach the caller once, as the listen error, not as a WebSocket failure.
  // No upgrade can slip in between: the attach runs in the same turn as the listen callback.
  try {
    await listen(httpServer, config.port, config.host);
  } catch (error) {
    await apollo.stop();
    throw error;
  }
  if (deps.live) {
    subscriptions = attachSubscriptions({
      httpServer,
      schema,
      path: GRAPHQL_PATH,
      allowsOrigin: (req) => cors.allowsOrigin(req),
      limits: config.ws,
      queryLimits: config.limits,
      documents,
      ...(rate ? { rate } : {}),
      clientAddress: addressOf,
      authenticate: (authorization) => access.authenticate(authorization),
      context: (granted) => contextFor({ access: granted }),
      formatError,
      logger: deps.logger,
      metrics,
    });
  }
  return {
    url: urlOf(httpServer),
    // `/readyz` answers 503 from the first call; with a delay, everything else goes on as usual
    // until the drain starts, so connections a load balancer still sends are not refused.
    stop: () =>
      (stopping ??= (async () => {
        if (config.shutdownDelayMs > 0) await sleep(config.shutdownDelayMs);
        await apollo.stop();
      })()),
  };
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

function urlOf(server: Server): string {
  const { address, port } = server.address() as AddressInfo;
  const host =
    address === '0.0.0.0' || address === '::'
      ? 'localhost'
      : address.includes(':')
        ? `[${address}]`
        : address;
  return `http://${host}:${port}${GRAPHQL_PATH}`;
}

/** Apollo's own log lines, through pino. */
function apolloLogger(logger: Logger) {
  const child = logger.child({ component: 'apollo' });
  return {
    debug: (message: string) => child.debug(message),
    info: (message: string) => child.info(message),
    warn: (message: string) => child.warn(message),
    error: (message: string) => child.error(message),
  };
}
