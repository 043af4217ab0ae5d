/**
 * Turns checked GraphQL arguments into port queries. Every check runs here or in the resolver
 * before any upstream call; see `../validation.ts` for the rules.
 */
import type { AssetFilter } from '../schema/asset-filter.input.js';
import type { AssetStatus } from '../schema/asset-status.enum.js';
import type { GroupFilter } from '../schema/group-filter.input.js';
import type { AssetQuery, GroupQuery } from '../upstream/port.js';
import {
  checkEnumList,
  checkIds,
  checkNameFilter,
  checkPage,
  checkPageSize,
} from '../validation.js';

export const DEFAULT_PAGE_SIZE = 10;

/** `null` (sent explicitly) means the default, like an absent argument. */
export function paging(page: number | null, pageSize: number | null) {
  return {
    page: checkPage(page ?? 1, 'page'),
    pageSize: checkPageSize(pageSize ?? DEFAULT_PAGE_SIZE, 'pageSize'),
  };
}

export function groupQuery(
  filter: GroupFilter | null | undefined,
  page: number | null,
  pageSize: number | null,
): GroupQuery {
  return compact({
    nameContains: checkNameFilter(filter?.nameContains, 'filter.nameContains'),
    ids: checkIds(filter?.ids, 'filter.ids'),
    kind: filter?.kind ?? undefined,
    ...paging(page, pageSize),
  });
}

export function assetQuery(
  filter: AssetFilter | null | undefined,
  page: number | null,
  pageSize: number | null,
): AssetQuery {
  return compact({
    groupIds: checkIds(filter?.groupIds, 'filter.groupIds'),
    statuses: checkEnumList(filter?.statuses),
    types: checkEnumList(filter?.types),
    kind: filter?.kind ?? undefined,
    nameContains: checkNameFilter(filter?.nameContains, 'filter.nameContains'),
    ...paging(page, pageSize),
  });
}

/** Statuses as a loader key part: sorted, de-duplicated, `undefined` for "all". */
export function statusKey(
  statuses: readonly AssetStatus[] | null | undefined,
): AssetStatus[] | undefined {
  return checkEnumList(statuses)?.sort();
}

/** Drops `undefined` properties, so the upstream client never sees them. */
export function compact<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}
