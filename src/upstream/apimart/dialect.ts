/**
 * apimart on the wire, for the HTTP engine: each call's path and method (`actions.ts`), the
 * `{id}` path parameter, and the reading of answers (`envelope.ts`). Success bodies are handed
 * to the client whole: the task calls answer `{code, data}`, the newer management calls the
 * Volcengine envelope (`ResponseMetadata`, `Result`), and `client.ts` reads each leniently.
 */
import type { Dialect } from '../http/dialect.js';
import { badResponse, isRecord } from '../http/transport-errors.js';
import { CALLS, type ApimartCall } from './actions.js';
import { answerClassOf, mapHttpError } from './envelope.js';

export function createApimartDialect(): Dialect<ApimartCall> {
  return {
    actions: CALLS,

    buildRequest(call, _opts, request) {
      const spec = CALLS[call];
      const path =
        request.id === undefined
          ? spec.path
          : spec.path.replace('{id}', encodeURIComponent(request.id));
      return request.body === undefined
        ? { method: spec.method, path }
        : { method: spec.method, path, body: request.body };
    },

    classify(call, answer, secrets) {
      const { action } = CALLS[call];
      const { status, body } = answer;
      const ok = status >= 200 && status < 300;
      if (ok && !answer.json) {
        return {
          ok: false,
          error: badResponse(action, 'the body is not JSON', { status }),
          answer: 'unreadable',
        };
      }
      // A 2xx can still carry a refusal: an envelope `code` other than 200, or an `error` body,
      // or a Volcengine `ResponseMetadata.Error`. Each is a verdict on the call.
      if (!ok || (isRecord(body) && (refuses(body) || isRecord(body.error)))) {
        const error = mapHttpError({
          action,
          status,
          body,
          retryAfter: answer.retryAfter,
          secrets,
        });
        return { ok: false, error, answer: ok ? 'final' : answerClassOf(status) };
      }
      const meta = isRecord(body) && isRecord(body.ResponseMetadata) ? body.ResponseMetadata : null;
      if (meta && isRecord(meta.Error)) {
        const { Code, Message } = meta.Error;
        const error = mapHttpError({
          action,
          status: /^NotFound/.test(String(Code)) ? 404 : 400,
          body: { error: { code: Code, message: Message } },
          secrets,
        });
        return { ok: false, error, answer: 'final' };
      }
      return { ok: true, body };
    },
  };
}

function refuses(body: Record<string, unknown>): boolean {
  return typeof body.code === 'number' && body.code !== 200;
}
