/**
 * One upstream call over undici: deadline, pacing, attempts, a size-capped body, the runtime
 * contract check, and the error mapping. The decisions (what to retry, how long to wait) come
 * from `policy.ts`; the mapping from `map-error.ts`. `client.ts` only builds requests and maps
 * results.
 */
import { setTimeout as sleepFor } from 'node:timers/promises';
import { Pool, type Dispatcher } from 'undici';
import type { Contract, ContractOperation } from './contract.js';
import { UpstreamError } from './errors.js';
import {
  badResponse,
  codeOf,
  isConnectPhase,
  isConnectionLost,
  mapHttpError,
  mapTransportError,
  parseRetryAfter,
  readEnvelope,
  type StopReason,
} from './map-error.js';
import {
  ACTIONS,
  Pacer,
  retryDelay,
  type Backoff,
  type PortMethod,
  type RateLimit,
  type RetryRule,
  type CallKind,
  type UpstreamAction,
} from './policy.js';

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

export interface TransportSettings {
  origin: string;
  basePath: string;
  contract: Contract;
  defaultModel: string;
  timeoutMs: number;
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  maxResponseBytes: number;
  connections: number;
  keepAliveTimeoutMs: number;
  dispatcher?: Dispatcher;
  rateLimits: Readonly<Record<UpstreamAction, RateLimit | null>>;
  retryRules: Readonly<Record<CallKind, RetryRule>>;
  backoff: Backoff;
  now: () => number;
  sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  random: () => number;
  logger?: UpstreamLogger;
  /** Told of every call (retries included in its duration) with its outcome. */
  metrics?: UpstreamMetrics;
}

export interface CallRequest {
  /** The `{id}` path parameter. */
  id?: string;
  /** The JSON body without `model` (added here) for POST/PATCH. */
  body?: object;
}

export interface CallContext {
  credential: string;
  model?: string;
  signal?: AbortSignal;
  requestId?: string;
}

export const defaultSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  sleepFor(ms, undefined, { signal });

type Outcome =
  | { type: 'ok'; body: unknown }
  | { type: 'http'; status: number; body: unknown; retryAfter?: number }
  | { type: 'bad'; error: UpstreamError }
  | { type: 'transport'; error: unknown; sent: boolean; stop?: StopReason };

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

/**
 * Marks the moment undici starts writing the request on a connected socket. Before it, a
 * failure (connect refused or timed out) proves nothing was sent, so even a create may retry.
 */
