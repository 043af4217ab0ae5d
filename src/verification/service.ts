/**
 * Live real-person verification: one shared poller per (credential, token) that exchanges the
 * token (⑫ `completeVerification`) every interval until the person has finished. The memory of
 * redeemed tokens that makes ⑫'s single use invisible to callers is in `results.ts`.
 *
 * - ⑫ is single-use: the call that sees `VERIFIED` spends the token, and every later call answers
 *   `VERIFICATION_USED`. So every exchange through the gateway goes through `exchange`, which
 *   runs one call at a time per (credential, token) in this process, remembers the group of a
 *   redeemed token (per credential hash and token hash, for the token's lifetime; in Redis when
 *   the gateway runs as several instances) and answers a later exchange of the same token from
 *   that memory. A subscription that redeemed a token and a `completeRealPersonVerification`
 *   mutation after it both see the same group, in either order.
 * - Pollers of one credential share a budget (`ratePerSecond`, below the upstream's 3 QPS for
 *   ⑫, so that a mutation still has room), whatever the number of tokens watched.
 * - A poller lives while it has subscribers, and at most `tokenTtlMs` (a token is never older
 *   than that when a subscription starts, so by then it has expired).
 */
import { StatusWatcherStoppedError } from '../status/events.js';
import { QueueSubscription } from '../status/queue.js';
import { RateBudget } from '../status/rate-budget.js';
import { isUpstreamError } from '../upstream/errors.js';
import type { CallOptions, Upstream, VerificationResult } from '../upstream/port.js';
import { secretHash } from '../util/secret-hash.js';
import {
  abortable,
  positive,
  resolveLoopOptions,
  type LoopLogger,
  type LoopOptions,
  type Sleep,
} from '../util/time.js';
import { createMemoryVerificationResults, resultKey, type VerificationResults } from './results.js';

/**
 * Where a verification stands, as a subscriber sees it. Every state but `PENDING` is final.
 *
 * - `VERIFIED`: the token was redeemed (by a poller or a mutation) for `groupId`.
 * - `EXPIRED`: the token's time ran out (the upstream said so, no longer knows the token, or
 *   `tokenTtlMs` passed without a result).
 * - `FAILED`: the person did not pass the liveness check.
 * - `USED`: the token was redeemed somewhere the gateway could not learn the group from
 *   (another client of the upstream key, or an exchange whose answer was lost).
 */
export type VerificationState =
  | { status: 'PENDING' }
  | { status: 'VERIFIED'; groupId: string }
  | { status: 'EXPIRED' | 'FAILED' | 'USED' };

/**
 * What a verification subscription yields: states in order (the current one first, then the
 * final one), or `ERROR` when the poller met an error that retrying cannot fix (the credential
 * was refused, the upstream broke the contract). Both `ERROR` and final states end it.
 */
export type VerificationUpdate = VerificationState | { status: 'ERROR'; error: Error };

export type VerificationSubscription = QueueSubscription<VerificationUpdate>;

export interface VerificationServiceOptions extends LoopOptions {
  upstream: Upstream;
  /**
   * How long a remembered result is kept, and the longest a poller runs: the token lifetime
   * (`VERIFICATION_TTL_SECONDS`, 30 minutes upstream). Not the H5 link's (about 120 s): a person
   * who opened the link in time may take longer over the check, and the token still works.
   */
  tokenTtlMs: number;
  /**
   * Exchanges per second all pollers of one credential may make together. The upstream allows 3
   * for ⑫; the default leaves room for mutations.
   * @default 2
   */
  ratePerSecond?: number;
  /** @default createMemoryVerificationResults() */
  results?: VerificationResults;
  /**
   * The same budget shared with every instance (with `REDIS_URL` the gateway passes
   * `createSharedBudget` of `upstream/`): after this process's budget, an exchange also waits
   * the ms it answers, so N instances' pollers together keep to `ratePerSecond`.
   * @default undefined (this process's budget only)
   */
  sharedBudget?: { take(key: string, action: string, perSecond: number): Promise<number> };
}

export interface VerificationServiceStats {
  /** Tokens polled now. */
  pollers: number;
  /** Open subscriptions. */
  subscribers: number;
  /** Subscriptions still making their first exchange. */
  pendingWatches: number;
}

