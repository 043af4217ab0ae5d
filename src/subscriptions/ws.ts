/**
 * GraphQL subscriptions over WebSocket (the `graphql-transport-ws` protocol of graphql-ws) on the
 * gateway's own HTTP server and path.
 *
 * - **Auth** at `connection_init`: `connectionParams.authorization` (`"Bearer <token>"`; the
 *   upgrade request's `Authorization` header when absent) goes through the same `authenticate`
 *   as HTTP. A refusal closes the socket with 4403.
 * - **Only subscriptions**: queries and mutations go to `POST /graphql`, where the HTTP limits
 *   and rate limit apply; over WebSocket they get a `BAD_REQUEST` error (the socket stays open).
 * - **Checks at subscribe time**: the document's size and depth, validation, variables and cost
 *   (the HTTP limits), then the resolver's own argument checks and first read; any failure is an
 *   `error` (or `next` with `errors`) for that operation only.
 * - **Limits**: `maxSubscriptionsPerConnection` operations at once per socket (one more is refused
 *   with a `TOO_MANY_SUBSCRIPTIONS` error, the others keep running); `maxPayloadBytes` per
 *   message (larger closes with 1009); keep-alive pings every `keepAliveMs`, and a socket that
 *   misses a pong for as long is terminated.
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
 * | 1009 | a message was larger than `maxPayloadBytes` |
 * | 4400 | a message that is not valid for the protocol |
 * | 4401 | `subscribe` before the connection was acknowledged |
 * | 4403 | `connection_init` with missing or refused credentials |
 * | 4406 | the client did not offer the `graphql-transport-ws` subprotocol |
 * | 4408 | no `connection_init` within `connectionInitTimeoutMs` |
 * | 4409 | `subscribe` with an id that is already running on this socket |
 * | 4429 | a second `connection_init` on one socket |
 * | 4500 | an unexpected server error (logged; the reason says nothing more) |
 */
import type { Server } from 'node:http';
import type { ApolloServerPlugin } from '@apollo/server';
import { CloseCode, type SubscribePayload } from 'graphql-ws';
import { useServer, type Extra } from 'graphql-ws/use/ws';
import {
  getOperationAST,
  getVariableValues,
  GraphQLError,
  parse,
  validate,
  type DocumentNode,
  type ExecutionArgs,
  type GraphQLFormattedError,
  type GraphQLSchema,
} from 'graphql';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import type { Limits, WsConfig } from '../config/index.js';
import type { GatewayContext } from '../graphql/context.js';
import { TooManySubscriptionsError } from '../errors.js';
import type { AccessResult } from '../security/access.js';
import { checkOperation, checkSource, checkVariables } from '../security/limits.js';

export type GrantedAccess = Extract<AccessResult, { ok: true }>;

/** `WS_*` in the config; see each field there. */
export type SubscriptionLimits = WsConfig;

