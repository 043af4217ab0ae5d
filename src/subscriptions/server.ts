/**
 * GraphQL subscriptions over WebSocket (the `graphql-transport-ws` protocol of graphql-ws) on the
 * gateway's own HTTP server and path: graphql-ws's protocol core (`makeServer`) with the
 * gateway's hooks, over our own transport (`adapter.ts`).
 *
 * - **Auth** at `connection_init`: `connectionParams.authorization` (`"Bearer <token>"`; the
 *   upgrade request's `Authorization` header when absent) goes through the same `authenticate`
 *   as HTTP. A refusal closes the socket with 4403.
 * - **Only subscriptions**: queries and mutations go to `POST /graphql`, where the HTTP limits
 *   and rate limit apply; over WebSocket they get a `BAD_REQUEST` error (the socket stays open).
 * - **Checks at subscribe time** (`operation.ts`): the document's size and depth, validation,
 *   variables and cost (the HTTP limits), then the resolver's own argument checks and first
 *   read; any failure is an `error` (or `next` with `errors`) for that operation only.
 * - **Limits**: `maxConnections` sockets per process (one more upgrade answers HTTP 503) and
 *   `maxConnectionsPerIp` per client address (HTTP 429); `maxSubscriptionsPerConnection`
 *   operations at once per socket and `maxSubscriptions` per process (one more is refused with
 *   a `TOO_MANY_SUBSCRIPTIONS` error, the others keep running); each `subscribe` takes a token
 *   of the client's HTTP rate limit (`RATE_LIMITED` error when out); `maxPayloadBytes` per
 *   message (larger closes with 1009); `maxMessagesPerSecond` (faster closes with 1008);
 *   keep-alive pings every `keepAliveMs`, and a socket that misses a pong for as long is
 *   terminated; a socket that ignores the server's close is terminated after `closeTimeoutMs`.
 * - **Cleanup**: each operation gets an `AbortSignal` that aborts when the client completes it
 *   or the socket closes, also while `subscribe` is still resolving (graphql-ws #532), so the
 *   watcher releases everything however a socket goes.
 * - **Errors** go through the same `formatError` as HTTP: unexpected ones are masked and logged.
 *   An unexpected exception outside execution closes the socket with 4500, without detail.
 *
 * Close codes a client can see:
 *
 * | code | when |
 * | --- | --- |
 * | 1000 | the client closed normally |
 * | 1001 | the server is shutting down |
 * | 1006 | (client side) a socket that missed a keep-alive pong was terminated |
 * | 1008 | more messages than `maxMessagesPerSecond` (bursts of five seconds' worth) |
 * | 1009 | a message was larger than `maxPayloadBytes` |
 * | (HTTP 503, no socket) | the process already holds `maxConnections` sockets |
 * | (HTTP 429, no socket) | the client's address already holds `maxConnectionsPerIp` sockets |
 * | 4400 | a message that is not valid for the protocol |
 * | 4401 | `subscribe` before the connection was acknowledged |
 * | 4403 | `connection_init` with missing or refused credentials |
 * | 4406 | the client did not offer the `graphql-transport-ws` subprotocol |
 * | 4408 | no `connection_init` within `connectionInitTimeoutMs` |
 * | 4409 | `subscribe` with an id that is already running on this socket |
 * | 4429 | a second `connection_init` on one socket |
 * | 4500 | an unexpected server error (logged; the reason says nothing more) |
 */
import type { IncomingMessage, Server } from 'node:http';
import { CloseCode, makeServer, type Context, type SubscribePayload } from 'graphql-ws';
import { GraphQLError, type GraphQLFormattedError, type GraphQLSchema } from 'graphql';
import type { Logger } from 'pino';
import type { WebSocket } from 'ws';
import type { Limits, WsConfig } from '../config/index.js';
import type { GatewayContext } from '../graphql/context.js';
import type { GatewayMetrics } from '../observability/metrics.js';
import { GatewayRateLimitedError, TooManySubscriptionsError } from '../errors/gateway-error.js';
import type { AccessResult } from '../security/access.js';
import type { ClientRate } from '../security/client-rate.js';
import { createDocumentAnalyzer, type DocumentAnalyzer } from '../security/documents.js';
import { addressOf, INTERNAL_ERROR_REASON, serveWebSocket } from './adapter.js';
import { prepare } from './operation.js';
import { sampledWarn } from '../util/log-sampler.js';

export type GrantedAccess = Extract<AccessResult, { ok: true }>;

