/**
 * The pure core of the status watcher, and the first file to read: normalise what one poll read
 * into one observation per asset, and diff observations against the last known assets. No I/O,
 * no clock: everything here is unit-tested with plain values. (Which reads a poll makes is the
 * dialect's business: `StatusSource.planReads` in `src/upstream/`.)
 */
import { FINAL_STATUSES, type Asset, type AssetStatus } from '../upstream/port.js';
import type { StatusEvent } from './events.js';

/** What diffing two reads yields: a `status` or a `deleted` event. */
export type Change = Extract<StatusEvent, { kind: 'status' | 'deleted' }>;

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

/**
 * Compares a read with the last known state of the asset. Returns the change, or `null` when
 * nothing a subscriber cares about differs. A read that would take a final asset back to
 * `PROCESSING` is ignored (upstream never does that; such a read is older than the one we
 * have, e.g. a lagging list page).
 */
export function diffAsset(
  previous: Asset | null | undefined,
  next: Asset,
): Extract<StatusEvent, { kind: 'status' }> | null {
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
        changes.push({ kind: 'deleted', asset: before });
      }
      continue;
    }
    const change = diffAsset(before, observation.asset);
    if (change) changes.push(change);
  }
  return changes;
}