export interface VerificationService {
  /**
   * Exchanges a token once, as ⑫ does, except that a token already redeemed through this
   * gateway answers `VERIFIED` with the same group instead of `VERIFICATION_USED`. Concurrent
   * calls for the same token share one upstream call. Rejects like ⑫ otherwise.
   */
  exchange(opts: CallOptions, token: string): Promise<VerificationResult>;
  /**
   * Starts a subscription. Resolves once the current state is known and queued as the first
   * update; rejects before that with ⑫'s error for an unknown token (`UpstreamError`
   * `NOT_FOUND`) or a refused credential, with the signal's reason when it aborts, or with
   * `StatusWatcherStoppedError` after `stop()`.
   */
  watch(
    opts: CallOptions,
    token: string,
    options?: { signal?: AbortSignal },
  ): Promise<VerificationSubscription>;
  stats(): VerificationServiceStats;
  /** Ends every subscription and poller. */
  stop(): Promise<void>;
}

export function createVerificationService(
  options: VerificationServiceOptions,
): VerificationService {
  return new Verifications(options);
}

const ACTION = 'GetVisualValidateResult';

interface Poller {
  readonly key: string;
  readonly credentialKey: string;
  readonly opts: CallOptions;
  readonly token: string;
  readonly deadline: number;
  readonly controller: AbortController;
  readonly subscribers: Set<VerificationSubscription>;
  state: VerificationState;
  loop: Promise<void> | null;
}

class Verifications implements VerificationService {
  private readonly upstream: Upstream;
  private readonly tokenTtlMs: number;
  private readonly intervalMs: number;
  private readonly ratePerSecond: number;
  private readonly results: VerificationResults;
  private readonly sharedBudget: VerificationServiceOptions['sharedBudget'];
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly logger: LoopLogger;

  private readonly inflight = new Map<string, Promise<VerificationResult>>();
  private readonly pollers = new Map<string, Poller>();
  /** First checks in progress, by key. */
  private readonly starting = new Map<string, Promise<VerificationState>>();
  /** Per credential hash: the budget its pollers share, and how many pollers use it. */
  private readonly budgets = new Map<
    string,
    { budget: RateBudget<typeof ACTION>; users: number; idleAt: number }
  >();
  private readonly subscriptions = new Set<VerificationSubscription>();
  private pendingWatches = 0;
  private stopped = false;

  constructor(options: VerificationServiceOptions) {
    this.upstream = options.upstream;
    this.tokenTtlMs = positive(options.tokenTtlMs, 'tokenTtlMs');
    ({
      intervalMs: this.intervalMs,
      now: this.now,
      sleep: this.sleep,
      logger: this.logger,
    } = resolveLoopOptions(options));
    this.ratePerSecond = positive(options.ratePerSecond ?? 2, 'ratePerSecond');
    this.results = options.results ?? createMemoryVerificationResults({ now: this.now });
    this.sharedBudget = options.sharedBudget;
  }

  exchange(opts: CallOptions, token: string): Promise<VerificationResult> {
    const key = resultKey(opts.credential, token);
    const running = this.inflight.get(key);
    if (running) return running;
    const call = this.exchangeOnce(opts, token, key).finally(() => this.inflight.delete(key));
    this.inflight.set(key, call);
    return call;
  }

  private async exchangeOnce(
    opts: CallOptions,
    token: string,
    key: string,
  ): Promise<VerificationResult> {
    const known = await this.recall(key);
    if (known !== null) return { status: 'VERIFIED', groupId: known };
    try {
      const result = await this.upstream.completeVerification(opts, token);
      if (result.status === 'VERIFIED') {
        await this.results.set(key, result.groupId, this.tokenTtlMs).catch((error: unknown) => {
          this.logger.warn({ err: error }, 'verification: could not remember a redeemed token');
        });
      }
      return result;
    } catch (error) {
      // Another instance may have redeemed it a moment ago: its answer is in the shared memory.
      if (isUpstreamError(error) && error.code === 'VERIFICATION_USED') {
        const redeemed = await this.recall(key);
        if (redeemed !== null) return { status: 'VERIFIED', groupId: redeemed };
      }
      throw error;
    }
  }

