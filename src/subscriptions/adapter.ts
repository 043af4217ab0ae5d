/**
 * The transport between `ws` sockets and graphql-ws's protocol core (`makeServer`), in place of
 * the library's starter adapter (graphql-ws `src/use/ws.ts` invites users to write their own):
 *
 * - **Origins**: an upgrade from an origin the HTTP side would refuse (`CORS_ORIGINS`) gets HTTP
 *   403 before the handshake, as browsers send WebSocket upgrades cross-origin without asking.
 * - **Socket caps**: an upgrade beyond `maxConnections` open sockets is refused with HTTP 503, one
 *   beyond `maxConnectionsPerIp` from one address with HTTP 429, both before the handshake.
 * - **Payload limit**: `ws` refuses a message over `maxPayloadBytes` and closes with 1009; the
 *   socket `error` it emits meanwhile (`WS_ERR_*`) is the client's fault, logged at debug.
 * - **Message rate**: `maxMessagesPerSecond` per socket (bursts of five seconds' worth); a socket
 *   over it is closed with 1008 and its message never reaches the core.
 * - **Closing**: once the server closes a socket, the client's further messages are ignored, and
 *   a client that has not answered the close within `closeTimeoutMs` is terminated (`ws` alone
 *   would wait 30 s, handling every message meanwhile).
 * - **Keep-alive**: a ping every `keepAliveMs`; a socket that has not answered within as long
 *   again is terminated.
 * - **Writes to gone peers**: a send resolves once written, or at once when the peer is gone
 *   (closed, or the write failed with EPIPE/ECONNRESET): no server fault, no 4500.
 * - **Release**: `onClientComplete` hears a client `complete` before the core does, and
 *   `onClose` a closed socket (however it went) before the core's own cleanup, so an operation
 *   whose `subscribe` is still resolving can be aborted (graphql-ws #532).
 * - **Faults**: anything else that throws while handling a message is logged and closes the
 *   socket with 4500, without detail.
 */
import type { IncomingMessage, Server as HttpServer } from 'node:http';
import { CloseCode, handleProtocols, type Server as ProtocolServer } from 'graphql-ws';
import type { Logger } from 'pino';
import { WebSocket, WebSocketServer } from 'ws';
import { sampledWarn } from '../util/log-sampler.js';

export const INTERNAL_ERROR_REASON = 'Internal server error';

export interface WebSocketAdapterOptions<E> {
  httpServer: HttpServer;
  /**
   * Whether an upgrade's `Origin` may open a socket (the HTTP side's CORS rule); a refused one
   * gets HTTP 403 before the handshake.
   * @default every origin
   */
  allowsOrigin?: (request: IncomingMessage) => boolean;
  /** The path of upgrade requests, e.g. `/graphql`; others are refused (400). */
  path: string;
  /** The protocol core, from graphql-ws `makeServer`. */
  protocol: ProtocolServer<E>;
  /** The `extra` the core hands to every hook, once per socket. */
  extra(socket: WebSocket, request: IncomingMessage): E;
  /** A client `complete` for operation `id`, before the core handles it. */
  onClientComplete(extra: E, id: string): void;
  /** The socket closed, however it went; before the core's own cleanup. */
  onClose(extra: E): void;
  /** How often to ping; `0` turns pings off. */
  keepAliveMs: number;
  /** The largest message a client may send, in bytes; larger closes the socket with 1009. */
  maxPayloadBytes: number;
  /** The steady rate of messages one socket may send; faster closes it with 1008. */
  maxMessagesPerSecond: number;
  /**
   * Open sockets in all; one more upgrade is refused with HTTP 503.
   * @default Infinity
   */
  maxConnections?: number;
  /**
   * Open sockets per client address; one more upgrade is refused with HTTP 429.
   * @default Infinity
   */
  maxConnectionsPerIp?: number;
  /**
   * How long a socket the server closed may take to answer the close before it is terminated.
   * @default 1000
   */
  closeTimeoutMs?: number;
  /**
   * The client's address, the key of the per-address cap.
   * @default `addressOf`: the connecting address
   */
  clientAddress?: (request: IncomingMessage) => string;
  logger: Logger;
}

