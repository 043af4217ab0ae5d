/**
 * What watchers publish on the bus: a batch of items per poll and credential, as JSON. An item is
 * what the poller read about one asset, not yet an event: the instance that receives it diffs it
 * against what its own subscribers were shown (`fanout.ts`), and only then is it a `StatusEvent`.
 * So a deletion travels as an id: the instance that deletes an asset may never have read it,
 * while another one's subscribers were shown it. Dates travel as ISO strings. Decoding checks the shape, so a foreign or corrupt message is dropped
 * instead of reaching subscribers.
 */
import type { Asset, AssetStatus, AssetType } from '../upstream/port.js';

export type BusItem =
  /** The asset as last read (a change, or an asset a group watch discovered). */
  | { kind: 'status'; asset: Asset }
  /** A read answered `NOT_FOUND`. */
  | { kind: 'deleted'; assetId: string }
  /** The poller could not refresh the asset since `since` (epoch ms). */
  | { kind: 'stale'; assetId: string; since: number; reason: string }
  /** The poller read the asset again after a `stale` item. */
  | { kind: 'recovered'; assetId: string };

const VERSION = 1;
const STATUSES: ReadonlySet<string> = new Set<AssetStatus>(['PROCESSING', 'ACTIVE', 'FAILED']);
const TYPES: ReadonlySet<string> = new Set<AssetType>(['IMAGE', 'VIDEO', 'AUDIO']);

export function encodeItems(items: readonly BusItem[]): string {
  return JSON.stringify({
    v: VERSION,
    items: items.map((item) =>
      item.kind === 'status'
        ? {
            kind: 'status',
            asset: {
              ...item.asset,
              createdAt: item.asset.createdAt?.toISOString() ?? null,
              updatedAt: item.asset.updatedAt?.toISOString() ?? null,
            },
          }
        : item,
    ),
  });
}

/** Throws a `TypeError` when the message is not a batch this version understands. */
export function decodeItems(message: string): BusItem[] {
  const parsed: unknown = JSON.parse(message);
  if (!isRecord(parsed) || parsed.v !== VERSION || !Array.isArray(parsed.items)) {
    throw new TypeError('not a status batch');
  }
  return parsed.items.map(decodeItem);
}

function decodeItem(raw: unknown): BusItem {
  if (!isRecord(raw)) throw new TypeError('bad item');
  switch (raw.kind) {
    case 'status':
      return { kind: 'status', asset: decodeAsset(raw.asset) };
    case 'deleted':
    case 'recovered':
      return { kind: raw.kind, assetId: str(raw.assetId) };
    case 'stale':
      if (typeof raw.since !== 'number') throw new TypeError('bad since');
      return {
        kind: 'stale',
        assetId: str(raw.assetId),
        since: raw.since,
        reason: str(raw.reason),
      };
    default:
      throw new TypeError('bad item kind');
  }
}

function decodeAsset(raw: unknown): Asset {
  if (!isRecord(raw)) throw new TypeError('bad asset');
  const status = str(raw.status);
  const type = str(raw.type);
  if (!STATUSES.has(status) || !TYPES.has(type)) throw new TypeError('bad asset enum');
  let failure: Asset['failure'] = null;
  if (raw.failure !== null && raw.failure !== undefined) {
    if (!isRecord(raw.failure)) throw new TypeError('bad failure');
    failure = { code: str(raw.failure.code), message: str(raw.failure.message) };
  }
  return {
    id: str(raw.id),
    groupId: str(raw.groupId),
    name: optionalStr(raw.name),
    type: type as AssetType,
    status: status as AssetStatus,
    failure,
    previewUrl: optionalStr(raw.previewUrl),
    // Absent (Ark: `asset://<id>`) stays absent; apimart's `null` or its own `asset://…` travel.
    ...(raw.uri === undefined ? {} : { uri: optionalStr(raw.uri) }),
    createdAt: optionalDate(raw.createdAt),
    updatedAt: optionalDate(raw.updatedAt),
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string {
  if (typeof value !== 'string') throw new TypeError('expected a string');
  return value;
}

function optionalStr(value: unknown): string | null {
  return value === null || value === undefined ? null : str(value);
}

function optionalDate(value: unknown): Date | null {
  if (value === null || value === undefined) return null;
  const date = new Date(str(value));
  if (Number.isNaN(date.getTime())) throw new TypeError('bad date');
  return date;
}
