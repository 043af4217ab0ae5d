/**
 * The engine's options, as every dialect's client exposes them (with their defaults), and
 * `createTransport`, which applies them. A dialect adds only its own options (Ark: its routing,
 * rate table, retry overrides and contract) and passes its rules.
 */
import type { Dispatcher } from 'undici';
import type { Dialect } from './dialect.js';
import { Pacer, type RateLimit } from './pacer.js';
import { DEFAULT_BACKOFF, type Backoff, type CallKind, type RetryRule } from './retry.js';
import { SharedPacer, type SharedPacingOptions } from './shared-pacing.js';
import {
  sleepUnlessAborted,
  Transport,
  type UpstreamLogger,
  type UpstreamMetrics,
} from './transport.js';

/** What every dialect client accepts for the engine: where, how long, how many, and the clock. */
export interface HttpOptions {
  /**
   * Base URL of the upstream gateway, e.g. `https://gateway.example.com`; a path prefix is kept.
   * Must not carry credentials or a query string (the key goes in `CallOptions.credential`).
   */
  baseUrl: string;
  /**
   * Overall deadline of one call in ms, pacing waits and retries included. The caller's
   * `signal` can end it earlier.
   * @default 15000
   */
  timeoutMs?: number;
  /**
   * Time to establish a TCP/TLS connection, in ms.
   * @default 3000
   */
  connectTimeoutMs?: number;
  /**
   * Time from sending to the complete response headers, in ms. undici checks it with a coarse
   * timer (about 1 s resolution); `timeoutMs` is the precise bound.
   * @default 10000
   */
  headersTimeoutMs?: number;
  /**
   * Longest silence between two body chunks, in ms (same coarse timer as `headersTimeoutMs`).
   * @default 10000
   */
  bodyTimeoutMs?: number;
  /**
   * Larger response bodies are cut off and reported as `UPSTREAM_BAD_RESPONSE`.
   * @default 1048576 (1 MiB; a page of 100 assets is about 60 KiB)
   */
  maxResponseBytes?: number;
  /**
   * Keep-alive connections to the upstream origin: bounds concurrent calls; more calls queue
   * (within their deadline). Ignored with `dispatcher`.
   * @default 16
   */
  connections?: number;
  /**
   * How long an idle keep-alive connection is kept, in ms. Ignored with `dispatcher`.
   * @default 4000
   */
  keepAliveTimeoutMs?: number;
  /**
   * Send through this undici dispatcher instead of the client's own `Pool` (tests add
   * interceptors this way). `close()` does not close it; its creator does.
   * @default undefined (a Pool per origin, owned by the client)
   */
  dispatcher?: Dispatcher;
  /**
   * Exponential backoff between attempts (jittered; never shorter than `Retry-After`).
   * @default { baseMs: 100, maxMs: 2000 }
   */
  backoff?: Partial<Backoff>;
  /**
   * Keeps the pacing buckets in Redis, shared by every client with the same Redis and key prefix
   * (the gateway passes its `REDIS_URL` commands connection): N instances together stay under
   * each action's rate. While Redis fails, pacing falls back to this process's buckets (one
   * warning per outage); a call waits at most the connection's command timeout for Redis.
   * @default undefined (buckets in this process only)
   */
  sharedPacing?: SharedPacingOptions;
  /**
   * The clock, in ms; used for deadlines, pacing and `Retry-After` dates.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits between attempts and for pacing; must reject when `signal` aborts.
   * @default setTimeout from node:timers/promises
   */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /**
   * Jitter source in [0, 1).
   * @default Math.random
   */
  random?: () => number;
  /**
   * Receives retry and pacing notes (`warn`, `debug`); a pino logger fits.
   * @default undefined (silent)
   */
  logger?: UpstreamLogger;
  /**
   * Told of every call's action, outcome (`ok` or the error code) and duration, retries included;
   * the gateway passes its Prometheus metrics.
   * @default undefined
   */
  metrics?: UpstreamMetrics;
}

/** What the dialect decides: the pace of each action, and the retry rule of each kind. */
export interface CallPolicy {
  /** Per action name; `null` or absent: not paced. */
  rateLimits: Readonly<Record<string, RateLimit | null | undefined>>;
  retryRules: Readonly<Record<CallKind, RetryRule>>;
}

/** The engine for `dialect`, with `options` and their defaults. Checks `baseUrl` first. */
export function createTransport<M extends string>(
  dialect: Dialect<M>,
  options: HttpOptions,
  policy: CallPolicy,
): Transport<M> {
  const base = new URL(options.baseUrl);
  if (base.username || base.password || base.search) {
    // The value is not repeated: it may be the secret.
    throw new TypeError('the upstream baseUrl must not carry credentials or a query string');
  }
  return new Transport({
    dialect,
    origin: base.origin,
    basePath: base.pathname.replace(/\/+$/, ''),
    timeoutMs: options.timeoutMs ?? 15_000,
    connectTimeoutMs: options.connectTimeoutMs ?? 3_000,
    headersTimeoutMs: options.headersTimeoutMs ?? 10_000,
    bodyTimeoutMs: options.bodyTimeoutMs ?? 10_000,
    maxResponseBytes: options.maxResponseBytes ?? 1024 * 1024,
    connections: options.connections ?? 16,
    keepAliveTimeoutMs: options.keepAliveTimeoutMs ?? 4_000,
    dispatcher: options.dispatcher,
    pacer: createPacer(options, policy.rateLimits),
    retryRules: policy.retryRules,
    backoff: { ...DEFAULT_BACKOFF, ...options.backoff },
    now: options.now ?? Date.now,
    sleep: options.sleep ?? sleepUnlessAborted,
    random: options.random ?? Math.random,
    logger: options.logger,
    metrics: options.metrics,
  });
}

function createPacer(options: HttpOptions, limits: CallPolicy['rateLimits']): Pacer | SharedPacer {
  const now = options.now ?? Date.now;
  if (!options.sharedPacing) return new Pacer({ limits, now });
  return new SharedPacer({ ...options.sharedPacing, limits, now, logger: options.logger });
}
