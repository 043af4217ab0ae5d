/**
 * The in-memory broker: one process (and tests that run several watchers in one process, which
 * then share leases and fan-out exactly as instances sharing Redis do).
 */
import type { MessageHandler, StatusBroker } from './broker.js';

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
