/**
 * Wire ↔ domain: the contract's PascalCase shapes (`wire.d.ts`) to the port's types and back.
 * Pure functions; the tolerances for known upstream variants live here (see upstream-api.md, the team's upstream research):
 * Unix-second times (§3.6), `TotalCount` for `Total` (§2 ②), `Id` for `GroupId` in ⑫ (§2 ⑫),
 * and `\u0026` escapes in the H5 link (§2 ⑪).
 */
import type {
  Asset,
  AssetStatus,
  AssetType,
  AvatarKind,
  Group,
  Page,
  VerificationResult,
} from '../port.js';
import type { components } from './wire.js';

export type Wire = components['schemas'];
/** The contract says ISO 8601; some deployments send Unix seconds. */
type WireTime = Wire['Timestamp'] | number;
type Tolerant<T> = { [K in keyof T]: K extends `${string}Time` ? WireTime | undefined : T[K] };

/** One enum, both ways: each domain value beside its wire spelling, and the inverse. */
export interface TwoWay<D extends string, W extends string> {
  toWire: Readonly<Record<D, W>>;
  fromWire: Readonly<Record<W, D>>;
}

function twoWay<D extends string, W extends string>(toWire: Record<D, W>): TwoWay<D, W> {
  const pairs = Object.entries(toWire) as [D, W][];
  return { toWire, fromWire: Object.fromEntries(pairs.map(([d, w]) => [w, d])) as Record<W, D> };
}

/** The wire enums, also served by the simulator's Ark face. */
export const KINDS = twoWay<AvatarKind, Wire['GroupType']>({
  VIRTUAL: 'AIGC',
  REAL: 'LivenessFace',
});
export const ASSET_TYPES = twoWay<AssetType, Wire['AssetType']>({
  IMAGE: 'Image',
  VIDEO: 'Video',
  AUDIO: 'Audio',
});
export const STATUSES = twoWay<AssetStatus, Wire['AssetStatus']>({
  PROCESSING: 'Processing',
  ACTIVE: 'Active',
  FAILED: 'Failed',
});

export const kindToWire = (kind: AvatarKind): Wire['GroupType'] => KINDS.toWire[kind];
export const typeToWire = (type: AssetType): Wire['AssetType'] => ASSET_TYPES.toWire[type];
export const statusToWire = (status: AssetStatus): Wire['AssetStatus'] => STATUSES.toWire[status];

/** ISO 8601 strings, or Unix seconds (milliseconds, if the number is too large for seconds). */
export function toDate(value: WireTime | undefined): Date | null {
  if (value === undefined) return null;
  const date =
    typeof value === 'number' ? new Date(value > 1e11 ? value : value * 1000) : new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export interface GroupFallbacks {
  /** Used when `GroupType` is absent: the kind the caller filtered on, if any. */
  kind?: AvatarKind;
}

export function toGroup(wire: Tolerant<Wire['Group']>, fallbacks: GroupFallbacks = {}): Group {
  return {
    id: wire.Id,
    name: wire.Name ?? null,
    description: wire.Description ?? null,
    // `GroupType` is optional in the contract; without it the only kind ① can create is assumed.
    kind: wire.GroupType ? KINDS.fromWire[wire.GroupType] : (fallbacks.kind ?? 'VIRTUAL'),
    createdAt: toDate(wire.CreateTime),
    updatedAt: toDate(wire.UpdateTime),
  };
}

export interface AssetFallbacks {
  /** Used when `GroupId` is absent: the group the caller asked about, if only one. */
  groupId?: string;
}

export function toAsset(wire: Tolerant<Wire['Asset']>, fallbacks: AssetFallbacks = {}): Asset {
  const status = STATUSES.fromWire[wire.Status];
  return {
    id: wire.Id,
    groupId: wire.GroupId ?? fallbacks.groupId ?? '',
    name: wire.Name ?? null,
    type: wire.AssetType ? ASSET_TYPES.fromWire[wire.AssetType] : guessType(wire.URL),
    status,
    failure:
      status === 'FAILED'
        ? {
            code: wire.Error?.Code ?? 'Unknown',
            message: wire.Error?.Message ?? 'The upstream gave no reason.',
          }
        : null,
    previewUrl: wire.URL ?? null,
    createdAt: toDate(wire.CreateTime),
    updatedAt: toDate(wire.UpdateTime),
  };
}

/** `AssetType` is optional in the contract; the stored copy's file extension is the best hint. */
export function guessType(url: string | undefined): AssetType {
  const path = url?.split(/[?#]/)[0] ?? '';
  const ext = /\.([a-z0-9]+)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext && ['mp4', 'mov'].includes(ext)) return 'VIDEO';
  if (ext && ['mp3', 'wav'].includes(ext)) return 'AUDIO';
  return 'IMAGE';
}

export interface WirePage<T> {
  Total?: number;
  TotalCount?: number;
  PageNumber?: number;
  PageSize?: number;
  Items: T[];
}

/**
 * `Total ?? TotalCount`. When the upstream sends neither (one deployment does), the total is a
 * lower bound: the items seen up to this page, plus one when the page is full, since a full page
 * may not be the last. Pagers that stop at `page * pageSize >= total` then read on until a short
 * (or empty) page, whose total is exact. Page numbers fall back to what was asked.
 */
export function toPage<W, D>(
  wire: WirePage<W>,
  asked: { page: number; pageSize: number },
  map: (item: W) => D,
): Page<D> {
  const page = wire.PageNumber ?? asked.page;
  const pageSize = wire.PageSize ?? asked.pageSize;
  const seen = (page - 1) * pageSize + wire.Items.length;
  return {
    items: wire.Items.map(map),
    total: wire.Total ?? wire.TotalCount ?? (wire.Items.length >= pageSize ? seen + 1 : seen),
    page,
    pageSize,
  };
}

/** ⑫: `GroupId` (or `Id` at some deployments); empty or absent means the person is not done. */
export function toVerificationResult(
  wire: Wire['ExchangeBytedTokenResponse']['Result'],
): VerificationResult {
  const groupId = wire.GroupId || wire.Id;
  return groupId ? { status: 'VERIFIED', groupId } : { status: 'PENDING' };
}

/** ⑪: some deployments send the link with literal `\u0026` escapes for `&`. */
export function unescapeLink(link: string): string {
  return link.replace(/\\u0026/gi, '&');
}
