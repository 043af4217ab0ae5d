/**
 * The live asset-status engine behind GraphQL subscriptions: one shared polling loop per
 * process, events over an in-memory or Redis broker. Start with the header of `watcher.ts`
 * (how it works, and the order to read the files in).
 *
 * An `assetStatusChanged` subscription, followed through: `subscribe.ts` (`watch`: hold entries
 * in the `registry.ts`, first reads through `reads.ts`, subscribe to the credential's bus
 * channel) → every interval `watcher.ts` claims leases (`leases.ts`) and runs `poll.ts`, which
 * reads upstream as the dialect's `StatusSource` says and returns an outbox → `publish.ts` puts
 * it on the bus → every instance's `fanout.ts` turns it into events on the subscriptions
 * (`queue.ts`).
 */
export {
  createStatusWatcher,
  type StatusWatcher,
  type StatusWatcherStats,
  type StopOptions,
  type WatchOptions,
} from './watcher.js';
export type { StatusWatcherOptions, TickInfo } from './settings.js';
export {
  InvalidWatchTargetError,
  StatusWatcherStoppedError,
  type StatusEvent,
  type StatusSubscription,
  type WatchTarget,
} from './events.js';
export type { Leases, MessageHandler, PubSub, StatusBroker } from './broker/broker.js';
export { createMemoryBroker, type MemoryBrokerOptions } from './broker/memory.js';
export { createRedisBroker, type RedisBrokerOptions } from './broker/redis.js';