  private recall(key: string): Promise<string | null> {
    return this.results.get(key).catch((error: unknown) => {
      this.logger.warn({ err: error }, 'verification: could not read remembered tokens');
      return null;
    });
  }

  async watch(
    opts: CallOptions,
    token: string,
    options: { signal?: AbortSignal } = {},
  ): Promise<VerificationSubscription> {
    const { signal } = options;
    if (this.stopped) throw new StatusWatcherStoppedError();
    signal?.throwIfAborted();
    const key = resultKey(opts.credential, token);
    let existing = this.pollers.get(key);
    if (!existing) {
      // The first exchange runs now, so that an unknown token is refused at subscribe time;
      // subscribers arriving meanwhile share it.
      let check = this.starting.get(key);
      if (!check) {
        check = this.check(opts, token).finally(() => this.starting.delete(key));
        this.starting.set(key, check);
      }
      this.pendingWatches++;
      let state: VerificationState;
      try {
        state = await abortable(check, signal);
      } finally {
        this.pendingWatches--;
      }
      if (this.stopped) throw new StatusWatcherStoppedError();
      signal?.throwIfAborted();
      if (state.status !== 'PENDING') return this.finished(state, signal);
      // Another subscriber may have started a poller while this one waited.
      existing = this.pollers.get(key) ?? this.startPoller(key, opts, token);
    }
    const poller = existing;
    const subscription = new QueueSubscription<VerificationUpdate>(
      (s) => this.detach(poller, s),
      signal,
    );
    this.subscriptions.add(subscription);
    poller.subscribers.add(subscription);
    subscription.push(poller.state);
    return subscription;
  }

  /** One exchange, as a state; rejects with the errors a subscriber should get at once. */
  private async check(opts: CallOptions, token: string): Promise<VerificationState> {
    const ckey = secretHash(opts.credential);
    this.useBudget(ckey);
    try {
      await this.takeBudget(ckey, undefined);
      return toState(await this.exchange(opts, token));
    } catch (error) {
      const final = finalState(error);
      if (final) return final;
      throw error;
    } finally {
      this.releaseBudget(ckey);
    }
  }

  private finished(state: VerificationState, signal?: AbortSignal): VerificationSubscription {
    const subscription = new QueueSubscription<VerificationUpdate>(
      (s) => this.subscriptions.delete(s),
      signal,
    );
    this.subscriptions.add(subscription);
    subscription.push(state);
    subscription.finish();
    return subscription;
  }

  private startPoller(key: string, opts: CallOptions, token: string): Poller {
    const ckey = secretHash(opts.credential);
    const poller: Poller = {
      key,
      credentialKey: ckey,
      // Not the subscriber's signal: the poller outlives the subscription that started it.
      opts: { credential: opts.credential },
      token,
      deadline: this.now() + this.tokenTtlMs,
      controller: new AbortController(),
      subscribers: new Set(),
      state: { status: 'PENDING' },
      loop: null,
    };
    this.pollers.set(key, poller);
    this.useBudget(ckey);
    poller.loop = this.run(poller).catch((error: unknown) =>
      this.logger.error({ err: error }, 'verification: poller crashed'),
    );
    return poller;
  }

  /**
   * Pollers and first checks of a credential share one budget. An unused budget is kept until
   * it would have refilled (a second), so that stopping and starting pollers never resets it.
   */
  private useBudget(ckey: string): void {
    const at = this.now();
    for (const [key, entry] of this.budgets) {
      if (entry.users === 0 && at - entry.idleAt >= 1000) this.budgets.delete(key);
    }
    const shared = this.budgets.get(ckey);
    if (shared) shared.users++;
    else {
      const budget = new RateBudget({ [ACTION]: this.ratePerSecond }, this.now);
      this.budgets.set(ckey, { budget, users: 1, idleAt: 0 });
    }
  }

  private releaseBudget(ckey: string): void {
    const shared = this.budgets.get(ckey);
    if (shared && --shared.users === 0) shared.idleAt = this.now();
  }

