/**
 * The live asset-status engine behind GraphQL subscriptions: one shared polling loop per
 * process, events over an in-memory or Redis broker. This file is the public surface only.
 *
 * Read the files in their import order, each one importing only those before it:
 * `diff.ts` → `registry.ts` → `reads.ts` / `leases.ts` / `fanout.ts` / `publish.ts` →
 * `poll.ts` / `subscribe.ts` / `resync.ts` / `outage.ts` → `watcher.ts` (whose header says how
 * it all works). The vocabulary they share: `settings.ts`, `events.ts`, `queue.ts`, `rate-budget.ts`,
 * `bus-codec.ts`, `broker/`.
 *
 * An `assetStatusChanged` subscription, followed through: `subscribe.ts` (`watch`: hold entries
 * in the registry, read first states through `reads.ts`, subscribe to the credential's bus
 * channel) → every interval `watcher.ts` claims leases (`leases.ts`) and runs `poll.ts`, which
 * reads upstream as the dialect's `StatusSource` (`src/upstream/status-source.ts`) says and
 * returns an outbox → `publish.ts` puts it on the bus → every instance's `fanout.ts` turns it
 * into events on the subscriptions (`queue.ts`).
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
  StatusBrokerUnavailableError,
  StatusWatcherFullError,
  StatusWatcherStoppedError,
  type StatusEvent,
  type StatusSubscription,
  type WatchTarget,
} from './events.js';
export type { Leases, MessageHandler, PubSub, StatusBroker } from './broker/broker.js';
export { createMemoryBroker, type MemoryBrokerOptions } from './broker/memory.js';
export { createRedisBroker, type RedisBrokerOptions } from './broker/redis.js';
