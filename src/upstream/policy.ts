/**
 * Retry and pacing policy, as data. Read the two tables first: `ACTIONS` (what each port method
 * is, and its documented rate) and `RETRY_RULES` (what each kind of call may retry).
 *
 * Why an explicit loop (in `transport.ts`) instead of undici's retry interceptor: the rules
 * below need things `RetryHandler` does not offer. It cannot tell a create that failed before a
 * byte was written (safe to retry) from one that failed after (the create may have happened);
 * it does not know our per-call deadline, so it would sleep past it; its waits use the global
 * clock and `setTimeout`, while ours must be injectable; and every attempt must take a token
 * from the pacing bucket. Keeping the loop small and the decisions in this module keeps the
 * policy readable in one place.
 */
import { createHash } from 'node:crypto';
import type { OperationId } from './contract.js';
import type { Upstream } from './port.js';

/** The upstream Volcengine actions, as named in `ResponseMetadata.Action`. */
export type UpstreamAction =
  | 'CreateAssetGroup'
  | 'ListAssetGroups'
  | 'GetAssetGroup'
  | 'UpdateAssetGroup'
  | 'DeleteAssetGroup'
  | 'CreateAsset'
  | 'ListAssets'
  | 'GetAsset'
  | 'UpdateAsset'
  | 'DeleteAsset'
  | 'CreateVisualValidateSession'
  | 'GetVisualValidateResult';

/**
 * - `read`: no side effect (② ③ ⑦ ⑧).
 * - `create`: makes something new each time (① ⑥ ⑪); never repeated once it may have arrived.
 * - `update` / `delete`: idempotent by id (④ ⑨ / ⑤ ⑩); repeating them converges.
 * - `exchange`: ⑫ redeems a single-use token; repeating a redemption that may have arrived would
 *   answer `BytedTokenUsed`, so it is treated like a create.
 */
export type CallKind = 'read' | 'create' | 'update' | 'delete' | 'exchange';

/** A rate: `requests` per `per`, with bursts up to `burst` (default: `requests`). */
export interface RateLimit {
  requests: number;
  per: 'second' | 'minute';
  burst?: number;
}

export interface ActionPolicy {
  /** The contract operation it calls. */
  operationId: OperationId;
  action: UpstreamAction;
  kind: CallKind;
}

/** Every port method: the contract operation, the upstream action, and the kind of call. */
export const ACTIONS = {
  createGroup: { operationId: 'createAssetGroup', action: 'CreateAssetGroup', kind: 'create' },
  listGroups: { operationId: 'listAssetGroups', action: 'ListAssetGroups', kind: 'read' },
  getGroup: { operationId: 'getAssetGroup', action: 'GetAssetGroup', kind: 'read' },
  updateGroup: { operationId: 'updateAssetGroup', action: 'UpdateAssetGroup', kind: 'update' },
  deleteGroup: { operationId: 'deleteAssetGroup', action: 'DeleteAssetGroup', kind: 'delete' },
  createAsset: { operationId: 'createAsset', action: 'CreateAsset', kind: 'create' },
  listAssets: { operationId: 'listAssets', action: 'ListAssets', kind: 'read' },
  getAsset: { operationId: 'getAsset', action: 'GetAsset', kind: 'read' },
  updateAsset: { operationId: 'updateAsset', action: 'UpdateAsset', kind: 'update' },
  deleteAsset: { operationId: 'deleteAsset', action: 'DeleteAsset', kind: 'delete' },
  startVerification: {
    operationId: 'createRealPersonSession',
    action: 'CreateVisualValidateSession',
    kind: 'create',
  },
  completeVerification: {
    operationId: 'exchangeBytedToken',
    action: 'GetVisualValidateResult',
    kind: 'exchange',
  },
} as const satisfies Record<keyof Upstream, ActionPolicy>;

export type PortMethod = keyof typeof ACTIONS;

/**
 * Documented per-account limits (upstream-api.md §3.5, "Rate limits", G5). `CreateAsset`
 * depends on the plan (3 / 120 / 300 per minute); the default is the basic plan, override it
 * with the client's `rateLimits` option.
 */
export const DEFAULT_RATE_LIMITS: Readonly<Record<UpstreamAction, RateLimit>> = {
  CreateAssetGroup: { requests: 10, per: 'second' },
  ListAssetGroups: { requests: 10, per: 'second' },
  GetAssetGroup: { requests: 10, per: 'second' },
  UpdateAssetGroup: { requests: 10, per: 'second' },
  DeleteAssetGroup: { requests: 5, per: 'second' },
  CreateAsset: { requests: 3, per: 'minute' },
  ListAssets: { requests: 10, per: 'second' },
  GetAsset: { requests: 100, per: 'second' },
  UpdateAsset: { requests: 10, per: 'second' },
  DeleteAsset: { requests: 10, per: 'second' },
  CreateVisualValidateSession: { requests: 3, per: 'second' },
  GetVisualValidateResult: { requests: 3, per: 'second' },
};

