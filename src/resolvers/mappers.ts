/** From the port's domain objects to the GraphQL object types. */
import { AddAssetFailure } from '../schema/add-asset-failure.type.js';
import { AssetFailure } from '../schema/asset-failure.type.js';
import { AssetGroup } from '../schema/asset-group.type.js';
import type { AssetStatus } from '../schema/asset-status.enum.js';
import type { AssetType } from '../schema/asset-type.enum.js';
import { Asset } from '../schema/asset.type.js';
import type { AvatarKind } from '../schema/avatar-kind.enum.js';
import type * as port from '../upstream/port.js';

/** What an unnamed group is called (the upstream may omit real-person group names). */
export const FALLBACK_GROUP_NAME: Readonly<Record<port.AvatarKind, string>> = {
  REAL: 'Verified person',
  VIRTUAL: 'Untitled group',
};

export function toAssetGroup(group: port.Group): AssetGroup {
  return Object.assign(new AssetGroup(), {
    id: group.id,
    name: group.name ?? FALLBACK_GROUP_NAME[group.kind],
    description: group.description,
    kind: group.kind as AvatarKind,
    createdAt: group.createdAt,
    updatedAt: group.updatedAt,
  });
}

export function toAsset(asset: port.Asset): Asset {
  return Object.assign(new Asset(), {
    id: asset.id,
    groupId: asset.groupId,
    name: asset.name,
    type: asset.type as AssetType,
    status: asset.status as AssetStatus,
    failure: asset.failure ? Object.assign(new AssetFailure(), asset.failure) : null,
    uri: asset.uri === undefined ? `asset://${asset.id}` : asset.uri,
    previewUrl: asset.previewUrl,
    createdAt: asset.createdAt,
    updatedAt: asset.updatedAt,
  });
}

export interface PageFields<T> {
  items: T[];
  total: number;
  page: number;
  pageSize: number;
  hasNextPage: boolean;
}

export function toPage<S, T>(page: port.Page<S>, map: (item: S) => T): PageFields<T> {
  return {
    items: page.items.map(map),
    total: page.total,
    page: page.page,
    pageSize: page.pageSize,
    hasNextPage: page.page * page.pageSize < page.total,
  };
}

export function toAddAssetFailure(fields: {
  index: number;
  url: string;
  code: string;
  message: string;
  upstreamCode?: string | null;
  upstreamRequestId?: string | null;
}): AddAssetFailure {
  return Object.assign(new AddAssetFailure(), {
    upstreamCode: null,
    upstreamRequestId: null,
    ...fields,
  });
}
