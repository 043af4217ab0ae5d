/**
 * `groups` and `assets` for an isolated tenant (`Tenancy.isolated`): the ledger pages over the
 * tenant's own ids (newest first, with the true total), then the page is read upstream in
 * batches — groups by id (`GroupIds`), assets by the groups holding them. A resource deleted
 * upstream behind the gateway's back is left out of the page's items until its ledger entry is
 * forgotten (its owner's `deleteGroup`/`deleteAsset` does it: `deleteOwned`).
 */
import type DataLoader from 'dataloader';
import type { GatewayContext } from '../graphql/context.js';
import { ledgerCall } from '../graphql/tenancy.js';
import type { Ledger, OwnedFilter } from '../ledger/index.js';
import { listAll, UPSTREAM_BATCH } from '../graphql/loaders.js';
import type { Asset, AssetQuery, AssetStatus, Group, GroupQuery, Page } from '../upstream/port.js';
import { chunk } from '../util/map-limit.js';

/**
 * Past this many assets, a `statuses` filter (which only the upstream can answer) reads only the
 * tenant's newest this-many matching assets; the upstream's plans cap a library at 1000.
 */
export const STATUS_SCAN_MAX = 1000;

export async function ownedGroups(
  ctx: GatewayContext,
  ledger: Ledger,
  query: GroupQuery,
): Promise<Page<Group>> {
  const filter: OwnedFilter = {
    ...(query.ids && { ids: query.ids }),
    ...(query.kind && { avatarKind: query.kind }),
    ...(query.nameContains && { nameContains: query.nameContains }),
  };
  const owned = await ledgerCall(() =>
    ledger.pageOwned(ctx.tenancy.tenant, 'group', filter, query.page, query.pageSize),
  );
  ctx.tenancy.remember('group', owned.ids);
  const items = await loadAll(ctx.loaders.group, owned.ids);
  return { items, total: owned.total, page: query.page, pageSize: query.pageSize };
}

export async function ownedAssets(
  ctx: GatewayContext,
  ledger: Ledger,
  query: AssetQuery,
): Promise<Page<Asset>> {
  const { tenant } = ctx.tenancy;
  const filter: OwnedFilter = {
    ...(query.groupIds && { groupIds: query.groupIds }),
    ...(query.kind && { avatarKind: query.kind }),
    ...(query.types && { assetTypes: query.types }),
    ...(query.nameContains && { nameContains: query.nameContains }),
  };
  const { page, pageSize } = query;
  const statuses = query.statuses?.length ? query.statuses : undefined;
  if (!statuses) {
    const owned = await ledgerCall(() => ledger.pageOwned(tenant, 'asset', filter, page, pageSize));
    const items = await readByGroup(ctx, owned.ids, owned.groupIds ?? []);
    return { items, total: owned.total, page, pageSize };
  }
  // Statuses change upstream: read every candidate, filter, then page, so `total` stays true.
  const candidates = await ledgerCall(() =>
    ledger.pageOwned(tenant, 'asset', filter, 1, STATUS_SCAN_MAX),
  );
  const matching = await readByGroup(ctx, candidates.ids, candidates.groupIds ?? [], statuses);
  const start = (page - 1) * pageSize;
  return { items: matching.slice(start, start + pageSize), total: matching.length, page, pageSize };
}

/**
 * The assets `ids` (in that order), read upstream by the groups holding them: `ListAssets` with
 * up to 100 `GroupIds` per call, every page, keeping only `ids` (a group may hold assets the
 * tenant does not own). With `statuses`, only those in these statuses. Ids a list leaves out are
 * read one by one (`asset` loader); ids gone upstream are left out.
 */
async function readByGroup(
  ctx: GatewayContext,
  ids: readonly string[],
  groupIds: readonly string[],
  statuses?: AssetStatus[],
): Promise<Asset[]> {
  ctx.tenancy.remember('asset', ids);
  const wanted = new Set(ids);
  const found = new Map<string, Asset>();
  const opts = ctx.callOptions();
  for (const part of chunk(groupIds, UPSTREAM_BATCH)) {
    const listed = await listAll(ctx.upstream, opts, {
      groupIds: part,
      ...(statuses && { statuses }),
    });
    for (const asset of listed) {
      if (!wanted.has(asset.id)) continue;
      found.set(asset.id, asset);
      ctx.loaders.asset.prime(asset.id, asset);
    }
  }
  // With a status filter, an id not listed is an asset in another status.
  if (statuses) return ids.flatMap((id) => found.get(id) ?? []);
  const missing = ids.filter((id) => !found.has(id));
  const read = missing.length === 0 ? [] : await loadAll(ctx.loaders.asset, missing);
  for (const asset of read) found.set(asset.id, asset);
  return ids.flatMap((id) => found.get(id) ?? []);
}

/** Loads ids in one batch, dropping those gone upstream; a failed read fails the page. */
async function loadAll<T>(loader: DataLoader<string, T | null>, ids: string[]): Promise<T[]> {
  const loaded = await loader.loadMany(ids);
  const items: T[] = [];
  for (const item of loaded) {
    if (item instanceof Error) throw item;
    if (item !== null) items.push(item);
  }
  return items;
}