/** `WS_*` in the config; see each field there. */
export type SubscriptionLimits = WsConfig;

export interface SubscriptionServerOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  /** The path of upgrade requests, e.g. `/graphql`; others are refused (400). */
  path: string;
  /**
   * The HTTP side's origin rule (`CorsPolicy.allowsOrigin`); an upgrade it refuses gets 403.
   * @default every origin
   */
  allowsOrigin?: (request: IncomingMessage) => boolean;
  limits: SubscriptionLimits;
  /** The HTTP side's limits on documents and variables; checked at subscribe time too. */
  queryLimits?: Limits;
  /**
   * The analysis of documents, shared with HTTP (made for `schema` and `queryLimits`).
   * @default createDocumentAnalyzer(schema, queryLimits)
   */
  documents?: DocumentAnalyzer;
  /**
   * The HTTP side's per-client rate; each `subscribe` takes from it.
   * @default none: no rate limit on `subscribe`
   */
  rate?: ClientRate;
  /**
   * The client's address, for the per-address socket cap and rate (the HTTP side's).
   * @default the connecting address
   */
  clientAddress?: (request: IncomingMessage) => string;
  /** Checks an `Authorization` value, as for HTTP. Never rejects. */
  authenticate(authorization: string | undefined): Promise<AccessResult>;
  /** The context of one operation of a socket whose `connection_init` was granted. */
  context(access: GrantedAccess, request: IncomingMessage): GatewayContext;
  /** The HTTP side's `formatError`: masks and logs the unexpected. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  logger: Logger;
  /**
   * Counts each `subscribe` in `graphql_requests_total`: `subscription` when it runs, `unknown`
   * when it is refused (only subscriptions run over WebSocket).
   */
  metrics?: Pick<GatewayMetrics, 'countRequest'>;
  /**
   * On `dispose`, how long sockets get to finish the closing handshake before they are
   * terminated.
   * @default 2000
   */
  closeGraceMs?: number;
}

export interface SubscriptionServerStats {
  /** Open sockets. */
  connections: number;
  /** Operations starting or running, over all sockets. */
  operations: number;
}

export interface SubscriptionServer {
  /**
   * Closes every socket with 1001 (terminating those that do not finish the handshake within
   * `closeGraceMs`) and stops accepting upgrades. Idempotent. Subscriptions end with their
   * sockets; the watcher itself is stopped by its owner.
   */
  dispose(): Promise<void>;
  stats(): SubscriptionServerStats;
}

interface Operation {
  readonly controller: AbortController;
  /** graphql-ws passes the same payload object to `onComplete`: it tells reused ids apart. */
  readonly payload: SubscribePayload;
}

/** One socket's state: graphql-ws's `ctx.extra`. */
interface Connection {
  readonly socket: WebSocket;
  readonly request: IncomingMessage;
  access: GrantedAccess | null;
  readonly operations: Map<string, Operation>;
}

type SocketContext = Context<Record<string, unknown>, Connection>;

