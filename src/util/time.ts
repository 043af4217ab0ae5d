/**
 * Waiting, and the options every polling loop takes. Time is injectable (house style §7): a loop
 * receives its interval, clock and sleep function, so tests pass tiny values instead of faking
 * global timers.
 *
 * Two sleeps with opposite abort semantics exist on purpose, each named for what it does: a
 * loop that checks its signal after waking wants `sleepUntilAborted` (never throws); a call that
 * must stop where it is wants `abortableSleep` (throws the signal's reason).
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { Logger } from 'pino';

/** Waits `ms`; how it ends when `signal` aborts depends on the implementation (see above). */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Waits `ms`, resolving early (never rejecting) when `signal` aborts. */
export const sleepUntilAborted: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });

/** Waits `ms`, rejecting with the signal's reason as soon as `signal` aborts. */
export const abortableSleep: Sleep = (ms, signal) => sleepFor(ms, undefined, { signal });

/** Rejects with the signal's reason as soon as it aborts; the promise itself runs on. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

/**
 * `promise`, or a rejection with `timeout()` when it has not settled within `ms`. The promise
 * itself runs on.
 */
export function within<T>(promise: Promise<T>, ms: number, timeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(timeout()), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}

/** What a background loop logs: warnings about failed rounds, errors when it crashes. */
export type LoopLogger = Pick<Logger, 'warn' | 'error'>;

/** A logger that drops everything: the default of every loop. */
export const SILENT_LOGGER: LoopLogger = {
  warn: () => undefined,
  error: () => undefined,
} as unknown as LoopLogger;

/** The options every polling loop takes (the status watcher, the verification pollers). */
export interface LoopOptions {
  /**
   * The base poll interval, in milliseconds (`POLL_INTERVAL_MS`).
   * @default 2000
   */
  intervalMs?: number;
  /**
   * The clock, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
  /**
   * Waits between rounds; it must resolve early (never reject) when the signal aborts.
   * @default sleepUntilAborted
   */
  sleep?: Sleep;
  /** Failed rounds go here; credentials and tokens never do. @default SILENT_LOGGER */
  logger?: LoopLogger;
}

/** {@link LoopOptions} with defaults applied and the interval checked. */
export function resolveLoopOptions(options: LoopOptions): Required<LoopOptions> {
  return {
    intervalMs: positive(options.intervalMs ?? 2000, 'intervalMs'),
    now: options.now ?? Date.now,
    sleep: options.sleep ?? sleepUntilAborted,
    logger: options.logger ?? SILENT_LOGGER,
  };
}

/** `value`, if it is a positive finite number; a `RangeError` naming the option otherwise. */
export function positive(value: number, name: string): number {
  if (!Number.isFinite(value) || value <= 0) throw new RangeError(`${name} must be positive`);
  return value;
}