/** The client's address, the key of the per-address caps. */
export function addressOf(request: IncomingMessage): string {
  return request.socket.remoteAddress ?? 'unknown';
}

export interface WebSocketAdapter {
  /** Closes every socket with 1001 and stops accepting upgrades; resolves once all are closed. */
  close(): Promise<void>;
  /** Ends every socket at once, without a closing handshake. */
  terminate(): void;
  /** Open sockets. */
  readonly size: number;
}

export function serveWebSocket<E>(options: WebSocketAdapterOptions<E>): WebSocketAdapter {
  const { protocol, logger: log } = options;
  const maxConnections = options.maxConnections ?? Number.POSITIVE_INFINITY;
  const maxConnectionsPerIp = options.maxConnectionsPerIp ?? Number.POSITIVE_INFINITY;
  const closeTimeoutMs = options.closeTimeoutMs ?? 1000;
  const clientAddress = options.clientAddress ?? addressOf;
  const perAddress = new Map<string, number>();
  const warnFull = sampledWarn(log, 'refused a WebSocket: the server is full');
  const wss = new WebSocketServer({
    server: options.httpServer,
    path: options.path,
    maxPayload: options.maxPayloadBytes,
    handleProtocols,
    // Called back synchronously, so the 'connection' that follows counts before any other
    // upgrade is verified: the caps cannot be raced.
    verifyClient: ({ req }, accept) => {
      if (options.allowsOrigin && !options.allowsOrigin(req)) {
        log.debug({ origin: req.headers.origin }, 'refused a WebSocket: origin not allowed');
        accept(false, 403, 'Origin not allowed');
      } else if (wss.clients.size >= maxConnections) {
        warnFull({ max: maxConnections });
        accept(false, 503, 'Too many connections', { 'retry-after': '10' });
      } else if ((perAddress.get(clientAddress(req)) ?? 0) >= maxConnectionsPerIp) {
        log.debug('refused a WebSocket: too many from one address');
        accept(false, 429, 'Too many connections from this address', { 'retry-after': '10' });
      } else {
        accept(true);
      }
    },
  });
  // `ws` re-emits the HTTP server's errors here (e.g. EADDRINUSE); without a listener they throw.
  wss.on('error', (error) => {
    log.error({ err: error }, 'WebSocket server error');
    for (const socket of wss.clients) {
      socket.close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
    }
  });

  wss.on('connection', (socket, request) => {
    const address = clientAddress(request);
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    const extra = options.extra(socket, request);
    let closeTimer: NodeJS.Timeout | undefined;
    /** Closes once; a client that does not answer in time is terminated. */
    const close = (code: number, reason: string) => {
      if (socket.readyState !== WebSocket.OPEN) return;
      socket.close(code, reason);
      closeTimer = setTimeout(() => {
        log.debug({ code }, 'terminated a socket that did not answer the close');
        socket.terminate();
      }, closeTimeoutMs);
    };
    const fail = (error: unknown) => {
      log.error({ err: error }, 'unexpected error on a subscription socket');
      close(CloseCode.InternalServerError, INTERNAL_ERROR_REASON);
    };
    socket.on('error', (error: Error & { code?: unknown }) => {
      if (typeof error.code === 'string' && error.code.startsWith('WS_ERR_')) {
        log.debug({ code: error.code }, 'closed a socket that sent an invalid frame');
        return;
      }
      fail(error);
    });
    const stopKeepAlive = keepAlive(socket, options.keepAliveMs);
    const rate = messageRate(options.maxMessagesPerSecond);
    const closed = protocol.opened(
      {
        protocol: socket.protocol,
        send: (data) =>
          sendToPeer(socket, data, (code) =>
            log.debug({ code }, 'dropped a write to a socket the client closed'),
          ),
        close,
        onMessage: (handle) =>
          socket.on('message', async (data) => {
            // Closing (by either side): what the client still sends is not handled.
            if (socket.readyState !== WebSocket.OPEN) return;
            if (!rate.take()) {
              log.warn('closed a socket that sent messages too fast');
              close(1008, 'Too many messages');
              return;
            }
            const text = String(data);
            const id = completedId(text);
            if (id !== null) options.onClientComplete(extra, id);
            try {
              await handle(text);
            } catch (error) {
              fail(error);
            }
          }),
      },
      extra,
    );
    socket.once('close', (code, reason) => {
      clearTimeout(closeTimer);
      const left = (perAddress.get(address) ?? 1) - 1;
      if (left > 0) perAddress.set(address, left);
      else perAddress.delete(address);
      stopKeepAlive();
      options.onClose(extra);
      closed(code, reason.toString()).catch((error: unknown) =>
        log.error({ err: error }, 'unexpected error while closing a subscription socket'),
      );
    });
  });

  return {
    close: () => {
      for (const socket of wss.clients) socket.close(1001, 'Going away');
      return new Promise((resolve, reject) =>
        wss.close((error) => (error ? reject(error) : resolve())),
      );
    },
    terminate: () => {
      for (const socket of wss.clients) socket.terminate();
    },
    get size() {
      return wss.clients.size;
    },
  };
}

