/**
 * The pure core of the status watcher: normalise what one poll read into one observation per
 * asset, diff observations against the last known assets, and plan which upstream reads a poll
 * makes. No I/O, no clock: everything here is unit-tested with plain values.
 */
import { FINAL_STATUSES, type Asset, type AssetStatus } from '../upstream/port.js';

/**
 * The part of an asset a status subscriber cares about: two reads with equal snapshots are "no
 * change". `previewUrl` (a fresh signed URL on every read), `name` and the timestamps are left
 * out on purpose.
 */
export interface AssetSnapshot {
  readonly id: string;
  readonly groupId: string;
  readonly status: AssetStatus;
  readonly failureCode: string | null;
  readonly failureMessage: string | null;
}

export function snapshotOf(asset: Asset): AssetSnapshot {
  return {
    id: asset.id,
    groupId: asset.groupId,
    status: asset.status,
    failureCode: asset.failure?.code ?? null,
    failureMessage: asset.failure?.message ?? null,
  };
}

export function sameSnapshot(a: AssetSnapshot, b: AssetSnapshot): boolean {
  return (
    a.id === b.id &&
    a.groupId === b.groupId &&
    a.status === b.status &&
    a.failureCode === b.failureCode &&
    a.failureMessage === b.failureMessage
  );
}

export function isFinal(status: AssetStatus): boolean {
  return FINAL_STATUSES.has(status);
}

/** What one poll learned about one asset. */
export type Observation = { kind: 'seen'; asset: Asset } | { kind: 'gone'; assetId: string };

/** A change worth an event. */
export type Change =
  | { kind: 'status'; asset: Asset; previousStatus: AssetStatus | null }
  | {
      kind: 'deleted';
      assetId: string;
      groupId: string | null;
      previousStatus: AssetStatus | null;
    };

/**
 * Compares a read with the last known state of the asset. Returns the change, or `null` when
 * nothing a subscriber cares about differs. A read that would take a final asset back to
 * `PROCESSING` is ignored (upstream never does that; such a read is older than the one we
 * have, e.g. a lagging list page).
 */
export function diffAsset(previous: Asset | null | undefined, next: Asset): Change | null {
  if (!previous) return { kind: 'status', asset: next, previousStatus: null };
  if (isFinal(previous.status) && !isFinal(next.status)) return null;
  if (sameSnapshot(snapshotOf(previous), snapshotOf(next))) return null;
  return { kind: 'status', asset: next, previousStatus: previous.status };
}

/** The raw outcome of one poll. */
export interface PollResult {
  /** Items of every `listAssets` page read, in any order; an asset may appear twice. */
  listed?: readonly Asset[];
  /** `getAsset` answers; they were read after the lists, so they win. */
  fetched?: readonly Asset[];
  /** Ids whose `getAsset` answered `NOT_FOUND`. */
  gone?: readonly string[];
}

/**
 * One observation per asset id. Listings come first (between two list items for the same id,
 * the more advanced status wins: pages can shift while a list is paged), then `getAsset`
 * answers and `NOT_FOUND`s override them.
 */
export function normalisePoll(result: PollResult): Map<string, Observation> {
  const out = new Map<string, Observation>();
  for (const asset of result.listed ?? []) {
    const seen = out.get(asset.id);
    if (seen?.kind === 'seen' && isFinal(seen.asset.status) && !isFinal(asset.status)) continue;
    out.set(asset.id, { kind: 'seen', asset });
  }
  for (const asset of result.fetched ?? []) out.set(asset.id, { kind: 'seen', asset });
  for (const assetId of result.gone ?? []) out.set(assetId, { kind: 'gone', assetId });
  return out;
}

/**
 * Diffs observations against the last known assets (by id). An asset absent from `previous` is
 * new (`previousStatus: null`); a `gone` observation of a known asset is `deleted`, of an
 * unknown one nothing. Changes come in observation order.
 */
export function diffSnapshots(
  previous: ReadonlyMap<string, Asset>,
  observed: ReadonlyMap<string, Observation>,
): Change[] {
  const changes: Change[] = [];
  for (const [id, observation] of observed) {
    const before = previous.get(id);
    if (observation.kind === 'gone') {
      if (before) {
        changes.push({
          kind: 'deleted',
          assetId: id,
          groupId: before.groupId,
          previousStatus: before.status,
        });
      }
      continue;
    }
    const change = diffAsset(before, observation.asset);
    if (change) changes.push(change);
  }
  return changes;
}

/** Input of {@link planReads}. */
export interface ReadPlanInput {
  /** The `PROCESSING` assets due for a read, with their groups. */
  due: ReadonlyArray<{ id: string; groupId: string }>;
  /**
   * `PROCESSING` assets per group counted by the last complete list of it (watched or not);
   * used to estimate how many pages a list costs. Unknown groups count their due assets.
   */
  processingByGroup?: ReadonlyMap<string, number>;
  /** When false, every due asset is read with `getAsset`. @default true */
  batch?: boolean;
  /** @default 100 */
  pageSize?: number;
  /** Most group ids one `listAssets` accepts. @default 100 */
  maxGroupIds?: number;
}

export interface ReadPlan {
  /** Group id chunks, each read with `listAssets({ groupIds, statuses: ['PROCESSING'] })`. */
  lists: string[][];
  /** Asset ids read with `getAsset`. */
  gets: string[];
}

/**
 * The batching rule. A group is worth listing when its estimated pages cost fewer calls than
 * reading its due assets one by one; such groups are packed into chunks of `maxGroupIds`, and a
 * chunk is listed only when its estimated pages cost fewer calls than `getAsset` for every due
 * asset in it (so a chunk of single-asset groups is listed as soon as it holds two). Everything
 * else is read with `getAsset`.
 *
 * Lists are filtered to `PROCESSING` so their size tracks the work in flight, not every asset
 * the groups ever held; an asset that turns final drops out of such a list, so the caller reads
 * every watched asset missing from a complete list with `getAsset` (one extra call per asset
 * per lifetime, and it also tells a deleted asset from a finished one).
 */
export function planReads(input: ReadPlanInput): ReadPlan {
  const pageSize = input.pageSize ?? 100;
  const maxGroupIds = input.maxGroupIds ?? 100;
  if (input.batch === false) return { lists: [], gets: input.due.map((d) => d.id) };

  const byGroup = new Map<string, string[]>();
  for (const { id, groupId } of input.due) {
    const ids = byGroup.get(groupId);
    if (ids) ids.push(id);
    else byGroup.set(groupId, [id]);
  }

  const gets: string[] = [];
  const lists: string[][] = [];
  const estimate = (groupId: string, due: number) =>
    Math.max(input.processingByGroup?.get(groupId) ?? 0, due);

  let chunk: string[] = [];
  let chunkItems = 0;
  let chunkDue = 0;
  const flush = () => {
    if (chunk.length === 0) return;
    if (Math.max(1, Math.ceil(chunkItems / pageSize)) < chunkDue) lists.push(chunk);
    else for (const groupId of chunk) gets.push(...byGroup.get(groupId)!);
    chunk = [];
    chunkItems = 0;
    chunkDue = 0;
  };
  for (const [groupId, ids] of byGroup) {
    const items = estimate(groupId, ids.length);
    // A group whose own pages outnumber its due assets is never worth listing.
    if (Math.ceil(items / pageSize) > ids.length) {
      gets.push(...ids);
      continue;
    }
    if (chunk.length === maxGroupIds) flush();
    chunk.push(groupId);
    chunkItems += items;
    chunkDue += ids.length;
  }
  flush();
  return { lists, gets };
}
