/** The request log (`observability/request-log.ts`): its line, and nothing when silent. */
import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { startRequestLog } from '../../src/observability/request-log.js';

/** The request and response sides `startRequestLog` touches. */
function exchange() {
  const req = { url: '/graphql?x=1', method: 'POST', headers: {} } as IncomingMessage;
  const headers: Record<string, string> = {};
  const res = Object.assign(new EventEmitter(), {
    statusCode: 200,
    writableFinished: true,
    setHeader: (name: string, value: string) => void (headers[name] = value),
  }) as unknown as ServerResponse;
  return { req, res, headers };
}

function capture(level: pino.LevelWithSilent) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  return { logger, lines };
}

describe('startRequestLog', () => {
  it('logs one line per request with its id, its path and the annotations', () => {
    const { logger, lines } = capture('info');
    const { req, res, headers } = exchange();
    const log = startRequestLog(req, res, logger);
    expect(log.logger).not.toBe(logger);
    log.annotate({ principal: 'p1' });
    res.emit('close');
    expect(headers['x-request-id']).toBe(log.requestId);
    expect(lines).toEqual([
      expect.objectContaining({
        reqId: log.requestId,
        path: '/graphql',
        status: 200,
        principal: 'p1',
        msg: 'request',
      }),
    ]);
  });

  it('allocates no child logger and listens to nothing when the logger is silent', () => {
    const { logger, lines } = capture('silent');
    const { req, res, headers } = exchange();
    const log = startRequestLog(req, res, logger);
    expect(log.logger).toBe(logger);
    expect(res.listenerCount('close')).toBe(0);
    expect(headers['x-request-id']).toBe(log.requestId);
    expect(lines).toEqual([]);
  });

  it('keeps the request id on warnings when only the request line is off', () => {
    const { logger, lines } = capture('warn');
    const { req, res } = exchange();
    const log = startRequestLog(req, res, logger);
    expect(res.listenerCount('close')).toBe(0);
    log.logger.warn('careful');
    expect(lines).toEqual([expect.objectContaining({ reqId: log.requestId, msg: 'careful' })]);
  });
});
