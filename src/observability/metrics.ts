/**
 * Prometheus metrics on a registry of their own per gateway instance (never prom-client's
 * global one), so that tests can run several servers in one process. `createServer` serves the
 * registry at `/metrics`.
 *
 * Producers get narrow interfaces: the upstream client an `UpstreamMetrics`, the status watcher a
 * `WatcherMetrics`; neither imports prom-client.
 */
import type { ApolloServerPlugin, BaseContext, GraphQLRequestListener } from '@apollo/server';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { ERROR_CODES } from '../errors/codes.js';

/** What the upstream client reports: one call per `observe`, retries included. */
export interface UpstreamMetrics {
  /**
   * @param action the upstream action, e.g. `GetAsset` (a small fixed set).
   * @param outcome `ok`, or the `UpstreamError` code (`RATE_LIMITED`, `UPSTREAM_TIMEOUT`, ...).
   * @param seconds how long the call took.
   */
  observe(action: string, outcome: string, seconds: number): void;
}

/** The gauges of the live services, read when `/metrics` is scraped. */
export interface WatcherGauges {
  /** Live GraphQL subscriptions on this instance. */
  activeSubscriptions: number;
  /** Assets this instance polls. */
  watchedAssets: number;
}

/** What the status watcher reports. */
export interface WatcherMetrics {
  /**
   * Where the gauges come from: `read` is called at every scrape, so they follow every
   * subscribe and complete at once, not the poll loop. The last call wins.
   */
  track(read: () => WatcherGauges): void;
  /** The duration of one poll cycle. */
  observePollCycle(seconds: number): void;
}

export type OperationType = 'query' | 'mutation' | 'subscription' | 'unknown';

export interface GatewayMetrics {
  /** The instance's registry; `/metrics` serves `registry.metrics()`. */
  readonly registry: Registry;
  readonly upstream: UpstreamMetrics;
  readonly watcher: WatcherMetrics;
  /** One GraphQL operation (or a request refused before it had one: `unknown`). */
  countRequest(operationType: OperationType): void;
  /** One error sent to a client, by `extensions.code`. */
  countError(code: string): void;
}

export interface MetricsOptions {
  /**
   * Also collect prom-client's default process metrics (CPU, memory, event loop lag). They
   * install observers, so only the process's main instance should ask for them.
   * @default false
   */
  defaultMetrics?: boolean;
}

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const OPERATION_TYPES: ReadonlySet<string> = new Set(['query', 'mutation', 'subscription']);

/** Upstream calls take from milliseconds (reads) to tens of seconds (timeouts, retries). */
const UPSTREAM_BUCKETS = [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const POLL_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export function createMetrics(options: MetricsOptions = {}): GatewayMetrics {
  const registry = new Registry();
  if (options.defaultMetrics) collectDefaultMetrics({ register: registry });

  const requests = new Counter({
    name: 'graphql_requests_total',
    help: 'GraphQL operations received, by operation type (unknown: refused before parsing).',
    labelNames: ['operation_type'] as const,
    registers: [registry],
  });
  const errors = new Counter({
    name: 'graphql_errors_total',
    help: 'Errors sent to clients, by extensions.code.',
    labelNames: ['code'] as const,
    registers: [registry],
  });
  const upstreamDuration = new Histogram({
    name: 'upstream_request_duration_seconds',
    help: 'Duration of upstream calls, by upstream action.',
    labelNames: ['action'] as const,
    buckets: UPSTREAM_BUCKETS,
    registers: [registry],
  });
  const upstreamCalls = new Counter({
    name: 'upstream_calls_total',
    help: 'Upstream calls, by upstream action and outcome (ok or an error code).',
    labelNames: ['action', 'outcome'] as const,
    registers: [registry],
  });
  let gauges: (() => WatcherGauges) | null = null;
  new Gauge({
    name: 'active_subscriptions',
    help: 'Live GraphQL subscriptions on this instance.',
    registers: [registry],
    collect() {
      this.set(gauges?.().activeSubscriptions ?? 0);
    },
  });
  new Gauge({
    name: 'watched_assets',
    help: 'Assets whose status this instance polls.',
    registers: [registry],
    collect() {
      this.set(gauges?.().watchedAssets ?? 0);
    },
  });
  const pollCycle = new Histogram({
    name: 'poll_cycle_seconds',
    help: 'Duration of one status poll cycle.',
    buckets: POLL_BUCKETS,
    registers: [registry],
  });

  return {
    registry,
    upstream: {
      observe(action, outcome, seconds) {
        upstreamDuration.observe({ action }, seconds);
        upstreamCalls.inc({ action, outcome });
      },
    },
    watcher: {
      track: (read) => {
        gauges = read;
      },
      observePollCycle: (seconds) => pollCycle.observe(seconds),
    },
    countRequest(operationType) {
      requests.inc({
        operation_type: OPERATION_TYPES.has(operationType) ? operationType : 'unknown',
      });
    },
    countError(code) {
      // Codes are a closed list; anything else would be a bug, not a new label value.
      errors.inc({ code: KNOWN_CODES.has(code) ? code : 'OTHER' });
    },
  };
}

/** Counts each operation Apollo processes by type; requests refused before parsing as `unknown`. */
export function createMetricsPlugin<TContext extends BaseContext>(
  metrics: GatewayMetrics,
): ApolloServerPlugin<TContext> {
  // Stateless, so one listener serves every request (none allocated per request).
  const listener: GraphQLRequestListener<TContext> = {
    async willSendResponse({ operation }) {
      metrics.countRequest(operation?.operation ?? 'unknown');
    },
  };
  return {
    async invalidRequestWasReceived() {
      metrics.countRequest('unknown');
    },
    requestDidStart: async () => listener,
  };
}
