/**
 * The dialect-free HTTP engine: one upstream call over undici with a deadline, pacing, bounded
 * attempts and a size-capped body. Each attempt goes: build the request (the dialect), send it,
 * classify the answer (the dialect), decide (`retry.ts`). Vendor facts (paths, envelopes, error
 * tables, contract checks) arrive through the `Dialect` object; nothing here names a vendor or
 * inspects a status number.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import { UpstreamError } from '../errors.js';
import type { CallOptions } from '../port.js';
import type { CallRequest, Dialect, HttpAnswer, HttpRequest } from './dialect.js';
import type { CallPacer } from './pacer.js';
import {
  decide,
  isOutcomeUnknown,
  retryDelay,
  type Backoff,
  type CallKind,
  type Failure,
  type RetryRule,
} from './retry.js';
import {
  codeOf,
  mapTransportError,
  parseRetryAfter,
  withOutcomeUnknown,
  type StopReason,
} from './transport-errors.js';

/** Where call durations and outcomes go; `src/observability/metrics.ts` implements it. */
export interface UpstreamMetrics {
  /** `outcome` is `ok` or the `UpstreamError` code. */
  observe(action: string, outcome: string, seconds: number): void;
}

/** The subset of a pino logger the client uses. Nothing logged carries a credential or URL. */
export interface UpstreamLogger {
  warn(fields: object, message: string): void;
  debug(fields: object, message: string): void;
}

export interface TransportSettings<M extends string> {
  /** The vendor: what each method calls, how to build its request and read its answer. */
  dialect: Dialect<M>;
  origin: string;
  /** A path prefix of the base URL, without a trailing slash (may be empty). */
  basePath: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxResponseBytes: number;
  connections: number;
  keepAliveTimeoutMs: number;
  dispatcher?: Dispatcher;
  /** Slots per (credential, action name `DialectAction.action`): in memory or shared. */
  pacer: CallPacer;
  retryRules: Readonly<Record<CallKind, RetryRule>>;
  backoff: Backoff;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  logger?: UpstreamLogger;
  /** Told of every call (retries included in its duration) with its outcome. */
  metrics?: UpstreamMetrics;
}

/**
 * The engine's wait: resolves after `ms`, and rejects as soon as `signal` aborts (so a deadline
 * or a caller's cancel ends a retry wait at once).
 */
export const sleepUnlessAborted = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, { signal });

/** What one attempt brought back: an answer, or a failure without one. */
type Attempt =
  | { type: 'answer'; answer: HttpAnswer }
  | { type: 'lost'; error: unknown; sent: boolean; stop?: StopReason };

class TooLarge extends Error {}

/** A per-call deadline combined with the caller's signal; remembers which one fired first. */
class Deadline {
  readonly signal: AbortSignal;
  readonly at: number;
  private readonly controller = new AbortController();
  private reason: StopReason | undefined;
  private readonly timer: NodeJS.Timeout;
  private readonly onCallerAbort = () => this.stop({ kind: 'cancelled' });

  constructor(
    timeoutMs: number,
    now: number,
    private readonly caller: AbortSignal | undefined,
  ) {
    this.signal = this.controller.signal;
    this.at = now + timeoutMs;
    this.timer = setTimeout(() => this.stop({ kind: 'deadline', timeoutMs }), timeoutMs);
    if (caller?.aborted) this.onCallerAbort();
    else caller?.addEventListener('abort', this.onCallerAbort, { once: true });
  }

  get stopped(): StopReason | undefined {
    return this.reason;
  }

  private stop(reason: StopReason): void {
    if (this.reason) return;
    this.reason = reason;
    // Our own reason object: undici rejects with it, and it carries nothing from the caller.
    this.controller.abort(new Error(reason.kind === 'deadline' ? 'deadline' : 'cancelled'));
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.caller?.removeEventListener('abort', this.onCallerAbort);
  }
}

/** Whether undici started writing a request; passed as the request's `opaque`. */
class SendState {
  sent = false;
}

/**
 * Marks the moment undici starts writing the request on a connected socket. Before it, a
 * failure (connect refused or timed out) proves nothing was sent, so even a create may retry.
 * Composed once per transport (each `compose` builds a Proxy); the state rides in `opaque`.
 */
