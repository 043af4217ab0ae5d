/**
 * Shutdown that answers every request already on its way. Apollo's drain plugin (and node's own
 * `server.close()`) end every connection that has no request *yet*, including those whose
 * request is still on the network: 5 of 20 requests sent just before SIGTERM got no answer.
 * Here the server stops listening at once (new connections are refused), but connections
 * already accepted get `settleMs` to send their request; every answer given while draining
 * closes its connection; whatever is still open at the deadline is closed.
 */
import { Server as NetServer } from 'node:net';
import type { Server } from 'node:http';

export interface HttpDrain {
  /**
   * Stops listening, answers requests on accepted connections, ends idle connections after
   * `settleMs`, and closes every connection at `timeoutMs`. Resolves once all are closed.
   * Idempotent.
   */
  drain(timeoutMs: number): Promise<void>;
}

export interface HttpDrainOptions {
  /**
   * How long an accepted connection may take to send its request once draining started.
   * @default 500 (at most the drain timeout)
   */
  settleMs?: number;
}

export function trackForDrain(server: Server, options: HttpDrainOptions = {}): HttpDrain {
  let draining: Promise<void> | undefined;
  server.on('request', (_req, res) => {
    if (draining) res.setHeader('connection', 'close');
  });
  return {
    drain: (timeoutMs) =>
      (draining ??= new Promise<void>((resolve) => {
        const settleMs = Math.min(options.settleMs ?? 500, timeoutMs);
        const settle = setTimeout(() => server.closeIdleConnections(), settleMs);
        const deadline = setTimeout(() => server.closeAllConnections(), timeoutMs);
        // net's `close`, not http's: http's would also end at once the accepted connections
        // whose request has not arrived yet.
        NetServer.prototype.close.call(server, () => {
          clearTimeout(settle);
          clearTimeout(deadline);
          resolve();
        });
      })),
  };
}
