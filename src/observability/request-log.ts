/**
 * One log line per HTTP request, and a request id that ties it to the request's other lines:
 * the caller's `x-request-id` when it is sane, else a new UUID; echoed in the response header.
 * Logged: method, path (never the query string, which may carry a GET query's variables),
 * status, duration, the principal's id when known. Never headers.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';

export const REQUEST_ID_HEADER = 'x-request-id';
const SANE_REQUEST_ID = /^[\w.:@-]{1,128}$/;

export interface RequestLog {
  readonly requestId: string;
  /** A child logger carrying `reqId`. */
  readonly logger: Logger;
  /** Adds fields to the request's final line (e.g. `principal`). */
  annotate(fields: Record<string, unknown>): void;
}

const logs = new WeakMap<IncomingMessage, RequestLog>();

/** The request log started for `req`, if any. */
export function requestLogOf(req: IncomingMessage): RequestLog | undefined {
  return logs.get(req);
}

export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers[REQUEST_ID_HEADER];
  return typeof given === 'string' && SANE_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Starts the log of one request: sets `x-request-id` on the response and logs when the
 * response closes. `quiet` paths (health probes, scrapes) log at debug level.
 */
export function startRequestLog(
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  quiet: (path: string) => boolean = () => false,
): RequestLog {
  const requestId = requestIdOf(req);
  res.setHeader(REQUEST_ID_HEADER, requestId);
  // A silent logger writes nothing, so neither a child (pino serialises its bindings when it is
  // created) nor the request line is worth allocating. Below `info`, the line alone is skipped
  // (quiet lines are `debug`, lower still).
  const child = logger.isLevelEnabled('fatal') ? logger.child({ reqId: requestId }) : logger;
  const extra: Record<string, unknown> = {};
  if (logger.isLevelEnabled('info')) {
    logWhenClosed(req, res, child, extra, quiet);
  }
  const log: RequestLog = {
    requestId,
    logger: child,
    annotate: (fields) => void Object.assign(extra, fields),
  };
  logs.set(req, log);
  return log;
}

/** Logs the request's line once its response closes, at debug level for `quiet` paths. */
function logWhenClosed(
  req: IncomingMessage,
  res: ServerResponse,
  logger: Logger,
  extra: Record<string, unknown>,
  quiet: (path: string) => boolean,
): void {
  const started = process.hrtime.bigint();
  const path = pathOf(req.url);
  res.once('close', () => {
    const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
    const line = {
      ...extra,
      method: req.method,
      path,
      status: res.statusCode,
      durationMs: Math.round(durationMs * 1000) / 1000,
      ...(res.writableFinished ? {} : { aborted: true }),
    };
    if (quiet(path)) logger.debug(line, 'request');
    else logger.info(line, 'request');
  });
}

function pathOf(url: string | undefined): string {
  const raw = (url ?? '/').split('?', 1)[0]!;
  return raw.length > 256 ? `${raw.slice(0, 256)}…` : raw;
}
