/**
 * A real gateway on 127.0.0.1:0 over a recording simulator, with its log lines captured through
 * the production logger (redaction included), for the HTTP-tier security and operations tests.
 */
import { loadConfig, type Config } from '../../src/config/index.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServer, type RunningServer, type ServerDeps } from '../../src/server.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { Upstream } from '../../src/upstream/port.js';
import { recording, type Call } from './api-harness.js';

export interface TestGateway {
  server: RunningServer;
  url: string;
  /** `http://127.0.0.1:<port>`, for paths other than /graphql. */
  origin: string;
  state: SimulatorState;
  calls: Call[];
  config: Readonly<Config>;
  /** Every log line, raw. */
  logText(): string;
  logs(): Array<Record<string, any>>;
  /** POSTs JSON (or a raw string) to /graphql. */
  post(body: unknown, headers?: Record<string, string>): Promise<Response>;
  /** POSTs an operation and reads the JSON answer. */
  gql(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; text: string; body: any }>;
  stop(): Promise<void>;
}

export async function startTestGateway(
  options: {
    env?: Record<string, string>;
    config?: Partial<Config>;
    overrides?: Partial<Upstream>;
    deps?: Partial<ServerDeps>;
  } = {},
): Promise<TestGateway> {
  const config = Object.freeze({
    // The upstream is the in-memory state below; `simulator` keeps production configs valid.
    ...loadConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      NODE_ENV: 'test',
      UPSTREAM_URL: 'simulator',
      ...options.env,
    }),
    ...options.config,
  });
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'debug', secrets: [config.upstreamApiKey, ...config.gatewayTokens] },
    { write: (line: string) => void lines.push(line) },
  );
  const state = new SimulatorState({ activationMs: 0 });
  const { upstream, calls } = recording(state, options.overrides);
  const server = await createServer(config, { upstream, logger, ...options.deps });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(server.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
  return {
    server,
    url: server.url,
    origin: new URL(server.url).origin,
    state,
    calls,
    config,
    logText: () => lines.join(''),
    logs: () => lines.map((line) => JSON.parse(line) as Record<string, any>),
    post,
    async gql(query, variables, headers) {
      const response = await post({ query, ...(variables ? { variables } : {}) }, headers);
      const text = await response.text();
      let body: unknown = null;
      try {
        body = JSON.parse(text);
      } catch {
        // Not JSON: the test looks at `text`.
      }
      return { status: response.status, text, body };
    },
    stop: () => server.stop(),
  };
}

/** The `extensions.code` of each error in a GraphQL answer. */
export function errorCodes(body: any): string[] {
  return ((body?.errors ?? []) as Array<{ extensions?: { code?: string } }>).map(
    (e) => e.extensions?.code ?? '(none)',
  );
}
