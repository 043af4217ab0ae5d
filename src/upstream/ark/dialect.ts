/**
 * Ark on the wire, for the HTTP engine: the contract's path and method of each action, the
 * `{id}` path parameter, the `model` routing field (body of POST/PATCH, query of GET/DELETE),
 * and the reading of answers (the `ResponseMetadata` envelope, error mapping in `envelope.ts`,
 * the runtime contract check in `contract.ts`).
 */
import type { Dialect } from '../http/dialect.js';
import { badResponse } from '../http/transport-errors.js';
import { ACTIONS, type PortMethod } from './actions.js';
import type { Contract } from './contract.js';
import { answerClassOf, mapHttpError, readEnvelope } from './envelope.js';

export interface ArkDialectOptions {
  contract: Contract;
  /** The `model` every call sends. */
  model: string;
}

export function createArkDialect({ contract, model }: ArkDialectOptions): Dialect<PortMethod> {
  // Fail at start-up, not on the first call, if the contract lacks an operation.
  for (const { operationId } of Object.values(ACTIONS)) contract.operation(operationId);
  const operation = (method: PortMethod) => contract.operation(ACTIONS[method].operationId);

  return {
    actions: ACTIONS,

    buildRequest(method, _opts, request) {
      const op = operation(method);
      let path = op.path;
      if (request.id !== undefined) path = path.replace('{id}', encodeURIComponent(request.id));
      if (op.method === 'POST' || op.method === 'PATCH') {
        return { method: op.method, path, body: { model, ...request.body } };
      }
      return { method: op.method, path: `${path}?model=${encodeURIComponent(model)}` };
    },

    classify(method, answer, secrets) {
      const { action } = ACTIONS[method];
      const { status, body } = answer;
      const ok = status >= 200 && status < 300;
      if (ok && !answer.json) {
        const error = badResponse(action, 'the body is not JSON', { status });
        return { ok: false, error, answer: 'unreadable' };
      }
      const envelope = readEnvelope(body);
      if (!ok || (envelope.shape === 'envelope' && envelope.code !== undefined)) {
        const error = mapHttpError({
          action,
          status,
          body,
          retryAfter: answer.retryAfter,
          secrets,
        });
        // An `Error` inside a 2xx envelope is a verdict, whatever its code.
        return { ok: false, error, answer: ok ? 'final' : answerClassOf(status) };
      }
      const problem = operation(method).check(body);
      if (problem !== null) {
        const error = badResponse(action, problem, { status, requestId: envelope.requestId });
        return { ok: false, error, answer: 'unreadable' };
      }
      return { ok: true, body };
    },
  };
}