export interface RetryRule {
  /** Attempts in total, the first included. */
  maxAttempts: number;
  /** Answers worth another attempt. Never earlier than their `Retry-After`. */
  retryStatuses: readonly number[];
  /** Retry failures before anything was written (connect refused or timed out, DNS). */
  retryBeforeSend: boolean;
  /** Retry connection resets and socket errors after the request may have been written. */
  retryAfterSend: boolean;
  /**
   * After the request may have arrived, a transport failure or one of these statuses leaves
   * the outcome unknown: the error says so (`outcomeUnknown`) and the call is not repeated.
   */
  outcomeUnknownStatuses: readonly number[] | null;
  /** For deletes: a `NOT_FOUND` after an earlier attempt may have arrived means it is done. */
  notFoundAfterUnknownIsDone: boolean;
}

const IDEMPOTENT: RetryRule = {
  maxAttempts: 3,
  retryStatuses: [429, 502, 503, 504],
  retryBeforeSend: true,
  retryAfterSend: true,
  outcomeUnknownStatuses: null,
  notFoundAfterUnknownIsDone: false,
};

/**
 * Creates retry only what certainly did not happen: a connect failure (nothing was written)
 * and 429 (the upstream refused before doing anything). 500/502/504 may come after the work
 * was done (a gateway timing out behind us), so they report `outcomeUnknown`.
 */
const NOT_REPEATABLE: RetryRule = {
  maxAttempts: 3,
  retryStatuses: [429],
  retryBeforeSend: true,
  retryAfterSend: false,
  outcomeUnknownStatuses: [500, 502, 504],
  notFoundAfterUnknownIsDone: false,
};

export const RETRY_RULES: Readonly<Record<CallKind, RetryRule>> = {
  read: IDEMPOTENT,
  update: IDEMPOTENT,
  // Deleting twice answers NOT_FOUND the second time; after a lost answer that means success.
  delete: { ...IDEMPOTENT, notFoundAfterUnknownIsDone: true },
  create: NOT_REPEATABLE,
  // ⑫ is never retried on a 4xx (429 included): each answer there is a verdict on the token.
  exchange: { ...NOT_REPEATABLE, retryStatuses: [] },
};

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

// ---------------------------------------------------------------------------------------------
// Pacing: token buckets per (credential, action)

/** A reservation of one request slot. */
export interface Reservation {
  /** How long to wait before sending, in ms (0: send now). */
  waitMs: number;
  /** Gives the slot back, when the caller does not send after all. */
  cancel(): void;
}

class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    readonly capacity: number,
    /** Tokens per ms. */
    readonly rate: number,
    now: number,
  ) {
    this.tokens = capacity;
    this.updatedAt = now;
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt);
    this.tokens = Math.min(this.capacity, this.tokens + elapsed * this.rate);
    this.updatedAt = now;
  }

  /** Takes a token now, going into debt if needed: later callers queue behind earlier ones. */
  take(now: number): number {
    this.refill(now);
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil(-this.tokens / this.rate);
  }

  giveBack(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  /** A full bucket is the same as a new one, so dropping it loses nothing. */
  isFull(now: number): boolean {
    this.refill(now);
    return this.tokens >= this.capacity;
  }
}

export interface PacerOptions {
  limits: Readonly<Record<UpstreamAction, RateLimit | null>>;
  now: () => number;
  /** How often idle (full) buckets are dropped. @default 60000 */
  sweepIntervalMs?: number;
}

/**
 * Client-side pacing: delays calls so that one credential stays under the documented rate of
 * each action, instead of provoking 429 storms. Buckets are keyed by a hash of the credential
 * (the key itself is never stored) and dropped once full, so idle credentials cost nothing.
 */
export class Pacer {
  private readonly buckets = new Map<string, TokenBucket>();
  private lastSweep: number;
  private readonly sweepIntervalMs: number;

  constructor(private readonly options: PacerOptions) {
    this.lastSweep = options.now();
    this.sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  }

  /** Number of live buckets (for tests and metrics). */
  get size(): number {
    return this.buckets.size;
  }

  reserve(credential: string, action: UpstreamAction): Reservation {
    const limit = this.options.limits[action];
    const now = this.options.now();
    this.sweep(now);
    if (!limit) return { waitMs: 0, cancel: () => {} };
    const key = `${fingerprint(credential)}:${action}`;
    let bucket = this.buckets.get(key);
    if (!bucket) {
      const intervalMs = limit.per === 'second' ? 1_000 : 60_000;
      bucket = new TokenBucket(limit.burst ?? limit.requests, limit.requests / intervalMs, now);
      this.buckets.set(key, bucket);
    }
    const taken = bucket;
    let cancelled = false;
    return {
      waitMs: taken.take(now),
      cancel: () => {
        if (cancelled) return;
        cancelled = true;
        taken.giveBack();
      },
    };
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < this.sweepIntervalMs) return;
    this.lastSweep = now;
    for (const [key, bucket] of this.buckets) if (bucket.isFull(now)) this.buckets.delete(key);
  }
}

function fingerprint(credential: string): string {
  return createHash('sha256').update(credential).digest('base64url').slice(0, 22);
}
