/**
 * What a status subscriber receives, what it asks for, and the errors `watch` rejects with.
 * Nothing here knows about GraphQL; the subscription resolver maps these shapes to the schema.
 */
import type { Asset, AssetStatus } from '../upstream/port.js';

/** What one subscription watches. At least one of `assetIds` and `groupId` is required. */
export interface WatchTarget {
  /** The upstream API key the assets are read with. Held in memory only; never logged. */
  credential: string;
  /** Assets to watch (duplicates are ignored). */
  assetIds?: readonly string[];
  /** A group to watch: its current assets and every asset added to it later. */
  groupId?: string;
}

/**
 * One event of a subscription: one thing that happened to one asset, in the order things happened
 * to the assets it watches. Made by `Fanout` from what the bus carries (what an instance read),
 * queued per subscriber, and mapped one to one to the schema's `AssetStatusEvent`. Every kind
 * carries `asset`, the asset's state as this subscriber knows it, so no later step has to
 * remember it.
 *
 * - `status`: the asset's current state. The first event for each watched asset has
 *   `previousStatus: null` (its state at subscribe time, or when a group watch discovered it);
 *   later ones are changes (`status` or `failure` differ from the last event), each sent once.
 *   `previewUrl` is the signed URL of the read that saw the change.
 * - `deleted`: the asset no longer exists upstream (a read answered `NOT_FOUND`, or it was deleted
 *   through this gateway); `asset` is its last state. It is the last event about that asset; it
 *   is no longer polled.
 * - `stale`: the asset's status could not be refreshed since `since` (the last good read) because
 *   of `reason` (an upstream error code such as `UPSTREAM_UNAVAILABLE`, `RATE_BUDGET` when the
 *   watcher's own budget ran out, or `SERVICE_UNAVAILABLE` while the broker is unreachable:
 *   nothing is polled or delivered then). `asset`, the last `status`, still stands; polling goes
 *   on with back-off.
 * - `recovered`: the asset was read successfully again after a `stale` event; any change seen
 *   by that read follows as a `status` event.
 *
 * The same `asset` object is shared by every subscriber that receives the event: read-only.
 */
export type StatusEvent =
  | { kind: 'status'; asset: Asset; previousStatus: AssetStatus | null }
  | { kind: 'deleted'; asset: Asset }
  | { kind: 'stale'; asset: Asset; since: Date; reason: string }
  | { kind: 'recovered'; asset: Asset };

/**
 * A live subscription. It ends (`done`) when it is closed with `return()`, when its
 * `AbortSignal` fires, when the watcher stops, or — for a watch of `assetIds` without a
 * `groupId` — after the final (`ACTIVE`/`FAILED`) or `deleted` event of its last asset.
 */
export interface StatusSubscription extends AsyncIterableIterator<StatusEvent, undefined> {
  next(): Promise<IteratorResult<StatusEvent, undefined>>;
  return(): Promise<IteratorResult<StatusEvent, undefined>>;
  [Symbol.asyncIterator](): StatusSubscription;
}

/** `watch` was called with a target it cannot use; `field` names the offending part. */
export class InvalidWatchTargetError extends Error {
  override readonly name = 'InvalidWatchTargetError';
  constructor(
    message: string,
    readonly field: 'assetIds' | 'groupId',
  ) {
    super(message);
  }
}

/** `watch` was called on (or was pending when) the watcher stopped. */
export class StatusWatcherStoppedError extends Error {
  override readonly name = 'StatusWatcherStoppedError';
  constructor() {
    super('The status watcher has stopped.');
  }
}

/**
 * The broker (Redis) did not answer in time, so a new subscription could not be set up: events
 * for it could not be delivered. Existing subscriptions carry on with `stale` events meanwhile.
 */
export class StatusBrokerUnavailableError extends Error {
  override readonly name = 'StatusBrokerUnavailableError';
  constructor(options?: { cause?: unknown }) {
    super('The status event bus is unavailable; try again shortly.', options);
  }
}

/**
 * The watcher already keeps its `maxWatchedAssets` assets: a `watch` that would add more is
 * refused (one that needs only assets already kept still starts).
 */
export class StatusWatcherFullError extends Error {
  override readonly name = 'StatusWatcherFullError';
  constructor(readonly maxWatchedAssets: number) {
    super(`The server already watches its ${maxWatchedAssets} assets; try again later.`);
  }
}