export interface SubscriptionServerOptions {
  httpServer: Server;
  schema: GraphQLSchema;
  /** The path of upgrade requests, e.g. `/graphql`; others are refused (400). */
  path: string;
  limits: SubscriptionLimits;
  /** The HTTP side's limits on documents and variables; checked at subscribe time too. */
  queryLimits?: Limits;
  /** Checks an `Authorization` value, as for HTTP. Never rejects. */
  authenticate(authorization: string | undefined): Promise<AccessResult>;
  /** The context of one operation of a socket whose `connection_init` was granted. */
  context(access: GrantedAccess, request: Extra['request']): GatewayContext;
  /** The HTTP side's `formatError`: masks and logs the unexpected. */
  formatError(formatted: GraphQLFormattedError, error: unknown): GraphQLFormattedError;
  logger: Logger;
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

interface Connection {
  access: GrantedAccess | null;
  readonly operations: Map<string, Operation>;
}

const INTERNAL_ERROR_REASON = 'Internal server error';

export function attachSubscriptions(options: SubscriptionServerOptions): SubscriptionServer {
  const { schema, limits, queryLimits, logger } = options;
  const log = logger.child({ component: 'ws' });
  const connections = new WeakMap<WebSocket, Connection>();
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: options.path,
    maxPayload: limits.maxPayloadBytes,
  });

  // Registered before `useServer`, so these listeners run before graphql-ws's own.
  wss.on('connection', (socket) => {
    const connection: Connection = { access: null, operations: new Map() };
    connections.set(socket, connection);
    dropWritesToGonePeers(socket, (code) =>
      log.debug({ code }, 'dropped a write to a socket the client closed'),
    );
    const rate = messageRate(limits.maxMessagesPerSecond);
    socket.on('message', (data) => {
      if (!rate.take()) {
        log.warn('closed a socket that sent messages too fast');
        socket.close(1008, 'Too many messages');
        return;
      }
      const id = completedId(data);
      if (id !== null) endOperation(connection, id);
    });
    socket.once('close', () => {
      for (const operation of connection.operations.values()) operation.controller.abort();
      connection.operations.clear();
    });
  });

  const connectionOf = (extra: Extra): Connection => {
    const connection = connections.get(extra.socket);
    if (!connection) throw new Error('A socket without connection state.');
    return connection;
  };

  const format = (errors: readonly GraphQLError[]): GraphQLFormattedError[] =>
    errors.map((error) => withoutHttp(options.formatError(error.toJSON(), error)));

  /** Logs an unexpected exception and closes the socket with 4500, saying nothing more. */
  const fail = (extra: Extra, error: unknown, where: string) => {
    log.error({ err: error, where }, 'unexpected error on a subscription socket');
    extra.socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
  };

  const server = useServer<Record<string, unknown>>(
    {
      schema,
      connectionInitWaitTimeout: limits.connectionInitTimeoutMs,
      // Never put an error's text into a close reason.
      isProd: true,
      onConnect: async (ctx) => {
        try {
          const access = await options.authenticate(authorizationOf(ctx));
          if (!access.ok) {
            log.debug({ reason: access.error.message }, 'connection_init refused');
            return false;
          }
          connectionOf(ctx.extra).access = access;
          return true;
        } catch (error) {
          fail(ctx.extra, error, 'onConnect');
          return false;
        }
      },
      onSubscribe: (ctx, id, payload) => {
        try {
          const connection = connectionOf(ctx.extra);
          // `ctx.subscriptions` already holds this operation's reservation.
          const running = Object.keys(ctx.subscriptions).length;
          if (running > limits.maxSubscriptionsPerConnection) {
            return [new TooManySubscriptionsError(limits.maxSubscriptionsPerConnection)];
          }
          const prepared = prepare(schema, payload, queryLimits);
          if (Array.isArray(prepared)) return prepared;
          if (connection.access === null) throw new Error('subscribe on an unauthenticated socket');
          const controller = new AbortController();
          const contextValue: GatewayContext & { signal: AbortSignal } = Object.assign(
            options.context(connection.access, ctx.extra.request),
            { signal: controller.signal },
          );
          endOperation(connection, id);
          connection.operations.set(id, { controller, payload });
          return { ...(prepared as ExecutionArgs), contextValue };
        } catch (error) {
          fail(ctx.extra, error, 'onSubscribe');
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
        const connection = connections.get(ctx.extra.socket);
        if (connection?.operations.get(id)?.payload === payload) endOperation(connection, id);
      },
    },
    wss,
    limits.keepAliveMs,
  );

  // Registered after `useServer`: replaces its socket `error` listener (which prints to the
  // console and closes with 4500) so that a client's bad frame (e.g. over `maxPayloadBytes`,
  // which `ws` answers with 1009 itself) is not reported as a server fault.
  wss.on('connection', (socket) => {
    socket.removeAllListeners('error');
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
        log.debug({ code: error.code }, 'closed a socket that sent an invalid frame');
        return;
      }
      log.error({ err: error }, 'WebSocket error');
      socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
    });
  });

  let disposing: Promise<void> | undefined;
  return {
    dispose: () =>
      (disposing ??= (async () => {
        const grace = setTimeout(() => {
          for (const socket of wss.clients) socket.terminate();
        }, options.closeGraceMs ?? 2000);
        try {
          await server.dispose();
        } finally {
          clearTimeout(grace);
        }
      })()),
    stats: () => {
      let operations = 0;
      for (const socket of wss.clients) operations += connections.get(socket)?.operations.size ?? 0;
      return { connections: wss.clients.size, operations };
    },
  };
}

function endOperation(connection: Connection, id: string): void {
  const operation = connection.operations.get(id);
  if (!operation) return;
  connection.operations.delete(id);
  operation.controller.abort();
}

/**
 * Parses, validates and checks one `subscribe` payload: the execution arguments, or the errors
 * to send for it (with the codes Apollo gives the same failures over HTTP).
 */
function prepare(
  schema: GraphQLSchema,
  payload: SubscribePayload,
  limits: Limits | undefined,
): Omit<ExecutionArgs, 'contextValue'> | GraphQLError[] {
  const source = limits ? checkSource(payload.query, limits) : null;
  if (source) return [source];
  let document: DocumentNode;
  try {
    document = parse(payload.query, limits ? { maxTokens: limits.maxTokens } : {});
  } catch (error) {
    if (error instanceof GraphQLError) return [withCode(error, 'GRAPHQL_PARSE_FAILED')];
    throw error;
  }
  const invalid = validate(schema, document);
  if (invalid.length > 0) return invalid.map((e) => withCode(e, 'GRAPHQL_VALIDATION_FAILED'));
  const operationName = payload.operationName ?? null;
  const operation = getOperationAST(document, operationName);
  if (!operation) {
    return [
      new GraphQLError(
        operationName
          ? `Unknown operation named "${operationName}".`
          : 'Could not pick an operation: name one with operationName.',
        { extensions: { code: 'OPERATION_RESOLUTION_FAILURE' } },
      ),
    ];
  }
  if (operation.operation !== 'subscription') {
    return [
      new GraphQLError(
        'Only subscriptions are served over WebSocket; send queries and mutations to POST /graphql.',
        { extensions: { code: 'BAD_REQUEST' } },
      ),
    ];
  }
  const variables = payload.variables ?? {};
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) return coerced.errors.map((e) => withCode(e, 'BAD_USER_INPUT'));
  if (limits) {
    const refused =
      checkVariables(variables, limits) ??
      checkOperation({ schema, document, operationName, variables }, limits);
    if (refused) return [refused];
  }
  return { schema, document, operationName, variableValues: variables };
}

