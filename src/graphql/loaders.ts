/**
 * Per-request DataLoaders, so that a query touching many groups or assets makes a handful of
 * upstream calls instead of one per object. They are created with the request's context and
 * cache for its lifetime only.
 */
import DataLoader from 'dataloader';
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, AssetStatus, CallOptions, Group, Page, Upstream } from '../upstream/port.js';
import { chunk, mapLimit } from '../util/map-limit.js';

/** Upstream's largest page and largest id filter. */
export const UPSTREAM_BATCH = 100;
/** How many single-object upstream reads one request runs at once. */
export const READ_CONCURRENCY = 8;

/** One parent group's `assets(status, page, pageSize)` field. */
export interface GroupAssetsKey {
  groupId: string;
  /** Sorted and de-duplicated; `undefined` means every status. */
  statuses: AssetStatus[] | undefined;
  page: number;
  pageSize: number;
}

export interface Loaders {
  /** Groups by id; `null` when absent. */
  group: DataLoader<string, Group | null>;
  /** Assets by id; `null` when absent. */
  asset: DataLoader<string, Asset | null>;
  /** One page of a group's assets. */
  groupAssets: DataLoader<GroupAssetsKey, Page<Asset>, string>;
}

/**
 * Which of a batch of ids the caller may see (`Tenancy.visible`); the others load as `null`
 * without an upstream call.
 */
export type Visible = (
  kind: 'group' | 'asset',
  ids: readonly string[],
) => Promise<ReadonlySet<string>>;

/**
 * The loaders of one request, each built on first use: most operations need one of them or
 * none, and a DataLoader is a handful of objects and closures.
 */
export function createLoaders(
  upstream: Upstream,
  callOptions: () => CallOptions,
  visible: Visible = async (_kind, ids) => new Set(ids),
): Loaders {
  let asset: Loaders['asset'] | undefined;
  let group: Loaders['group'] | undefined;
  let groupAssets: Loaders['groupAssets'] | undefined;
  const loaders: Loaders = {
    get asset() {
      return (asset ??= new DataLoader(
        onlyVisible('asset', visible, (ids) =>
          settle(ids, (id) => orNull(upstream.getAsset(callOptions(), id))),
        ),
      ));
    },
    get group() {
      return (group ??= new DataLoader(
        onlyVisible('group', visible, (ids) => loadGroups(upstream, callOptions(), ids)),
      ));
    },
    get groupAssets() {
      return (groupAssets ??= new DataLoader(
        async (keys) => {
          const pages = await loadGroupAssets(upstream, callOptions(), keys);
          for (const page of pages) {
            if (!(page instanceof Error)) for (const a of page.items) loaders.asset.prime(a.id, a);
          }
          return pages;
        },
        {
          cacheKeyFn: (key) =>
            JSON.stringify([key.groupId, key.statuses ?? null, key.page, key.pageSize]),
        },
      ));
    },
  };
  return loaders;
}

/** A batch function that loads only the visible ids, and `null` for the others. */
function onlyVisible<V>(
  kind: 'group' | 'asset',
  visible: Visible,
  load: (ids: readonly string[]) => Promise<Array<V | null | Error>>,
): (ids: readonly string[]) => Promise<Array<V | null | Error>> {
  return async (ids) => {
    const allowed = await visible(kind, ids);
    const shown = ids.filter((id) => allowed.has(id));
    if (shown.length === ids.length) return load(ids);
    const loaded = shown.length === 0 ? [] : await load(shown);
    const byId = new Map(shown.map((id, i) => [id, loaded[i]] as const));
    return ids.map((id) => byId.get(id) ?? null);
  };
}

/**
 * One id: `getGroup`. Several: `listGroups({ ids })` in chunks of 100. Ids a list leaves out
 * are read one by one with `getGroup`, because some upstream deployments leave real-person
 * groups out of list results; in the usual case that costs nothing.
 */
async function loadGroups(
  upstream: Upstream,
  opts: CallOptions,
  ids: readonly string[],
): Promise<Array<Group | null | Error>> {
  if (ids.length === 1) return settle(ids, (id) => orNull(upstream.getGroup(opts, id)));
  const found = new Map<string, Group>();
  const pages = await Promise.all(
    chunk(ids, UPSTREAM_BATCH).map((part) =>
      upstream.listGroups(opts, { ids: part, page: 1, pageSize: UPSTREAM_BATCH }),
    ),
  );
  for (const page of pages) for (const g of page.items) found.set(g.id, g);
  const missing = ids.filter((id) => !found.has(id));
  const extra = await settle(missing, (id) => orNull(upstream.getGroup(opts, id)));
  const extraById = new Map(missing.map((id, i) => [id, extra[i]] as const));
  return ids.map((id) => found.get(id) ?? extraById.get(id) ?? null);
}