  private async run(poller: Poller): Promise<void> {
    const signal = poller.controller.signal;
    while (!signal.aborted) {
      await this.sleep(this.intervalMs, signal);
      if (signal.aborted) return;
      if (this.now() >= poller.deadline) return this.settle(poller, { status: 'EXPIRED' });
      await this.takeBudget(poller.credentialKey, signal);
      if (signal.aborted) return;
      let state: VerificationState;
      try {
        state = toState(await this.exchange(poller.opts, poller.token));
      } catch (error) {
        const final = finalState(error);
        if (final) return this.settle(poller, final);
        // The upstream forgets tokens some time after they expire.
        if (isUpstreamError(error) && error.code === 'NOT_FOUND') {
          return this.settle(poller, { status: 'EXPIRED' });
        }
        if (isUpstreamError(error) && isTransient(error.code)) {
          if (error.code === 'RATE_LIMITED' && error.retryAfter !== undefined) {
            this.budgets
              .get(poller.credentialKey)
              ?.budget.pause(ACTION, this.now() + error.retryAfter * 1000);
          }
          this.logger.warn({ err: error }, 'verification: poll failed; retrying');
          continue;
        }
        return this.settle(poller, {
          status: 'ERROR',
          error: error instanceof Error ? error : new Error(String(error)),
        });
      }
      if (state.status !== 'PENDING') return this.settle(poller, state);
    }
  }

  /** Waits for the credential's budget (a subscribe-time check takes one too, if it can). */
  private async takeBudget(ckey: string, signal: AbortSignal | undefined): Promise<void> {
    const shared = this.budgets.get(ckey);
    if (!shared) return;
    const waitSignal = signal ?? new AbortController().signal;
    while (!shared.budget.tryTake(ACTION)) {
      if (signal?.aborted) return;
      await this.sleep(Math.max(1, shared.budget.waitFor(ACTION)), waitSignal);
    }
    const sharedWaitMs = (await this.sharedBudget?.take(ckey, ACTION, this.ratePerSecond)) ?? 0;
    if (sharedWaitMs > 0 && !signal?.aborted) await this.sleep(sharedWaitMs, waitSignal);
  }

  /** Sends the final update to every subscriber, ends them, and ends the poller. */
  private settle(poller: Poller, update: VerificationUpdate): void {
    if (update.status !== 'ERROR') poller.state = update;
    for (const subscription of [...poller.subscribers]) {
      subscription.push(update);
      subscription.finish();
    }
    this.endPoller(poller);
  }

  private detach(poller: Poller, subscription: VerificationSubscription): void {
    this.subscriptions.delete(subscription);
    poller.subscribers.delete(subscription);
    if (poller.subscribers.size === 0) this.endPoller(poller);
  }

  private endPoller(poller: Poller): void {
    if (this.pollers.get(poller.key) !== poller) return;
    this.pollers.delete(poller.key);
    poller.controller.abort();
    this.releaseBudget(poller.credentialKey);
  }

  stats(): VerificationServiceStats {
    return {
      pollers: this.pollers.size,
      subscribers: this.subscriptions.size,
      pendingWatches: this.pendingWatches,
    };
  }

  async stop(): Promise<void> {
    this.stopped = true;
    const loops = [...this.pollers.values()].map((poller) => poller.loop);
    for (const subscription of [...this.subscriptions]) subscription.close();
    for (const poller of [...this.pollers.values()]) this.endPoller(poller);
    await Promise.all(loops);
  }
}

function toState(result: VerificationResult): VerificationState {
  return result.status === 'VERIFIED'
    ? { status: 'VERIFIED', groupId: result.groupId }
    : { status: 'PENDING' };
}

/** ⑫'s errors that end a verification, as states. */
function finalState(error: unknown): VerificationState | null {
  if (!isUpstreamError(error)) return null;
  switch (error.code) {
    case 'VERIFICATION_EXPIRED':
      return { status: 'EXPIRED' };
    case 'VERIFICATION_FAILED':
      return { status: 'FAILED' };
    case 'VERIFICATION_USED':
      return { status: 'USED' };
    default:
      return null;
  }
}

function isTransient(code: string): boolean {
  return code === 'UPSTREAM_UNAVAILABLE' || code === 'UPSTREAM_TIMEOUT' || code === 'RATE_LIMITED';
}
