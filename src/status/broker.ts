/**
 * The two small things status watchers share when a gateway runs as several instances: a
 * pub/sub bus for events and leases that make one instance poll each watched asset. The
 * in-memory broker here serves a single process (and tests that run several watchers in one
 * process); `redis.ts` provides the same interfaces over Redis.
 *
 * Channel and lease names passed in are logical (`<credential hash>` and
 * `<credential hash>:a:<asset id>`); a broker adds its own key prefix. They never contain a
 * credential.
 */

export type MessageHandler = (message: string) => void;

export interface PubSub {
  /** Sends `message` to every handler subscribed to `channel`, on every instance. */
  publish(channel: string, message: string): Promise<void>;
  /**
   * Adds a handler; resolves once messages published from now on will reach it, with a function
   * that removes it.
   */
  subscribe(channel: string, handler: MessageHandler): Promise<() => Promise<void>>;
  /**
   * Registers `listener`, called each time the bus is back after losing its connection, once
   * messages published from then on reach every subscribed channel again. Messages published
   * meanwhile may never have arrived. Returns a function that removes the listener. Absent on a
   * bus that cannot lose messages (the in-memory one).
   */
  onReconnect?(listener: () => void): () => void;
}

export interface Leases {
  /**
   * Acquires each free key for `owner`, or renews it when `owner` holds it already, for `ttlMs`.
   * Returns the keys `owner` holds afterwards.
   */
  claim(owner: string, keys: readonly string[], ttlMs: number): Promise<Set<string>>;
  /** Frees the keys `owner` holds among `keys`; keys held by others are left alone. */
  release(owner: string, keys: readonly string[]): Promise<void>;
}

export interface StatusBroker {
  readonly pubsub: PubSub;
  readonly leases: Leases;
  /** Frees what the broker opened. Watchers never call it on a broker they were given. */
  close(): Promise<void>;
}

export interface MemoryBrokerOptions {
  /**
   * The clock for lease expiry, in epoch milliseconds.
   * @default Date.now
   */
  now?: () => number;
}

/**
 * A broker for one process. Messages are delivered synchronously, in publish order. Sharing one
 * memory broker between several watchers gives them the same lease and fan-out semantics as
 * Redis, which the unit tests use.
 */
export function createMemoryBroker(options: MemoryBrokerOptions = {}): StatusBroker {
  const now = options.now ?? Date.now;
  const channels = new Map<string, Set<MessageHandler>>();
  const leases = new Map<string, { owner: string; expiresAt: number }>();

  return {
    pubsub: {
      async publish(channel, message) {
        const handlers = channels.get(channel);
        if (!handlers) return;
        for (const handler of [...handlers]) handler(message);
      },
      async subscribe(channel, handler) {
        let handlers = channels.get(channel);
        if (!handlers) channels.set(channel, (handlers = new Set()));
        // A wrapper, so that the same function subscribed twice is removed once per call.
        const wrapped: MessageHandler = (message) => handler(message);
        handlers.add(wrapped);
        return async () => {
          const current = channels.get(channel);
          if (!current) return;
          current.delete(wrapped);
          if (current.size === 0) channels.delete(channel);
        };
      },
    },
    leases: {
      async claim(owner, keys, ttlMs) {
        const at = now();
        const held = new Set<string>();
        for (const key of keys) {
          const lease = leases.get(key);
          if (!lease || lease.owner === owner || lease.expiresAt <= at) {
            leases.set(key, { owner, expiresAt: at + ttlMs });
            held.add(key);
          }
        }
        return held;
      },
      async release(owner, keys) {
        for (const key of keys) {
          if (leases.get(key)?.owner === owner) leases.delete(key);
        }
      },
    },
    async close() {
      channels.clear();
      leases.clear();
    },
  };
}
