/**
 * The two small things status watchers share when a gateway runs as several instances: a
 * pub/sub bus for events and leases that make one instance poll each watched asset. `memory.ts`
 * implements them for one process, `redis.ts` over Redis.
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