const markSent: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (opts, handler) => {
  const state = (opts as { opaque?: unknown }).opaque;
  if (!(state instanceof SendState)) return dispatch(opts, handler);
  return dispatch(opts, {
    onRequestStart(controller, context) {
      state.sent = true;
      handler.onRequestStart?.(controller, context);
    },
    onRequestUpgrade: (...args) => handler.onRequestUpgrade?.(...args),
    onResponseStart: (...args) => handler.onResponseStart?.(...args),
    onResponseData: (...args) => handler.onResponseData?.(...args),
    onResponseEnd: (...args) => handler.onResponseEnd?.(...args),
    onResponseError: (...args) => handler.onResponseError?.(...args),
  });
};

export class Transport<M extends string> {
  private readonly dispatcher: Dispatcher;
  private readonly owned: Pool | undefined;

  constructor(private readonly settings: TransportSettings<M>) {
    if (settings.dispatcher) {
      this.dispatcher = settings.dispatcher.compose(markSent);
    } else {
      // One pool per origin: keep-alive connections, bounded in number (further calls queue).
      this.owned = new Pool(settings.origin, {
        connections: settings.connections,
        connect: { timeout: settings.connectTimeoutMs },
        keepAliveTimeout: settings.keepAliveTimeoutMs,
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
      });
      this.dispatcher = this.owned.compose(markSent);
    }
  }

  /** Closes the client's own pool (an injected dispatcher belongs to its creator). */
  async close(): Promise<void> {
    await this.owned?.close();
  }

  /**
   * Calls one method of the dialect under its retry rule; resolves with the classified success
   * body, or `null` when a delete turned out to be done already (its caller ignores the body).
   * Rejects with `UpstreamError` only.
   */
  async call(method: M, context: CallOptions, request: CallRequest): Promise<unknown> {
    const { metrics, now } = this.settings;
    if (!metrics) return this.run(method, context, request);
    const started = now();
    const observe = (outcome: string) =>
      metrics.observe(
        this.settings.dialect.actions[method].action,
        outcome,
        (now() - started) / 1000,
      );
    try {
      const body = await this.run(method, context, request);
      observe('ok');
      return body;
    } catch (error) {
      observe(error instanceof UpstreamError ? error.code : 'UNKNOWN');
      throw error;
    }
  }

  /** Attempt, classify, decide; until an answer, a verdict, or the deadline. */
  private async run(method: M, context: CallOptions, request: CallRequest): Promise<unknown> {
    const { dialect, now, sleep, logger } = this.settings;
    const { action, kind } = dialect.actions[method];
    const rule = this.settings.retryRules[kind];
    if (!context.credential) {
      throw new UpstreamError('UNAUTHENTICATED', `${action} needs an upstream credential.`, {
        action,
      });
    }
    const secrets = [context.credential];
    const deadline = new Deadline(this.settings.timeoutMs, now(), context.signal);
    // This or an earlier attempt may have reached the upstream.
    let mayHaveArrived = false;
    const stopped = (stop: StopReason, error?: unknown) =>
      mapTransportError({
        action,
        error,
        stop,
        outcomeUnknown: isOutcomeUnknown(rule, kind, undefined, mayHaveArrived),
        secrets,
      });
    const wait = async (ms: number) => {
      try {
        await sleep(ms, deadline.signal);
      } catch (error) {
        throw stopped(deadline.stopped ?? { kind: 'cancelled' }, error);
      }
      if (deadline.stopped) throw stopped(deadline.stopped);
    };

    try {
      if (deadline.stopped) throw stopped(deadline.stopped);
      for (let attempt = 1; ; attempt++) {
        await this.pace(action, context.credential, deadline, wait);
        const outcome = await this.attempt(
          dialect.buildRequest(method, context, request),
          context,
          deadline,
        );

        let failure: Failure;
        if (outcome.type === 'answer') {
          const classified = dialect.classify(method, outcome.answer, secrets);
          if (classified.ok) return classified.body;
          failure = { type: 'answer', error: classified.error, answer: classified.answer };
        } else {
          if (outcome.sent) mayHaveArrived = true;
          if (outcome.stop) throw stopped(outcome.stop, outcome.error);
          failure = { type: 'lost', error: outcome.error, sent: outcome.sent };
        }

        const decision = decide(rule, failure, { attempt, mayHaveArrived });
        if (decision === 'done') {
          logger?.debug({ action, attempt }, 'upstream delete was already done');
          return null;
        }
        if (decision === 'retry') {
          const retryAfter = failure.type === 'answer' ? failure.error.retryAfter : undefined;
          const delay = retryDelay(
            attempt,
            retryAfter === undefined ? undefined : retryAfter * 1000,
            this.settings.backoff,
            this.settings.random,
          );
          // Waiting past the deadline helps nobody: fail now, with `retryAfter` for the caller.
          if (now() + delay <= deadline.at) {
            logger?.warn(
              { action, attempt, ...logFields(failure), delayMs: delay },
              'upstream call failed; retrying',
            );
            await wait(delay);
            continue;
          }
        }
        const outcomeUnknown = isOutcomeUnknown(rule, kind, failure, mayHaveArrived);
        if (failure.type === 'answer') {
          throw outcomeUnknown ? withOutcomeUnknown(failure.error) : failure.error;
        }
        throw mapTransportError({ action, error: failure.error, outcomeUnknown, secrets });
      }
    } finally {
      deadline.dispose();
    }
  }

