/**
 * How a dialect reads the statuses of watched assets, for the status watcher (`src/status/`):
 * which port calls it makes, how a poll batches them, the page sizes and group-id limits, and
 * the budget each call spends. The watcher knows no upstream action or limit by name; it asks
 * the `StatusSource` it is given. Each dialect brings its own (`ark/status-source.ts`).
 *
 * The calls themselves go through the `Upstream` port (`getAsset`, `listAssets`, `getGroup`);
 * this interface only says how to use them.
 */
import type { AssetStatus } from './port.js';

/** The kinds of read the watcher makes, by port method. */
export interface StatusReads<T> {
  /** `getAsset`: one asset. */
  readonly asset: T;
  /** `listAssets`: a page of the assets of up to `maxGroupIds` groups. */
  readonly list: T;
  /** `getGroup`: one group (checked once when a group watch starts). */
  readonly group: T;
}

/** Input of {@link StatusSource.planReads}. */
export interface ReadPlanInput {
  /** The assets due for a read (all in `pollStatuses`), with their groups. */
  due: ReadonlyArray<{ id: string; groupId: string }>;
  /**
   * Assets in `pollStatuses` per group counted by the last complete list of it (watched or
   * not); used to estimate how many pages a list costs. Unknown groups count their due assets.
   */
  processingByGroup?: ReadonlyMap<string, number>;
  /** When false, every due asset is read with `getAsset`. @default true */
  batch?: boolean;
}

/** Which reads one poll makes. */
export interface ReadPlan {
  /** Group id chunks, each read with `listAssets({ groupIds, statuses: pollStatuses })`. */
  lists: string[][];
  /** Asset ids read with `getAsset`. */
  gets: string[];
}

export interface StatusSource {
  /** The budget action (a key of `rates`) each kind of read spends. */
  readonly actions: StatusReads<string>;
  /**
   * Calls per second per credential the watcher allows itself, by budget action, when its
   * options do not say otherwise (usually the upstream's documented limits).
   */
  readonly rates: Readonly<Record<string, number>>;
  /** Items per `listAssets` page the watcher asks for. */
  readonly pageSize: number;
  /** Most group ids one `listAssets` accepts. */
  readonly maxGroupIds: number;
  /**
   * The statuses a poll's lists are filtered to: the not-yet-final ones. An asset that drops
   * out of a complete such list changed (or was deleted), and is read with `getAsset`.
   */
  readonly pollStatuses: readonly AssetStatus[];
  /** The batching rule: which of the due assets a poll lists by group, which it gets one by one. */
  planReads(input: ReadPlanInput): ReadPlan;
}
