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
import { ApolloServer, type ApolloServerPlugin } from '@apollo/server';
import { ApolloServerPluginDrainHttpServer } from '@apollo/server/plugin/drainHttpServer';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { createContext, type ContextDeps, type GatewayContext } from './context.js';
import { createFormatError } from './errors.js';
import { createGraphQLHttpHandler } from './graphql-http.js';
import { buildSchema } from './schema/build-schema.js';
import type { Upstream } from './upstream/port.js';

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
}

export interface GraphQLService {
  /** Not started; call `start()` (or let `createServer` do it). */
  apollo: ApolloServer<GatewayContext>;
  /** The context of one request, from its `Authorization` header value. */
  contextFor(request: { authorization?: string }): GatewayContext;
}

/** Builds the schema and an Apollo Server around it, without any transport. */
export async function createGraphQL(
  config: Readonly<Config>,
  deps: ServerDeps,
  plugins: ApolloServerPlugin<GatewayContext>[] = [],
): Promise<GraphQLService> {
  const schema = await buildSchema();
  const production = config.nodeEnv === 'production';
  const apollo = new ApolloServer<GatewayContext>({
    schema,
    formatError: createFormatError(deps.logger),
    includeStacktraceInErrorResponses: false,
    introspection: !production,
    logger: apolloLogger(deps.logger),
    plugins,
  });
  const contextDeps: ContextDeps = { upstream: deps.upstream, logger: deps.logger };
  if (deps.now) contextDeps.now = deps.now;
  return { apollo, contextFor: (request) => createContext(config, contextDeps, request) };
}

export interface RunningServer {
  /** Where GraphQL is served, e.g. `http://127.0.0.1:4000/graphql`. */
  url: string;
  /** Stops accepting requests, lets in-flight ones finish (10 s at most), closes. Idempotent. */
  stop(): Promise<void>;
}

/** Starts the gateway on `config.host`:`config.port`. */
export async function createServer(
  config: Readonly<Config>,
  deps: ServerDeps,
): Promise<RunningServer> {
  const httpServer = createHttpServer();
  const { apollo, contextFor } = await createGraphQL(config, deps, [
    ApolloServerPluginDrainHttpServer({ httpServer }),
  ]);
  await apollo.start();
  const graphql = createGraphQLHttpHandler({
    apollo,
    path: GRAPHQL_PATH,
    logger: deps.logger,
    context: async (req) => {
      const authorization = req.headers.authorization;
      return contextFor(authorization === undefined ? {} : { authorization });
    },
  });
  const handlers = deps.handlers ?? [];
  httpServer.on('request', (req, res) => {
    if (!handlers.some((handler) => handler(req, res))) graphql(req, res);
  });
  try {
    await listen(httpServer, config.port, config.host);
  } catch (error) {
    await apollo.stop();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    url: urlOf(httpServer),
    stop: () => (stopping ??= apollo.stop()),
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
