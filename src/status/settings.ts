/**
 * The watcher's options (public, documented with their defaults), the settings they resolve to,
 * and the counters behind `stats()` and `onTick`.
 */
import type { StatusSource } from '../upstream/status-source.js';
import type { Upstream } from '../upstream/port.js';
import { positive, resolveLoopOptions, type LoopOptions } from '../util/time.js';
import type { StatusBroker } from './broker/broker.js';

export interface StatusWatcherOptions extends LoopOptions {
  /** The only thing the watcher calls upstream. */
  upstream: Upstream;
  /**
   * How to read statuses from this upstream: which calls, how they batch, page sizes and the
   * budget per call (e.g. `arkStatusSource` from `src/upstream/ark/status-source.ts`).
   */
  source: StatusSource;
  /**
   * The longest an interval grows to, by back-off or after failures.
   * @default 30000
   */
  maxIntervalMs?: number;
  /**
   * How much an asset's interval grows after each unchanged read once it has been
   * `PROCESSING` for `backoffAfterMs` (and a group's, once no new asset appeared for as long).
   * @default 1.5
   */
  backoffFactor?: number;
  /** @default 5 × intervalMs */
  backoffAfterMs?: number;
  /**
   * How long an asset's reads may fail before its subscribers get a `stale` event.
   * @default 3 × intervalMs
   */
  staleAfterMs?: number;
  /**
   * Read assets of the same groups with one `listAssets` when that costs fewer calls (the
   * source's `planReads`); when false, every asset is read with `getAsset`.
   * @default true
   */
  batch?: boolean;
  /**
   * The watcher's own budget per credential and budget action (the source's action names), in
   * calls per second (per instance). A read that finds no budget is put off to the next
   * interval.
   * @default source.rates
   */
  rateLimits?: Readonly<Record<string, number>>;
  /**
   * Upstream calls in flight per credential.
   * @default 8
   */
  concurrency?: number;
  /**
   * The most asset ids one `watch` accepts.
   * @default 100
   */
  maxAssetIds?: number;
  /**
   * The most assets the watcher keeps (watched, or being read for a `watch`); a `watch` that
   * would add more rejects with `StatusWatcherFullError`.
   * @default Infinity
   */
  maxWatchedAssets?: number;
  /**
   * Pub/sub and leases. A broker passed in is shared and never closed by the watcher; without
   * one, the watcher uses (and closes) a private in-memory broker.
   * @default createMemoryBroker()
   */
  broker?: StatusBroker;
  /**
   * How long a new subscription waits for the broker to subscribe its credential's channel
   * before `watch` rejects with `StatusBrokerUnavailableError` (Redis is away).
   * @default 2000
   */
  brokerTimeoutMs?: number;
  /**
   * How long a poll lease lasts without renewal; leases are renewed every interval, so another
   * instance takes over a dead one's assets within about this long.
   * @default 3 × intervalMs
   */
  leaseTtlMs?: number;
  /**
   * This instance's lease owner id.
   * @default a random UUID
   */
  instanceId?: string;
  /** Called after every loop iteration, e.g. for metrics. */
  onTick?: (info: TickInfo) => void;
}

export interface TickInfo {
  /** 1-based count of loop iterations. */
  tick: number;
  startedAt: number;
  durationMs: number;
  /** Upstream calls made by this iteration, by kind: `getAsset` and `listAssets`. */
  calls: { readonly asset: number; readonly list: number };
  /** Calls of this iteration that failed (other than `NOT_FOUND`). */
  errors: number;
  /** Leases this instance holds after the iteration. */
  heldLeases: number;
}

/** The watcher's options, defaults applied. */
export interface Settings {
  readonly intervalMs: number;
  readonly maxIntervalMs: number;
  readonly backoffFactor: number;
  readonly backoffAfterMs: number;
  readonly staleAfterMs: number;
  readonly batch: boolean;
  readonly rateLimits: Readonly<Record<string, number>>;
  readonly concurrency: number;
  readonly maxAssetIds: number;
  readonly maxWatchedAssets: number;
  readonly brokerTimeoutMs: number;
}

export function resolveSettings(options: StatusWatcherOptions): Settings {
  const { intervalMs } = resolveLoopOptions(options);
  return Object.freeze({
    intervalMs,
    maxIntervalMs: Math.max(intervalMs, positive(options.maxIntervalMs ?? 30_000, 'maxIntervalMs')),
    backoffFactor: Math.max(1, options.backoffFactor ?? 1.5),
    backoffAfterMs: options.backoffAfterMs ?? 5 * intervalMs,
    staleAfterMs: options.staleAfterMs ?? 3 * intervalMs,
    batch: options.batch ?? true,
    rateLimits: Object.freeze({ ...options.source.rates, ...options.rateLimits }),
    concurrency: Math.max(1, Math.floor(options.concurrency ?? 8)),
    maxAssetIds: Math.max(1, Math.floor(options.maxAssetIds ?? 100)),
    maxWatchedAssets: Math.max(1, options.maxWatchedAssets ?? Number.POSITIVE_INFINITY),
    brokerTimeoutMs: positive(options.brokerTimeoutMs ?? 2000, 'brokerTimeoutMs'),
  });
}

/** The running totals behind `stats()`. */
export interface Totals {
  /** Upstream calls made by the loop. */
  pollsTotal: number;
  pollErrorsTotal: number;
  /** Upstream calls made by `watch` for initial state. */
  subscribeReadsTotal: number;
  eventsTotal: number;
  ticksTotal: number;
}

/** Upstream calls and failures of one loop iteration, for `onTick`. */
export interface Counters {
  /** By kind of read (the loop reads no groups). */
  calls: { asset: number; list: number };
  errors: number;
}
