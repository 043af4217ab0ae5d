/**
 * Shutdown that answers every request already on its way. Apollo's drain plugin (and node's own
 * `server.close()`) end every connection that has no request *yet*, including those whose
 * request is still in flight on the network: 5 of 20 requests sent just before SIGTERM got no
 * answer. Here the server first keeps accepting and answering for a short settle time (each
 * answer then closes its connection), and only then stops listening and closes idle
 * connections; whatever is still open at the deadline is closed.
 */
import type { Server } from 'node:http';

export interface HttpDrain {
  /**
   * Answers what arrives for `settleMs`, stops listening, waits for open requests up to
   * `timeoutMs` in all, then closes every connection. Resolves once the server is closed.
   * Idempotent.
   */
  drain(timeoutMs: number): Promise<void>;
  /** Whether `drain` was called (e.g. for `/readyz`). */
  readonly draining: boolean;
}

export interface HttpDrainOptions {
  /**
   * How long requests keep being accepted once draining starts, for those already sent.
   * @default 500 (at most the drain timeout)
   */
  settleMs?: number;
}

export function trackForDrain(server: Server, options: HttpDrainOptions = {}): HttpDrain {
  let draining: Promise<void> | undefined;
  // Every answer given while draining closes its connection, so keep-alive clients go away.
  server.on('request', (_req, res) => {
    if (draining) res.setHeader('connection', 'close');
  });
  return {
    drain: (timeoutMs) =>
      (draining ??= new Promise<void>((resolve) => {
        const settleMs = Math.min(options.settleMs ?? 500, timeoutMs);
        const settle = setTimeout(() => {
          server.close(() => {
            clearTimeout(deadline);
            resolve();
          });
          // `close` ends idle keep-alive connections; these were idle for the whole settle time.
          server.closeIdleConnections();
        }, settleMs);
        const deadline = setTimeout(() => {
          clearTimeout(settle);
          if (server.listening) server.close(() => resolve());
          server.closeAllConnections();
        }, timeoutMs);
      })),
    get draining() {
      return draining !== undefined;
    },
  };
}