/** Pings every `intervalMs`; terminates the socket when a pong takes as long. Returns a stop. */
function keepAlive(socket: WebSocket, intervalMs: number): () => void {
  if (!(intervalMs > 0 && Number.isFinite(intervalMs))) return () => {};
  let pongWait: NodeJS.Timeout | undefined;
  const ping = setInterval(() => {
    if (socket.readyState !== WebSocket.OPEN) return;
    pongWait = setTimeout(() => socket.terminate(), intervalMs);
    socket.once('pong', () => clearTimeout(pongWait));
    socket.ping();
  }, intervalMs);
  return () => {
    clearInterval(ping);
    clearTimeout(pongWait);
  };
}

const PEER_GONE_CODES = new Set(['EPIPE', 'ECONNRESET', 'ERR_STREAM_DESTROYED']);

/**
 * Sends `data`, resolving once written. A peer that is gone (the socket no longer open, or the
 * write failing with EPIPE/ECONNRESET because it dropped meanwhile) is no server fault: the write
 * is dropped (calling `onDrop` with the error code) and the socket's `close` event cleans up.
 * Any other write failure rejects.
 */
export function sendToPeer(
  socket: WebSocket,
  data: string,
  onDrop: (code: unknown) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    if (socket.readyState !== WebSocket.OPEN) return resolve();
    socket.send(data, (error?: Error & { code?: unknown }) => {
      if (!error) return resolve();
      if (socket.readyState !== WebSocket.OPEN || PEER_GONE_CODES.has(String(error.code))) {
        onDrop(error.code);
        return resolve();
      }
      reject(error);
    });
  });
}

/**
 * A token bucket per socket: `perSecond` messages a second, bursts of five seconds' worth (a
 * client opening many subscriptions at once). Time comes from `now` for tests.
 */
export function messageRate(perSecond: number, now: () => number = Date.now) {
  const capacity = perSecond * 5;
  let tokens = capacity;
  let at = now();
  return {
    take(): boolean {
      const t = now();
      tokens = Math.min(capacity, tokens + ((t - at) / 1000) * perSecond);
      at = t;
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
  };
}

/** The id of a client `complete` message, without parsing any other message. */
function completedId(text: string): string | null {
  if (!text.includes('"complete"')) return null;
  try {
    const message = JSON.parse(text) as { type?: unknown; id?: unknown };
    return message.type === 'complete' && typeof message.id === 'string' ? message.id : null;
  } catch {
    return null;
  }
}