  /** Waits for a slot of the (credential, action) bucket, or fails if it would pass the deadline. */
  private async pace(
    action: string,
    credential: string,
    deadline: Deadline,
    wait: (ms: number) => Promise<void>,
  ): Promise<void> {
    const reservation = await this.settings.pacer.reserve(credential, action);
    if (reservation.waitMs === 0) return;
    if (this.settings.now() + reservation.waitMs > deadline.at) {
      reservation.cancel();
      throw new UpstreamError(
        'RATE_LIMITED',
        `${action} is over its client-side rate limit; the next slot is after the call's deadline.`,
        { action, retryAfter: Math.ceil(reservation.waitMs / 1000) },
      );
    }
    this.settings.logger?.debug({ action, delayMs: reservation.waitMs }, 'pacing upstream call');
    try {
      await wait(reservation.waitMs);
    } catch (error) {
      reservation.cancel();
      throw error;
    }
  }

  /** Sends one request and reads its answer (size-capped, JSON-parsed) or how it was lost. */
  private async attempt(
    request: HttpRequest,
    context: CallOptions,
    deadline: Deadline,
  ): Promise<Attempt> {
    const { settings } = this;
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${context.credential}`,
      ...(context.requestId ? { 'x-request-id': context.requestId } : {}),
      ...(request.body === undefined ? {} : { 'content-type': 'application/json' }),
    };

    const state = new SendState();
    let response: Dispatcher.ResponseData<SendState>;
    try {
      response = await this.dispatcher.request({
        opaque: state,
        origin: settings.origin,
        path: settings.basePath + request.path,
        method: request.method,
        headers,
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
        signal: deadline.signal,
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
      });
    } catch (error) {
      return { type: 'lost', error, sent: state.sent, stop: deadline.stopped };
    }

    let raw: Buffer;
    try {
      raw = await readCapped(response, settings.maxResponseBytes);
    } catch (error) {
      if (error instanceof TooLarge) {
        const stop: StopReason = { kind: 'too-large', limit: settings.maxResponseBytes };
        return { type: 'lost', error, sent: true, stop };
      }
      return { type: 'lost', error, sent: true, stop: deadline.stopped };
    }

    let body: unknown;
    let json = true;
    try {
      body = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      json = false;
    }
    const retryAfter = parseRetryAfter(response.headers['retry-after'], settings.now());
    return { type: 'answer', answer: { status: response.statusCode, body, json, retryAfter } };
  }
}

/** The fields a retry's log line carries (never a credential or URL). */
function logFields(failure: Failure): object {
  return failure.type === 'answer'
    ? {
        status: failure.error.status,
        upstreamCode: failure.error.upstreamCode,
        requestId: failure.error.requestId,
      }
    : { errorCode: codeOf(failure.error), sent: failure.sent };
}

async function readCapped(
  response: Dispatcher.ResponseData<unknown>,
  limit: number,
): Promise<Buffer> {
  const { body } = response;
  // Destroying the stream below emits `error`; the iterator reports errors by itself.
  body.on('error', () => {});
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    throw new TooLarge();
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      body.destroy();
      throw new TooLarge();
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks, size);
}
