/**
 * A scripted fault proxy between a gateway and its upstream (a stand-alone simulator): a
 * `node:http` server on 127.0.0.1, port 0 at first and the same port after each restart, that
 * forwards every request, or answers a fault on command. The fault is the proxy's `mode`, or,
 * when `script` is set, what `script(call++)` returns for each request (the house
 * `switch (calls++)` style). Every request is recorded with what it got.
 *
 * - `down`: the listener is closed and open connections are dropped, so connects are refused.
 * - `503`: `503 ServiceUnavailable` in the upstream's error envelope.
 * - `429`: `429 Throttling` with `Retry-After: <retryAfterSeconds>`.
 * - `slow`: the request is held without an answer until the client gives up (or the proxy stops).
 */
import { once } from 'node:events';
import {
  createServer,
  request as forward,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type Fault = 'pass' | '503' | '429' | 'slow';
export type Mode = Fault | 'down';

export interface ProxiedRequest {
  at: number;
  method: string;
  /** The path without the query string. */
  path: string;
  /** The upstream action, from the path and method (`GetAsset`, `ListAssets`, ...), or `other`. */
  action: string;
  fault: Fault;
}

export interface FaultProxy {
  /** `http://127.0.0.1:<port>`: the gateway's `UPSTREAM_URL`. */
  readonly url: string;
  readonly requests: ProxiedRequest[];
  /** The current mode. */
  readonly mode: Mode;
  /** When set, decides each request's fault instead of the mode (not while `down`). */
  script: ((call: number, request: ProxiedRequest) => Fault) | null;
  /** `Retry-After` of `429` answers, in seconds. @default 1 */
  retryAfterSeconds: number;
  /** Switches mode; `down` closes the listener, anything else (re)opens it on the same port. */
  set(mode: Mode): Promise<void>;
  /** Requests the proxy answered or held (not refused connections), optionally of one action. */
  count(action?: string, since?: number): number;
  stop(): Promise<void>;
}

const ACTIONS: Array<[string, RegExp, string]> = [
  ['GET', /^\/v1\/private-avatar\/assets\/[^/]+$/, 'GetAsset'],
  ['POST', /^\/v1\/private-avatar\/assets\/list$/, 'ListAssets'],
  ['POST', /^\/v1\/private-avatar\/assets$/, 'CreateAsset'],
  ['GET', /^\/v1\/private-avatar\/groups\/[^/]+$/, 'GetAssetGroup'],
  ['POST', /^\/v1\/private-avatar\/groups\/list$/, 'ListAssetGroups'],
  ['POST', /^\/v1\/private-avatar\/groups$/, 'CreateAssetGroup'],
];

function actionOf(method: string, path: string): string {
  for (const [m, pattern, action] of ACTIONS) if (m === method && pattern.test(path)) return action;
  return 'other';
}

function envelope(code: string, message: string): string {
  return JSON.stringify({
    ResponseMetadata: {
      RequestId: `fault-${Date.now()}`,
      Action: 'Fault',
      Version: '2024-01-01',
      Error: { Code: code, Message: message },
    },
  });
}

export async function startFaultProxy(target: string, initial: Mode = 'pass'): Promise<FaultProxy> {
  const upstream = new URL(target);
  const requests: ProxiedRequest[] = [];
  const sockets = new Set<Socket>();
  let server: Server | null = null;
  let port = 0;
  let calls = 0;
  let mode: Mode = initial;

  const handle = (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?', 1)[0]!;
    const method = req.method ?? 'GET';
    const seen: ProxiedRequest = {
      at: Date.now(),
      method,
      path,
      action: actionOf(method, path),
      fault: 'pass',
    };
    seen.fault = proxy.script ? proxy.script(calls++, seen) : mode === 'down' ? 'pass' : mode;
    requests.push(seen);
    switch (seen.fault) {
      case 'slow':
        // No answer: the client's deadline ends it (its socket closes), or `stop` does.
        req.resume();
        return;
      case '503':
        req.resume();
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end(envelope('ServiceUnavailable', 'The service is temporarily unavailable.'));
        return;
      case '429':
        req.resume();
        res.writeHead(429, {
          'content-type': 'application/json',
          'retry-after': String(proxy.retryAfterSeconds),
        });
        res.end(envelope('Throttling', 'Request was throttled.'));
        return;
      case 'pass': {
        const out = forward(
          {
            host: upstream.hostname,
            port: upstream.port,
            method,
            path: req.url,
            headers: { ...req.headers, host: upstream.host },
          },
          (answer) => {
            res.writeHead(answer.statusCode ?? 502, answer.headers);
            answer.pipe(res);
          },
        );
        out.on('error', () => res.destroy());
        req.pipe(out);
      }
    }
  };

  const open = async () => {
    const next = createServer(handle);
    next.on('connection', (socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    next.listen(port, '127.0.0.1');
    await once(next, 'listening');
    port = (next.address() as AddressInfo).port;
    server = next;
  };

  const close = async () => {
    const current = server;
    if (!current) return;
    server = null;
    const closed = once(current, 'close');
    current.close();
    for (const socket of sockets) socket.destroy();
    await closed;
  };

  const proxy: FaultProxy = {
    get url() {
      return `http://127.0.0.1:${port}`;
    },
    requests,
    get mode() {
      return mode;
    },
    script: null,
    retryAfterSeconds: 1,
    async set(next) {
      mode = next;
      if (next === 'down') await close();
      else if (!server) await open();
    },
    count: (action, since = 0) =>
      requests.filter((r) => r.at >= since && (action === undefined || r.action === action)).length,
    stop: close,
  };
  // The port is chosen once; `down` at start still reserves it by opening and closing.
  await open();
  if (initial === 'down') await close();
  return proxy;
}