function withCode(error: GraphQLError, code: string): GraphQLError {
  if (error.extensions['code'] !== undefined) return error;
  return new GraphQLError(error.message, {
    ...(error.nodes ? { nodes: error.nodes } : {}),
    ...(error.source ? { source: error.source } : {}),
    ...(error.positions ? { positions: error.positions } : {}),
    extensions: { ...error.extensions, code },
  });
}

/** `extensions.http` is a hint for Apollo's HTTP status; a WebSocket client has no use for it. */
function withoutHttp(error: GraphQLFormattedError): GraphQLFormattedError {
  if (!error.extensions || !('http' in error.extensions)) return error;
  const { http: _http, ...extensions } = error.extensions;
  return { ...error, extensions };
}

function authorizationOf(ctx: {
  connectionParams?: Readonly<Record<string, unknown>>;
  extra: Extra;
}): string | undefined {
  const params = ctx.connectionParams;
  if (params && 'authorization' in params) {
    return typeof params['authorization'] === 'string' ? params['authorization'] : '';
  }
  return ctx.extra.request.headers.authorization;
}

/** The id of a client `complete` message, without parsing anything else. */
function completedId(data: unknown): string | null {
  const text = Buffer.isBuffer(data) ? data.toString('utf8') : String(data);
  if (!text.includes('"complete"')) return null;
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: unknown };
    return message.type === 'complete' && typeof message.id === 'string' ? message.id : null;
  } catch {
    return null;
  }
}

/**
 * The subscription transport's Apollo plugin: on `apollo.stop()` it closes the sockets (1001)
 * while the HTTP server drains, and it refuses subscription operations sent over HTTP (which
 * would otherwise run their field once, without a stream) with `BAD_REQUEST` (HTTP 400).
 * `get` returns the subscription server once it is attached.
 */
export function subscriptionTransportPlugin(
  get: () => SubscriptionServer | undefined,
): ApolloServerPlugin<GatewayContext> {
  return {
    async serverWillStart() {
      return {
        async drainServer() {
          await get()?.dispose();
        },
      };
    },
    async requestDidStart() {
      return {
        async didResolveOperation({ operation }) {
          if (operation?.operation !== 'subscription') return;
          throw new GraphQLError(
            'Subscriptions are served over WebSocket (graphql-transport-ws) at this path, not over HTTP.',
            { extensions: { code: 'BAD_REQUEST', http: { status: 400 } } },
          );
        },
      };
    },
  };
}

/**
 * graphql-ws's adapter checks `readyState` before a send, but a peer that drops meanwhile fails
 * the write (EPIPE, ECONNRESET); the adapter then prints "Internal error occurred during message
 * handling" to the console and closes with 4500. A write to a peer that is gone is no server
 * fault: this drops it (calling `onDrop`), and the socket's `close` event cleans up.
 */
export function dropWritesToGonePeers(socket: WebSocket, onDrop: (code: unknown) => void): void {
  type Send = (data: unknown, cb?: (error?: Error) => void) => void;
  const send = socket.send.bind(socket) as Send;
  const guarded: Send = (data, cb) =>
    send(data, (error) => {
      if (error && isPeerGone(error, socket)) {
        onDrop((error as { code?: unknown }).code);
        return cb?.();
      }
      cb?.(error);
    });
  socket.send = guarded as typeof socket.send;
}

/**
 * A token bucket per socket: `perSecond` messages a second, bursts of five seconds' worth (a
 * client opening many subscriptions at once). Time comes from `now` for tests.
 */
export function messageRate(perSecond: number, now: () => number = Date.now) {
  const capacity = perSecond * 5;
  let tokens = capacity;
  let at = now();
  return {
    take(): boolean {
      const t = now();
      tokens = Math.min(capacity, tokens + ((t - at) / 1000) * perSecond);
      at = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

const PEER_GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/** True when a write failed because the other side is gone, not because of a fault here. */
function isPeerGone(error: Error & { code?: unknown }, socket: WebSocket): boolean {
  return (
    socket.readyState !== WebSocket.OPEN ||
    (typeof error.code === 'string' && PEER_GONE_CODES.has(error.code))
  );
}
