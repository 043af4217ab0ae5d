/**
 * The seam between the HTTP engine (`transport.ts`) and a vendor: everything the engine needs to
 * know about one upstream arrives through a `Dialect` object, never through an import, so
 * `http/` names no vendor. A dialect says what each port method calls (`actions`), turns a call
 * into a request (`buildRequest`) and reads what came back (`classify`). Ark's is
 * `ark/dialect.ts`.
 *
 * The engine's side of the wire is fixed: JSON bodies, `Authorization: Bearer <credential>`,
 * `X-Request-Id`, and `Retry-After` parsed into seconds.
 */
import type { UpstreamError } from '../errors.js';
import type { CallOptions } from '../port.js';
import type { AnswerClass, CallKind } from './retry.js';

export interface DialectAction {
  /** The vendor's name of the call: pacing bucket, metrics label, error messages. */
  action: string;
  /** Which retry rule applies. */
  kind: CallKind;
}

/** What a port method hands the engine: a path parameter and a JSON body, both optional. */
export interface CallRequest {
  /** The `{id}` path parameter. */
  id?: string;
  /** The JSON body, before the dialect adds its own fields. */
  body?: object;
}

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** One request on the wire, below the upstream's base path. */
export interface HttpRequest {
  method: HttpMethod;
  /** Path and query string, e.g. `/v1/private-avatar/assets/a-1`. */
  path: string;
  /** Sent as JSON when present. */
  body?: object;
}

/** An answer as it arrived, size-capped and parsed. */
export interface HttpAnswer {
  status: number;
  /** The parsed JSON body; `undefined` when empty or not JSON. */
  body: unknown;
  /** False when a non-empty body did not parse as JSON. */
  json: boolean;
  /** `Retry-After`, in seconds. */
  retryAfter?: number;
}

/** A success body for the caller, or an error with what it means for a retry. */
export type Classified =
  { ok: true; body: unknown } | { ok: false; error: UpstreamError; answer: AnswerClass };

export interface Dialect<M extends string = string> {
  readonly actions: Readonly<Record<M, DialectAction>>;
  /** The request on the wire for one call; the dialect adds what its vendor routes by. */
  buildRequest(method: M, opts: CallOptions, request: CallRequest): HttpRequest;
  /**
   * Reads an answer. Error answers become `UpstreamError`s here, once, with nothing from
   * `secrets` (the credential) in their message.
   */
  classify(method: M, answer: HttpAnswer, secrets: readonly string[]): Classified;
}