export function attachSubscriptions(options: SubscriptionServerOptions): SubscriptionServer {
  const { schema, limits, queryLimits } = options;
  const documents = options.documents ?? createDocumentAnalyzer(schema, queryLimits);
  const log = options.logger.child({ component: 'ws' });
  const warnFull = sampledWarn(log, 'refused a subscription: the server is full');
  const connections = new Set<Connection>();
  const clientAddress = options.clientAddress ?? addressOf;
  /** Operations registered over all sockets (`maxSubscriptions`). */
  let running = 0;

  /** Aborts operation `id` of a socket, if it still runs. */
  const endOperation = (connection: Connection, id: string): void => {
    const operation = connection.operations.get(id);
    if (!operation) return;
    connection.operations.delete(id);
    running--;
    operation.controller.abort();
  };

  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => withoutHttp(options.formatError(error.toJSON(), error)));

  /** Logs an unexpected exception and closes the socket with 4500, saying nothing more. */
  const fail = (connection: Connection, error: unknown, where: string) => {
    log.error({ err: error, where }, 'unexpected error on a subscription socket');
    connection.socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
  };

  const protocol = makeServer<Record<string, unknown>, Connection>({
    schema,
    connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
    onConnect: async (ctx) => {
      try {
        const access = await options.authenticate(authorizationOf(ctx));
        if (!access.ok) {
          log.debug({ reason: access.error.message }, 'connection_init refused');
          return false;
        }
        ctx.extra.access = access;
        return true;
      } catch (error) {
        fail(ctx.extra, error, 'onConnect');
        return false;
      }
    },
    onSubscribe: async (ctx, id, payload) => {
      const connection = ctx.extra;
      try {
        // `ctx.subscriptions` already holds this operation's reservation.
        if (Object.keys(ctx.subscriptions).length > limits.maxSubscriptionsPerConnection) {
          options.metrics?.countRequest('unknown');
          return [new TooManySubscriptionsError(limits.maxSubscriptionsPerConnection)];
        }
        if (running >= limits.maxSubscriptions) {
          options.metrics?.countRequest('unknown');
          warnFull({ max: limits.maxSubscriptions });
          return [new TooManySubscriptionsError(limits.maxSubscriptions, 'server')];
        }
        if (connection.access === null) throw new Error('subscribe on an unauthenticated socket');
        if (options.rate) {
          const decision = await options.rate.take(
            connection.access,
            clientAddress(connection.request),
          );
          if (!decision.allowed) {
            options.metrics?.countRequest('unknown');
            return [new GatewayRateLimitedError(decision.retryAfterSeconds)];
          }
          // Completed, or the socket closed, while this one waited: nothing to start (graphql-ws
          // sends no error for an id it no longer holds).
          if (!(id in ctx.subscriptions)) return [new GraphQLError('Subscription ended.')];
          // Others may have subscribed while this one waited.
          if (running >= limits.maxSubscriptions) {
            return [new TooManySubscriptionsError(limits.maxSubscriptions, 'server')];
          }
        }
        const prepared = prepare(schema, payload, queryLimits, documents);
        options.metrics?.countRequest(Array.isArray(prepared) ? 'unknown' : 'subscription');
        if (Array.isArray(prepared)) return prepared;
        const controller = new AbortController();
        const contextValue: GatewayContext & { signal: AbortSignal } = Object.assign(
          options.context(connection.access, connection.request),
          { signal: controller.signal },
        );
        endOperation(connection, id);
        connection.operations.set(id, { controller, payload });
        running++;
        return { ...prepared, contextValue };
      } catch (error) {
        fail(connection, error, 'onSubscribe');
        return [new GraphQLError(INTERNAL_ERROR_REASON)];
      }
    },
    onNext: (_ctx, _id, _payload, _args, result) =>
      result.errors
        ? {
            ...(result.data === undefined ? {} : { data: result.data }),
            errors: format(result.errors),
          }
        : undefined,
    onError: (_ctx, _id, _payload, errors) => format(errors),
    onComplete: (ctx, id, payload) => {
      if (ctx.extra.operations.get(id)?.payload === payload) endOperation(ctx.extra, id);
    },
  });

  const transport = serveWebSocket<Connection>({
    httpServer: options.httpServer,
    path: options.path,
    ...(options.allowsOrigin ? { allowsOrigin: options.allowsOrigin } : {}),
    protocol,
    extra: (socket, request) => {
      const connection: Connection = { socket, request, access: null, operations: new Map() };
      connections.add(connection);
      return connection;
    },
    onClientComplete: endOperation,
    onClose: (connection) => {
      connections.delete(connection);
      for (const id of [...connection.operations.keys()]) endOperation(connection, id);
    },
    keepAliveMs: limits.keepAliveMs,
    maxPayloadBytes: limits.maxPayloadBytes,
    maxMessagesPerSecond: limits.maxMessagesPerSecond,
    maxConnections: limits.maxConnections,
    maxConnectionsPerIp: limits.maxConnectionsPerIp,
    closeTimeoutMs: limits.closeTimeoutMs,
    clientAddress,
    logger: log,
  });

  let disposing: Promise<void> | undefined;
  return {
    dispose: () =>
      (disposing ??= (async () => {
        const grace = setTimeout(() => transport.terminate(), options.closeGraceMs ?? 2000);
        try {
          await transport.close();
        } finally {
          clearTimeout(grace);
        }
      })()),
    stats: () => ({ connections: transport.size, operations: running }),
  };
}

/** `extensions.http` is a hint for Apollo's HTTP status; a WebSocket client has no use for it. */
function withoutHttp(error: GraphQLFormattedError): GraphQLFormattedError {
  if (!error.extensions || !('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return { ...error, extensions };
}

function authorizationOf(ctx: SocketContext): string | undefined {
  const params = ctx.connectionParams;
  if (params && 'authorization' in params) {
    return typeof params['authorization'] === 'string' ? params['authorization'] : '';
  }
  return ctx.extra.request.headers.authorization;
}
