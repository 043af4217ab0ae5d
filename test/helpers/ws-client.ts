/**
 * WebSocket test clients for the subscription tier: graphql-ws's own client (over `ws`) with a
 * recorder for one subscription's results, and a raw `graphql-transport-ws` socket for
 * protocol-level cases (close codes, abrupt drops). Both wait on arrivals, never on sleeps.
 */
import { createClient, type Client, type ClientOptions } from 'graphql-ws';
import WebSocket from 'ws';
import { deferred } from './status-harness.js';

export const PROTOCOL = 'graphql-transport-ws';

export function wsUrl(httpUrl: string): string {
  return httpUrl.replace(/^http/, 'ws');
}

/** A graphql-ws client that connects at once and never retries; `null` sends no credential. */
export function wsClient(
  url: string,
  key: string | null,
  options: Partial<ClientOptions> = {},
): Client {
  return createClient({
    url: wsUrl(url),
    webSocketImpl: WebSocket,
    lazy: false,
    retryAttempts: 0,
    connectionParams: key === null ? {} : { authorization: `Bearer ${key}` },
    onNonLazyError: () => undefined,
    ...options,
  });
}

export interface GraphQLResult {
  data?: any;
  errors?: Array<{ message: string; path?: unknown[]; extensions?: Record<string, any> }>;
}

/** The results of one subscription, recorded as they arrive. */
export class Results {
  readonly results: GraphQLResult[] = [];
  done = false;
  error: unknown = null;
  private waiters: Array<() => void> = [];
  readonly unsubscribe: () => void;

  constructor(client: Client, query: string, variables: Record<string, unknown> = {}) {
    this.unsubscribe = client.subscribe<any>(
      { query, variables },
      {
        next: (result) => {
          this.results.push(result as GraphQLResult);
          this.notify();
        },
        error: (error) => {
          this.error = error;
          this.done = true;
          this.notify();
        },
        complete: () => {
          this.done = true;
          this.notify();
        },
      },
    );
  }

  /** The `data` of every result, for the given root field. */
  data(field: string): any[] {
    return this.results.flatMap((r) => (r.data?.[field] ? [r.data[field]] : []));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }

  /** Resolves once `predicate` holds, re-checking on every arrival. */
  async until(
    predicate: (results: GraphQLResult[], done: boolean) => boolean,
    message = 'results',
    timeoutMs = 5000,
  ): Promise<GraphQLResult[]> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.results, this.done)) {
      if (this.done) {
        throw new Error(
          `Subscription ended before ${message}: ${JSON.stringify(this.error ?? this.results)}`,
        );
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) {
        throw new Error(`Timed out waiting for ${message}: ${JSON.stringify(this.results)}`);
      }
      const arrived = deferred<void>();
      this.waiters.push(arrived.resolve);
      const timer = setTimeout(arrived.resolve, remaining);
      await arrived.promise;
      clearTimeout(timer);
    }
    return this.results;
  }

  untilDone(timeoutMs = 5000): Promise<GraphQLResult[]> {
    return this.until((_, done) => done, 'the end of the subscription', timeoutMs);
  }
}

/** A raw `graphql-transport-ws` socket: every message it receives, and how it closed. */
export class RawSocket {
  readonly messages: any[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<() => void> = [];

  private constructor(readonly socket: WebSocket) {
    const closed = deferred<{ code: number; reason: string }>();
    this.closed = closed.promise;
    socket.on('message', (data) => {
      this.messages.push(JSON.parse(String(data)));
      this.notify();
    });
    socket.on('close', (code, reason) => {
      closed.resolve({ code, reason: String(reason) });
      this.notify();
    });
    socket.on('error', () => undefined);
  }

  static open(
    url: string,
    options: {
      /** `null`: offer no subprotocol. */
      protocol?: string | null;
      autoPong?: boolean;
      headers?: Record<string, string>;
      /** Where to connect from, e.g. `127.0.0.2` to look like another client. */
      localAddress?: string;
    } = {},
  ): Promise<RawSocket> {
    const protocol = options.protocol === undefined ? PROTOCOL : options.protocol;
    const socket = new WebSocket(wsUrl(url), protocol === null ? [] : [protocol], {
      autoPong: options.autoPong ?? true,
      ...(options.headers ? { headers: options.headers } : {}),
      ...(options.localAddress ? { localAddress: options.localAddress } : {}),
    });
    const raw = new RawSocket(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(raw));
      socket.once('error', reject);
    });
  }

  send(message: object | string): void {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }

  /** Sends `connection_init` and waits for the ack. */
  async init(key: string | null): Promise<void> {
    this.send({
      type: 'connection_init',
      payload: key === null ? {} : { authorization: `Bearer ${key}` },
    });
    await this.next((m) => m.type === 'connection_ack', 'connection_ack');
  }

  subscribe(id: string, query: string, variables: Record<string, unknown> = {}): void {
    this.send({ id, type: 'subscribe', payload: { query, variables } });
  }

  /** The first message (received so far or later) matching `predicate`. */
  async next(predicate: (message: any) => boolean, what = 'a message', timeoutMs = 5000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find(predicate);
      if (found) return found;
      if (this.socket.readyState === WebSocket.CLOSED) {
        throw new Error(`Socket closed before ${what}: ${JSON.stringify(this.messages)}`);
      }
      const remaining = deadline - Date.now();
      if (remaining <= 0) throw new Error(`Timed out waiting for ${what}`);
      const arrived = deferred<void>();
      this.waiters.push(arrived.resolve);
      const timer = setTimeout(arrived.resolve, remaining);
      await arrived.promise;
      clearTimeout(timer);
    }
  }

  /** Resolves with the close code, failing after `timeoutMs`. */
  async closeCode(timeoutMs = 5000): Promise<number> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error('Timed out waiting for the socket to close')),
        timeoutMs,
      );
    });
    try {
      return (await Promise.race([this.closed, timeout])).code;
    } finally {
      clearTimeout(timer);
    }
  }

  terminate(): void {
    this.socket.terminate();
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter();
  }
}

/** Resolves once `read()` satisfies `predicate`, polling every few ms; rejects after `timeoutMs`. */
export async function until<T>(
  read: () => T,
  predicate: (value: T) => boolean,
  message: string,
  timeoutMs = 5000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = read();
    if (predicate(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(`Timed out waiting for ${message}; last: ${JSON.stringify(value)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}
