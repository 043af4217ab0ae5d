/**
 * A group's assets as the console shows them: the list read once, then kept current by the
 * `assetStatusChanged(groupId)` subscription (which also reports assets added later). A pure
 * reducer, so the merge rules read in one place.
 */
import type { AssetEventKind, AssetStatus, AssetType } from './gql/graphql';

export interface LiveAsset {
  id: string;
  name?: string | null;
  type: AssetType;
  status: AssetStatus;
  /** Null until the upstream assigns it (apimart: when the review ends). */
  uri: string | null;
  previewUrl?: string | null;
  createdAt?: string | null;
  failure?: { code: string; message: string } | null;
  /** Set while the gateway cannot confirm the status (a STALE event until RECOVERED). */
  stale?: { reason: string | null; since: string | null } | null;
}

export type LiveAssets = ReadonlyMap<string, LiveAsset>;

export type LiveAction =
  | { type: 'loaded'; assets: readonly LiveAsset[] }
  | { type: 'added'; assets: readonly LiveAsset[] }
  | { type: 'removed'; id: string }
  | { type: 'renamed'; id: string; name: string | null }
  | {
      type: 'event';
      kind: AssetEventKind;
      asset: LiveAsset;
      staleReason?: string | null;
      staleSince?: string | null;
    };

export function liveAssets(state: LiveAssets, action: LiveAction): LiveAssets {
  const next = new Map(state);
  switch (action.type) {
    case 'loaded':
    case 'added':
      // An event may have arrived before the list: keep whichever is further along.
      for (const asset of action.assets) {
        const known = next.get(asset.id);
        if (!known || known.status === 'PROCESSING') next.set(asset.id, { ...known, ...asset });
      }
      return next;
    case 'removed':
      next.delete(action.id);
      return next;
    case 'renamed': {
      const known = next.get(action.id);
      if (known) next.set(action.id, { ...known, name: action.name });
      return next;
    }
    case 'event': {
      const { asset } = action;
      if (action.kind === 'DELETED') {
        next.delete(asset.id);
      } else if (action.kind === 'STALE') {
        next.set(asset.id, {
          ...next.get(asset.id),
          ...asset,
          stale: { reason: action.staleReason ?? null, since: action.staleSince ?? null },
        });
      } else {
        next.set(asset.id, { ...next.get(asset.id), ...asset, stale: null });
      }
      return next;
    }
  }
}

/** Newest first, as the gateway lists them. */
export function ordered(state: LiveAssets): LiveAsset[] {
  return [...state.values()].sort(
    (a, b) => (b.createdAt ?? '').localeCompare(a.createdAt ?? '') || b.id.localeCompare(a.id),
  );
}
