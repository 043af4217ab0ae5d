/**
 * Retry policy as data, in words every dialect shares: the kind of call (`CallKind`), how an
 * error answer bears on repeating it (`AnswerClass`, decided by the dialect), and whether a lost
 * request was written at all. A dialect lists its rules per kind (Ark's are `ark/actions.ts`
 * `RETRY_RULES`); `transport.ts` applies them. No status number appears here: turning statuses
 * into an `AnswerClass` is the dialect's job (STYLE lesson 4).
 *
 * Why an explicit loop instead of undici's retry interceptor: these rules need things
 * `RetryHandler` does not offer. It cannot tell a create that failed before a byte was written
 * (safe to retry) from one that failed after (the create may have happened); it does not know
 * our per-call deadline, so it would sleep past it; its waits use the global clock and
 * `setTimeout`, while ours must be injectable; and every attempt must take a token from the
 * pacing bucket.
 */
import type { UpstreamError } from '../errors.js';
import { codeOf, isConnectPhase, isConnectionLost } from './transport-errors.js';

/**
 * - `read`: no side effect.
 * - `create`: makes something new each time; never repeated once it may have arrived.
 * - `update` / `delete`: idempotent by id; repeating them converges.
 * - `exchange`: redeems a single-use token; repeating a redemption that may have arrived would
 *   be refused as already used, so it is treated like a create.
 */
export type CallKind = 'read' | 'create' | 'update' | 'delete' | 'exchange';

/**
 * What an error answer says about repeating the call, whatever the vendor's way of saying it:
 * - `throttled`: refused for rate before doing anything; worth repeating after `Retry-After`.
 * - `overloaded`: refused while unavailable, before doing anything.
 * - `gateway`: a proxy in between failed or timed out; transient, but the upstream may have acted.
 * - `failed`: the upstream failed while handling it; it may have acted, and repeating rarely helps.
 * - `unreadable`: a success whose body cannot be read or breaks the contract; the upstream
 *   probably acted.
 * - `final`: a verdict on the call itself (bad input, not found, …); repeating changes nothing.
 */
export type AnswerClass =
  'throttled' | 'overloaded' | 'gateway' | 'failed' | 'unreadable' | 'final';

/** Calls that must not be repeated once they may have reached the upstream. */
export function isNotRepeatable(kind: CallKind): boolean {
  return kind === 'create' || kind === 'exchange';
}

export interface RetryRule {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** Error answers worth another attempt. Never earlier than their `Retry-After`. */
  retryAnswers: readonly AnswerClass[];
  /** Retry failures before anything was written (connect refused or timed out, DNS). */
  retryBeforeSend: boolean;
  /** Retry connection resets and socket errors after the request may have been written. */
  retryAfterSend: boolean;
  /**
   * For calls that are not repeatable: these answers (like a transport failure after the request
   * may have arrived) leave the outcome unknown, and the error says so (`outcomeUnknown`).
   * `null` for repeatable calls.
   */
  outcomeUnknownAnswers: readonly AnswerClass[] | null;
  /** For deletes: a `NOT_FOUND` after an earlier attempt may have arrived means it is done. */
  notFoundAfterUnknownIsDone: boolean;
}

/**
 * The usual rule for reads, updates and deletes, which converge when repeated: retry what is
 * transient, before or after sending. Dialects start from it.
 */
export const IDEMPOTENT_RULE: RetryRule = Object.freeze({
  maxAttempts: 3,
  retryAnswers: Object.freeze(['throttled', 'gateway', 'overloaded'] as const),
  retryBeforeSend: true,
  retryAfterSend: true,
  outcomeUnknownAnswers: null,
  notFoundAfterUnknownIsDone: false,
});

/** Backoff between attempts, before `Retry-After` is applied. */
export interface Backoff {
  /** @default 100 */
  baseMs: number;
  /** @default 2000 */
  maxMs: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 100, maxMs: 2_000 };

/**
 * "Equal jitter": half of the exponential step fixed, half random, so retries spread out
 * without ever collapsing to zero. `attempt` is the 1-based attempt that just failed.
 */
export function backoffDelay(attempt: number, backoff: Backoff, random: () => number): number {
  const step = Math.min(backoff.maxMs, backoff.baseMs * 2 ** (attempt - 1));
  return Math.round(step / 2 + (step / 2) * random());
}

/** The wait before the next attempt: the backoff, but never earlier than `Retry-After`. */
export function retryDelay(
  attempt: number,
  retryAfterMs: number | undefined,
  backoff: Backoff,
  random: () => number,
): number {
  return Math.max(backoffDelay(attempt, backoff, random), retryAfterMs ?? 0);
}

/** Rules with per-kind overrides applied, e.g. `{ read: { maxAttempts: 1 } }`. */
export function withOverrides(
  rules: Readonly<Record<CallKind, RetryRule>>,
  overrides: Partial<Record<CallKind, Partial<RetryRule>>> = {},
): Record<CallKind, RetryRule> {
  const out = { ...rules };
  for (const [kind, override] of Object.entries(overrides) as [CallKind, Partial<RetryRule>][]) {
    out[kind] = { ...rules[kind], ...override };
  }
  return out;
}

/** One failed attempt, as the engine saw it. */
export type Failure =
  /** An answer that is an error, classified by the dialect. */
  | { type: 'answer'; error: UpstreamError; answer: AnswerClass }
  /** No answer: a socket or connect failure, before or after the request was written. */
  | { type: 'lost'; error: unknown; sent: boolean };

export interface AttemptState {
  /** The 1-based attempt that just failed. */
  attempt: number;
  /** Whether this or an earlier attempt may have reached the upstream. */
  mayHaveArrived: boolean;
}

/** `done`: a delete found nothing to delete after an earlier attempt may have done it. */
export type Decision = 'retry' | 'done' | 'fail';

/** What to do after a failed attempt: the rule of the call's kind, applied. Pure. */
export function decide(rule: RetryRule, failure: Failure, state: AttemptState): Decision {
  const last = state.attempt >= rule.maxAttempts;
  if (failure.type === 'answer') {
    const alreadyDeleted =
      rule.notFoundAfterUnknownIsDone && state.mayHaveArrived && failure.error.code === 'NOT_FOUND';
    if (alreadyDeleted) return 'done';
    return !last && rule.retryAnswers.includes(failure.answer) ? 'retry' : 'fail';
  }
  const code = codeOf(failure.error);
  const retryable = failure.sent
    ? rule.retryAfterSend && isConnectionLost(code)
    : rule.retryBeforeSend && (isConnectPhase(code) || isConnectionLost(code));
  return !last && retryable ? 'retry' : 'fail';
}

/**
 * Whether a call that fails now may nevertheless have been carried out: only for calls that are
 * not repeatable, after an answer the rule names, or once a request may have arrived.
 */
export function isOutcomeUnknown(
  rule: RetryRule,
  kind: CallKind,
  failure: Failure | undefined,
  mayHaveArrived: boolean,
): boolean {
  if (!isNotRepeatable(kind)) return false;
  if (failure?.type !== 'answer') return mayHaveArrived;
  return rule.outcomeUnknownAnswers?.includes(failure.answer) ?? false;
}
