/**
 * The status broker over Redis, for a gateway running as several instances.
 *
 * - Events: `PUBLISH <prefix>status:<credential hash>`. Each instance subscribes to the channels
 *   of the credentials it has subscribers for and delivers to its local subscribers only, so
 *   each subscriber receives each event once, whichever instance polled.
 * - Leases: `<prefix>lease:<credential hash>:a:<asset id>` (and `:g:<group id>` for a group's
 *   discovery), value = the owner id, with a `PX` expiry. One Lua script per batch acquires free
 *   keys (`SET NX PX`) and renews the owner's own (`PEXPIRE`), atomically; release deletes only
 *   the owner's keys. An instance that dies stops renewing, and another instance with
 *   subscribers for the asset claims it once the expiry passes.
 *
 * Uses two connections: one for commands, one in subscriber mode; both may be handed in (and are
 * then closed by their owner). Plain (non-cluster) Redis.
 *
 * Pub/sub is fire-and-forget: a message published while a subscriber connection is down (or
 * flushed from a command queue before the subscriber has re-subscribed) is lost. ioredis
 * reconnects and re-subscribes by itself; `onReconnect` listeners are called once the
 * re-subscription is in effect, so the watcher can read again what its subscribers may have
 * missed.
 */
import { Redis } from 'ioredis';
import type { Leases, MessageHandler, PubSub, StatusBroker } from './broker.js';

export interface RedisBrokerOptions {
  /**
   * A `redis://` URL (the broker opens and closes its two connections), or an ioredis client to
   * share for commands (the broker duplicates it for subscribing, and closes only the duplicate).
   */
  redis: string | Redis;
  /**
   * A connection for subscribing, owned by the caller (the broker unsubscribes its channels on
   * close but leaves the connection open).
   * @default a duplicate of the commands connection, closed with the broker
   */
  subscriber?: Redis;
  /**
   * Prefix of every key and channel.
   * @default 'avatar-gateway:'
   */
  keyPrefix?: string;
}

/** Keys per script call, to keep each call short. */
const CLAIM_CHUNK = 500;

const CLAIM_SCRIPT = `
local out = {}
for i, key in ipairs(KEYS) do
  local owner = redis.call('GET', key)
  if owner == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  elseif not owner then
    redis.call('SET', key, ARGV[1], 'NX', 'PX', ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`;

const RELEASE_SCRIPT = `
local n = 0
for _, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    n = n + 1
  end
end
return n
`;

export function createRedisBroker(options: RedisBrokerOptions): StatusBroker {
  const prefix = options.keyPrefix ?? 'avatar-gateway:';
  const ownsCommands = typeof options.redis === 'string';
  const commands =
    typeof options.redis === 'string'
      ? new Redis(options.redis, { lazyConnect: false })
      : options.redis;
  const ownsSubscriber = options.subscriber === undefined;
  const subscriber = options.subscriber ?? commands.duplicate();
  // Its outages are the commands connection's too, which its owner logs: not reported twice.
  if (ownsSubscriber) subscriber.on('error', () => undefined);
  const reconnectListeners = new Set<() => void>();
  /**
   * Channels given up while Redis was away. An UNSUBSCRIBE then would wait in the offline
   * queue (and hold up a QUIT behind it); ioredis re-subscribes them on reconnect, and they are
   * unsubscribed then.
   */
  const dropped = new Set<string>();
  let wasReady = subscriber.status === 'ready';
  subscriber.on('ready', () => {
    const names = [...dropped].filter((name) => !channels.has(name));
    dropped.clear();
    if (names.length > 0) subscriber.unsubscribe(...names).catch(() => undefined);
    if (!wasReady) {
      wasReady = true;
      return;
    }
    // ioredis wrote the re-SUBSCRIBEs before emitting `ready`; Redis answers in order, so once
    // this PING answers they are in effect.
    subscriber.ping().then(
      () => {
        for (const listener of [...reconnectListeners]) listener();
      },
      () => undefined,
    );
  });

  const channelName = (channel: string) => `${prefix}status:${channel}`;
  const leaseKey = (key: string) => `${prefix}lease:${key}`;

  /** Local handlers per Redis channel, and the SUBSCRIBE that made them reachable. */
  const channels = new Map<string, { handlers: Set<MessageHandler>; ready: Promise<unknown> }>();
  subscriber.on('message', (channel: string, message: string) => {
    const entry = channels.get(channel);
    if (!entry) return;
    for (const handler of [...entry.handlers]) handler(message);
  });

  const pubsub: PubSub = {
    async publish(channel, message) {
      await commands.publish(channelName(channel), message);
    },
    async subscribe(channel, handler) {
      const name = channelName(channel);
      let entry = channels.get(name);
      if (!entry) {
        // ioredis sends commands in order, so a SUBSCRIBE after a pending UNSUBSCRIBE wins.
        entry = { handlers: new Set(), ready: subscriber.subscribe(name) };
        channels.set(name, entry);
      }
      const wrapped: MessageHandler = (message) => handler(message);
      entry.handlers.add(wrapped);
      try {
        await entry.ready;
      } catch (error) {
        entry.handlers.delete(wrapped);
        if (entry.handlers.size === 0 && channels.get(name) === entry) channels.delete(name);
        throw error;
      }
      let removed = false;
      return async () => {
        if (removed) return;
        removed = true;
        const current = channels.get(name);
        if (!current || !current.handlers.delete(wrapped) || current.handlers.size > 0) return;
        channels.delete(name);
        if (subscriber.status !== 'ready') dropped.add(name);
        else await subscriber.unsubscribe(name).catch(() => undefined);
      };
    },
    onReconnect(listener) {
      const wrapped = () => listener();
      reconnectListeners.add(wrapped);
      return () => void reconnectListeners.delete(wrapped);
    },
  };

  const leases: Leases = {
    async claim(owner, keys, ttlMs) {
      const held = new Set<string>();
      for (let i = 0; i < keys.length; i += CLAIM_CHUNK) {
        const chunk = keys.slice(i, i + CLAIM_CHUNK);
        const result = (await commands.eval(
          CLAIM_SCRIPT,
          chunk.length,
          ...chunk.map(leaseKey),
          owner,
          String(Math.max(1, Math.ceil(ttlMs))),
        )) as number[];
        chunk.forEach((key, index) => {
          if (result[index] === 1) held.add(key);
        });
      }
      return held;
    },
    async release(owner, keys) {
      for (let i = 0; i < keys.length; i += CLAIM_CHUNK) {
        const chunk = keys.slice(i, i + CLAIM_CHUNK);
        await commands.eval(RELEASE_SCRIPT, chunk.length, ...chunk.map(leaseKey), owner);
      }
    },
  };

  return {
    pubsub,
    leases,
    async close() {
      const names = [...channels.keys()];
      channels.clear();
      reconnectListeners.clear();
      if (ownsSubscriber) await subscriber.quit().catch(() => subscriber.disconnect());
      // Not awaited, and not sent while Redis is away (it would wait for the reconnect and hold
      // up the owner's QUIT): the owner's quit ends the subscriptions anyway.
      else if (names.length > 0 && subscriber.status === 'ready') {
        subscriber.unsubscribe(...names).catch(() => undefined);
      }
      if (ownsCommands) await commands.quit().catch(() => commands.disconnect());
    },
  };
}