function markSent(state: { sent: boolean }): Dispatcher.DispatcherComposeInterceptor {
  return (dispatch) => (opts, handler) =>
    dispatch(opts, {
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
}

export class Transport {
  private readonly dispatcher: Dispatcher;
  private readonly owned: Pool | undefined;
  private readonly pacer: Pacer;

  constructor(private readonly settings: TransportSettings) {
    if (settings.dispatcher) {
      this.dispatcher = settings.dispatcher;
    } else {
      // One pool per origin: keep-alive connections, bounded in number (further calls queue).
      this.owned = new Pool(settings.origin, {
        connections: settings.connections,
        connect: { timeout: settings.connectTimeoutMs },
        keepAliveTimeout: settings.keepAliveTimeoutMs,
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
      });
      this.dispatcher = this.owned;
    }
    this.pacer = new Pacer({ limits: settings.rateLimits, now: settings.now });
    // Fail at start-up, not on the first call, if the contract lacks an operation.
    for (const { operationId } of Object.values(ACTIONS)) settings.contract.operation(operationId);
  }

  /** Closes the client's own pool (an injected dispatcher belongs to its creator). */
  async close(): Promise<void> {
    await this.owned?.close();
  }

  /**
   * Calls one operation with the policy of `method`; resolves with the validated 2xx body, or
   * `null` when a delete turned out to be done already (its caller ignores the body). Rejects
   * with `UpstreamError` only.
   */
  async call(method: PortMethod, context: CallContext, request: CallRequest): Promise<unknown> {
    const { metrics, now } = this.settings;
    if (!metrics) return this.run(method, context, request);
    const started = now();
    const observe = (outcome: string) =>
      metrics.observe(ACTIONS[method].action, outcome, (now() - started) / 1000);
    try {
      const body = await this.run(method, context, request);
      observe('ok');
      return body;
    } catch (error) {
      observe(error instanceof UpstreamError ? error.code : 'UNKNOWN');
      throw error;
    }
  }

  private async run(
    method: PortMethod,
    context: CallContext,
    request: CallRequest,
  ): Promise<unknown> {
    const { action, kind, operationId } = ACTIONS[method];
    const rule = this.settings.retryRules[kind];
    const op = this.settings.contract.operation(operationId);
    const notRepeatable = kind === 'create' || kind === 'exchange';
    if (!context.credential) {
      throw new UpstreamError('UNAUTHENTICATED', `${action} needs an upstream credential.`, {
        action,
      });
    }
    const secrets = [context.credential];
    const { now, sleep, logger } = this.settings;
    const deadline = new Deadline(this.settings.timeoutMs, now(), context.signal);
    // An earlier attempt may have reached the upstream.
    let mayHaveArrived = false;
    const stopped = (stop: StopReason, error?: unknown) =>
      mapTransportError({
        action,
        error,
        stop,
        outcomeUnknown: mayHaveArrived && notRepeatable,
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
        const outcome = await this.attempt(action, op, context, request, deadline);
        const last = attempt >= rule.maxAttempts;

        if (outcome.type === 'ok') return outcome.body;

        if (outcome.type === 'bad') {
          // A create that answered 2xx with an unreadable body probably happened.
          if (notRepeatable && outcome.error.status !== undefined) {
            throw withOutcomeUnknown(outcome.error);
          }
          throw outcome.error;
        }

        if (outcome.type === 'http') {
          const error = mapHttpError({
            action,
            status: outcome.status,
            body: outcome.body,
            retryAfter: outcome.retryAfter,
            secrets,
          });
          if (rule.notFoundAfterUnknownIsDone && mayHaveArrived && error.code === 'NOT_FOUND') {
            logger?.debug({ action, attempt }, 'upstream delete was already done');
            return null;
          }
          if (!last && rule.retryStatuses.includes(outcome.status)) {
            const retryAfterMs =
              outcome.retryAfter === undefined ? undefined : outcome.retryAfter * 1000;
            const delay = retryDelay(
              attempt,
              retryAfterMs,
              this.settings.backoff,
              this.settings.random,
            );
            // Waiting past the deadline helps nobody: fail now, with `retryAfter` for the caller.
            if (now() + delay <= deadline.at) {
              logger?.warn(
                {
                  action,
                  attempt,
                  status: outcome.status,
                  upstreamCode: error.upstreamCode,
                  requestId: error.requestId,
                  delayMs: delay,
                },
                'upstream call failed; retrying',
              );
              await wait(delay);
              continue;
            }
          }
          if (notRepeatable && rule.outcomeUnknownStatuses?.includes(outcome.status)) {
            throw withOutcomeUnknown(error);
          }
          throw error;
        }

        // Transport failure.
        if (outcome.sent) mayHaveArrived = true;
        if (outcome.stop) throw stopped(outcome.stop, outcome.error);
        const code = codeOf(outcome.error);
        const retryable = outcome.sent
          ? rule.retryAfterSend && isConnectionLost(code)
          : rule.retryBeforeSend && (isConnectPhase(code) || isConnectionLost(code));
        if (!last && retryable) {
          const delay = retryDelay(attempt, undefined, this.settings.backoff, this.settings.random);
          if (now() + delay <= deadline.at) {
            logger?.warn(
              { action, attempt, errorCode: code, sent: outcome.sent, delayMs: delay },
              'upstream call failed; retrying',
            );
            await wait(delay);
            continue;
          }
        }
        throw mapTransportError({
          action,
          error: outcome.error,
          outcomeUnknown: mayHaveArrived && notRepeatable,
          secrets,
        });
      }
    } finally {
      deadline.dispose();
    }
  }

  /** Waits for a slot of the (credential, action) bucket, or fails if it would pass the deadline. */
  private async pace(
    action: UpstreamAction,
    credential: string,
    deadline: Deadline,
    wait: (ms: number) => Promise<void>,
  ): Promise<void> {
    const reservation = this.pacer.reserve(credential, action);
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

  private async attempt(
    action: UpstreamAction,
    op: ContractOperation,
    context: CallContext,
    request: CallRequest,
    deadline: Deadline,
  ): Promise<Outcome> {
    const { settings } = this;
    const model = context.model ?? settings.defaultModel;
    let path = settings.basePath + op.path;
    if (request.id !== undefined) path = path.replace('{id}', encodeURIComponent(request.id));
    const hasBody = op.method === 'POST' || op.method === 'PATCH';
    if (!hasBody) path += `?model=${encodeURIComponent(model)}`;
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: `Bearer ${context.credential}`,
      ...(context.requestId ? { 'x-request-id': context.requestId } : {}),
    };
    let body: string | undefined;
    if (hasBody) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify({ model, ...request.body });
    }

    const state = { sent: false };
    let response: Dispatcher.ResponseData;
    try {
      response = await this.dispatcher.compose(markSent(state)).request({
        origin: settings.origin,
        path,
        method: op.method,
        headers,
        body,
        signal: deadline.signal,
        headersTimeout: settings.headersTimeoutMs,
        bodyTimeout: settings.bodyTimeoutMs,
      });
    } catch (error) {
      return { type: 'transport', error, sent: state.sent, stop: deadline.stopped };
    }

    const status = response.statusCode;
    let raw: Buffer;
    try {
      raw = await readCapped(response, settings.maxResponseBytes);
    } catch (error) {
      if (error instanceof TooLarge) {
        const stop: StopReason = { kind: 'too-large', limit: settings.maxResponseBytes };
        return { type: 'transport', error, sent: true, stop };
      }
      return { type: 'transport', error, sent: true, stop: deadline.stopped };
    }

    const ok = status >= 200 && status < 300;
    let parsed: unknown;
    try {
      parsed = raw.length === 0 ? undefined : JSON.parse(raw.toString('utf8'));
    } catch {
      if (ok)
        return { type: 'bad', error: badResponse(action, 'the body is not JSON', { status }) };
      parsed = undefined;
    }
    const retryAfter = parseRetryAfter(response.headers['retry-after'], settings.now());
    const envelope = readEnvelope(parsed);
    if (!ok || envelope.code !== undefined) {
      return { type: 'http', status, body: parsed, retryAfter };
    }
    const problem = op.check(parsed);
    if (problem !== null) {
      return {
        type: 'bad',
        error: badResponse(action, problem, { status, requestId: envelope.requestId }),
      };
    }
    return { type: 'ok', body: parsed };
  }
}

function withOutcomeUnknown(error: UpstreamError): UpstreamError {
  return new UpstreamError(
    error.code,
    `${error.message} The upstream may have carried it out: check before repeating it.`,
    {
      action: error.action,
      status: error.status,
      upstreamCode: error.upstreamCode,
      requestId: error.requestId,
      retryAfter: error.retryAfter,
      outcomeUnknown: true,
    },
  );
}

async function readCapped(response: Dispatcher.ResponseData, limit: number): Promise<Buffer> {
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
