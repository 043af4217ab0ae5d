/**
 * The live asset-status engine behind GraphQL subscriptions: one shared polling loop per
 * process, events over an in-memory or Redis broker. See `watcher.ts` for how it works.
 */
export {
  createStatusWatcher,
  type StatusWatcher,
  type StatusWatcherOptions,
  type StatusWatcherStats,
  type StopOptions,
  type TickInfo,
  type WatchOptions,
} from './watcher.js';
export {
  InvalidWatchTargetError,
  StatusWatcherStoppedError,
  type StatusEvent,
  type StatusSubscription,
  type WatchTarget,
} from './events.js';
export {
  type Leases,
  type MessageHandler,
  type PubSub,
  type StatusBroker,
} from './broker/broker.js';
export { createMemoryBroker, type MemoryBrokerOptions } from './broker/memory.js';
export { createRedisBroker, type RedisBrokerOptions } from './broker/redis.js';
export { DEFAULT_RATE_LIMITS, type BudgetAction, type RateLimits } from './rate-budget.js';
