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
 * One event of a subscription, in the order things happened to the assets it watches.
 *
 * - `status`: the asset's current state. The first event for each watched asset has
 *   `previousStatus: null` (its state at subscribe time, or when a group watch discovered it);
 *   later ones are changes (`status` or `failure` differ from the last event), each sent once.
 *   `previewUrl` is the signed URL of the read that saw the change.
 * - `deleted`: the asset no longer exists upstream (a read answered `NOT_FOUND`). It is the last
 *   event about that asset; it is no longer polled.
 * - `stale`: the statuses of `assetIds` could not be refreshed since `since` (the last good
 *   read) because of `reason` (an upstream error code such as `UPSTREAM_UNAVAILABLE`,
 *   `RATE_BUDGET` when the watcher's own budget ran out, or `SERVICE_UNAVAILABLE` while the
 *   broker is unreachable: nothing is polled or delivered then). The last `status` event still stands;
 *   polling goes on with back-off.
 * - `recovered`: `assetIds` were read successfully again after a `stale` event; any change seen
 *   by that read follows as a `status` event.
 *
 * The same `asset` object is shared by every subscriber that receives the event: read-only.
 */
export type StatusEvent =
  | { kind: 'status'; asset: Asset; previousStatus: AssetStatus | null }
  | {
      kind: 'deleted';
      assetId: string;
      groupId: string | null;
      previousStatus: AssetStatus | null;
    }
  | { kind: 'stale'; assetIds: string[]; since: Date; reason: string }
  | { kind: 'recovered'; assetIds: string[] };

/**
 * The part of a {@link StatusEvent} that diffing two reads produces (`diff.ts`); the events
 * a subscriber receives are these, plus the `stale`/`recovered` notices.
 */
export type Change = Extract<StatusEvent, { kind: 'status' | 'deleted' }>;

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
