/**
 * `groups` and `assets` for an isolated tenant (`Tenancy.isolated`): the ledger pages over the
 * tenant's own ids (newest first, with the true total), then the page is read upstream through
 * the request's loaders. A resource deleted upstream behind the gateway's back is left out of
 * the page's items until its ledger entry is forgotten.
 */
import type DataLoader from 'dataloader';
import type { GatewayContext } from '../graphql/context.js';
import { ledgerCall } from '../graphql/tenancy.js';
import type { Ledger, OwnedFilter } from '../ledger/index.js';
import type { Asset, AssetQuery, Group, GroupQuery, Page } from '../upstream/port.js';

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
  const statuses = query.statuses;
  if (!statuses || statuses.length === 0) {
    const owned = await ledgerCall(() => ledger.pageOwned(tenant, 'asset', filter, page, pageSize));
    ctx.tenancy.remember('asset', owned.ids);
    const items = await loadAll(ctx.loaders.asset, owned.ids);
    return { items, total: owned.total, page, pageSize };
  }
  // Statuses change upstream: read every candidate, filter, then page, so `total` stays true.
  const candidates = await ledgerCall(() =>
    ledger.pageOwned(tenant, 'asset', filter, 1, STATUS_SCAN_MAX),
  );
  ctx.tenancy.remember('asset', candidates.ids);
  const wanted = new Set<string>(statuses);
  const matching = (await loadAll(ctx.loaders.asset, candidates.ids)).filter((a) =>
    wanted.has(a.status),
  );
  const start = (page - 1) * pageSize;
  return { items: matching.slice(start, start + pageSize), total: matching.length, page, pageSize };
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
