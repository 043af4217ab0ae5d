/**
 * Helpers for idempotent creates over the ledger: a stable digest of an operation's input, and a
 * `begin` that waits while another attempt (on any instance) holds the same key.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleepFor } from 'node:timers/promises';
import type { IdempotencyBegin, IdempotencyKey, Ledger } from './ledger.js';

/**
 * A digest of an operation's input that does not depend on key order, so that a retry with the
 * same input (however serialised) matches, and any other input does not.
 */
export function hashInput(input: unknown): string {
  return createHash('sha256').update(canonicalJson(input)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object' && !(value instanceof Date)) {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

export interface AwaitBeginOptions {
  /**
   * How often to look again while another attempt holds the key.
   * @default 100
   */
  intervalMs?: number;
  /**
   * How long to wait in all before answering `in-progress` anyway.
   * @default 30000
   */
  timeoutMs?: number;
  signal?: AbortSignal;
  /**
   * Waits `ms`; tests pass their own.
   * @default setTimeout from node:timers/promises
   */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
}

/**
 * `ledger.beginIdempotent`, waiting while the answer is `in-progress`: concurrent retries of one
 * key wait for the first attempt and then replay its answer (or reconcile, if it ended unknown).
 * Answers `in-progress` only when `timeoutMs` passes first.
 */
export async function beginIdempotentWaiting(
  ledger: Ledger,
  key: IdempotencyKey,
  inputHash: string,
  options: AwaitBeginOptions = {},
): Promise<IdempotencyBegin> {
  const { intervalMs = 100, timeoutMs = 30_000, signal } = options;
  const sleep =
    options.sleep ?? ((ms: number, s?: AbortSignal) => sleepFor(ms, undefined, { signal: s }));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const begun = await ledger.beginIdempotent(key, inputHash);
    if (begun.status !== 'in-progress' || Date.now() >= deadline) return begun;
    signal?.throwIfAborted();
    await sleep(intervalMs, signal);
  }
}