/**
 * Pages of several groups' assets with few upstream calls.
 *
 * Keys are bucketed by `(statuses, page, pageSize)`. A bucket with one group asks upstream for
 * exactly that page. A bucket with several groups reads *all* their assets with
 * `listAssets({ groupIds: ≤100 ids, statuses, pageSize: 100 })`, every page of it, then
 * partitions the items per group (keeping upstream's newest-first order) and slices each
 * group's page locally; `total` is the group's count. Fifty groups holding 100 assets between
 * them cost one call. The cost grows with the assets of the groups on the page, which the
 * upstream quota bounds (1000 assets on the basic plan). Pages are read one after another, so
 * an asset created meanwhile can shift items between pages; duplicates are dropped.
 */
async function loadGroupAssets(
  upstream: Upstream,
  opts: CallOptions,
  keys: readonly GroupAssetsKey[],
): Promise<Array<Page<Asset> | Error>> {
  const buckets = new Map<string, GroupAssetsKey[]>();
  for (const key of keys) {
    const bucketKey = JSON.stringify([key.statuses ?? null, key.page, key.pageSize]);
    const bucket = buckets.get(bucketKey) ?? [];
    bucket.push(key);
    buckets.set(bucketKey, bucket);
  }
  const results = new Map<GroupAssetsKey, Page<Asset> | Error>();
  await Promise.all(
    [...buckets.values()].map(async (bucket) => {
      try {
        for (const [key, page] of await loadBucket(upstream, opts, bucket)) results.set(key, page);
      } catch (error) {
        for (const key of bucket) results.set(key, toError(error));
      }
    }),
  );
  return keys.map((key) => results.get(key) ?? new Error('missing loader result'));
}

async function loadBucket(
  upstream: Upstream,
  opts: CallOptions,
  bucket: GroupAssetsKey[],
): Promise<Array<[GroupAssetsKey, Page<Asset>]>> {
  const { statuses, page, pageSize } = bucket[0]!;
  const filter = statuses ? { statuses } : {};
  if (bucket.length === 1) {
    const key = bucket[0]!;
    return [
      [
        key,
        await upstream.listAssets(opts, { groupIds: [key.groupId], ...filter, page, pageSize }),
      ],
    ];
  }
  const groupIds = [...new Set(bucket.map((k) => k.groupId))];
  const byGroup = new Map<string, Asset[]>(groupIds.map((id) => [id, []]));
  const seen = new Set<string>();
  for (const part of chunk(groupIds, UPSTREAM_BATCH)) {
    for (const a of await listAll(upstream, opts, { groupIds: part, ...filter })) {
      if (seen.has(a.id)) continue;
      seen.add(a.id);
      byGroup.get(a.groupId)?.push(a);
    }
  }
  const start = (page - 1) * pageSize;
  return bucket.map((key) => {
    const all = byGroup.get(key.groupId) ?? [];
    return [key, { items: all.slice(start, start + pageSize), total: all.length, page, pageSize }];
  });
}

/** Every page of a `listAssets` query, 100 at a time. */
export async function listAll(
  upstream: Upstream,
  opts: CallOptions,
  filter: { groupIds: string[]; statuses?: AssetStatus[] },
): Promise<Asset[]> {
  const items: Asset[] = [];
  for (let page = 1; ; page++) {
    const result = await upstream.listAssets(opts, { ...filter, page, pageSize: UPSTREAM_BATCH });
    items.push(...result.items);
    const pages = Math.ceil(result.total / UPSTREAM_BATCH);
    if (page >= pages || result.items.length === 0) return items;
  }
}

/** Resolves `NOT_FOUND` to `null`; other failures stay failures. */
async function orNull<T>(promise: Promise<T>): Promise<T | null> {
  try {
    return await promise;
  } catch (error) {
    if (isUpstreamError(error) && error.code === 'NOT_FOUND') return null;
    throw error;
  }
}

/** Runs `fn` per key with bounded concurrency; a failure becomes that key's `Error`. */
function settle<K, V>(keys: readonly K[], fn: (key: K) => Promise<V>): Promise<Array<V | Error>> {
  return mapLimit(keys, READ_CONCURRENCY, (key) => fn(key).catch(toError));
}

function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
