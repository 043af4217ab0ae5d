/**
 * `addAssets`: one `createAsset` per item (or one batch per group and type, where the dialect
 * uploads in batches: `create-assets.ts`), a few at a time, never retried (a create is not
 * idempotent). Each item ends as a created asset or a failure with its own code, so one bad
 * item never hides the others' results.
 *
 * Created assets are read back with `getAsset` (through the request's asset loader) so they
 * carry upstream's timestamps and current status. When that read fails, the asset is still
 * reported, built from the input as `PROCESSING` with no timestamps: creation succeeded, and
 * losing its id would be worse than showing a slightly stale copy.
 *
 * Created assets are recorded in the ledger as the caller's tenant's before the answer leaves.
 * With an `idempotencyKey` the whole call is one idempotent operation: a retry replays the
 * first answer, and items whose create was sent but not confirmed (`OUTCOME_UNKNOWN`) are looked
 * for in the group by the next retry before anything is sent again.
 */
import type { GatewayContext } from '../graphql/context.js';
import type { ErrorCode } from '../errors/codes.js';
import { INTERNAL_ERROR_MESSAGE } from '../errors/format.js';
import { fromUpstreamError } from '../errors/from-upstream.js';
import type { AddAssetsPayload } from '../schema/add-assets.payload.js';
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, CallOptions, NewAsset } from '../upstream/port.js';
import { createAssets, type CreateOutcome } from './create-assets.js';
import { toAddAssetFailure, toAsset } from './mappers.js';
import { ledgerCall } from '../graphql/tenancy.js';
import { idempotently, predatesAttempt, type Finished } from './idempotent.js';
import { reviveDates } from './owned-writes.js';

/** How many `createAsset` calls one `addAssets` runs at once (upstream allows ~30 in flight). */
export const ADD_ASSETS_CONCURRENCY = 4;

/** What one attempt did, kept (through JSON) for replays. */
interface Uploaded {
  /** The created assets, in item order. */
  assets: Asset[];
  failures: FailureFields[];
}

type FailureFields = Parameters<typeof toAddAssetFailure>[0];

/**
 * What a retry of an attempt with unconfirmed items must know: the items it did create, and
 * the items whose outcome is unknown (to be looked for in the group before any resend).
 */
interface Note {
  created: Array<{ index: number; id: string }>;
  unknown: number[];
  /** When the first attempt began (added by `idempotently`). */
  sentAt?: number;
}

/**
 * Uploads `items` into one group and records the created assets as the caller's tenant's. With
 * `idempotencyKey`, a retry replays the first answer (see `idempotent.ts`).
 */
export async function addAssets(
  ctx: GatewayContext,
  opts: CallOptions,
  items: readonly NewAsset[],
  idempotencyKey?: string | null,
): Promise<AddAssetsPayload> {
  const groupId = items[0]?.groupId ?? '';
  const uploaded = await idempotently<Uploaded>(ctx, {
    scope: `addAssets:${groupId}`,
    key: idempotencyKey,
    input: items,
    revive: (stored) => {
      const answer = stored as Uploaded;
      return { ...answer, assets: answer.assets.map((a) => reviveDates<Asset>(a)) };
    },
    run: (note) => upload(ctx, opts, items, note as Note | undefined),
  });
  return {
    assets: uploaded.assets.map(toAsset),
    failures: uploaded.failures.map(toAddAssetFailure),
  };
}

async function upload(
  ctx: GatewayContext,
  opts: CallOptions,
  items: readonly NewAsset[],
  note: Note | undefined,
): Promise<Finished<Uploaded>> {
  await ctx.tenancy.assertWritable();
  const known = new Map<number, string>(note?.created.map((c) => [c.index, c.id]) ?? []);
  if (note && note.unknown.length > 0) {
    for (const [index, id] of await findUnconfirmed(ctx, opts, items, note)) {
      known.set(index, id);
    }
  }
  // Items a previous attempt created keep their ids; only the others are sent (in batches where
  // the dialect uploads in batches).
  const pending = items
    .map((input, index) => ({ index, input }))
    .filter(({ index }) => !known.has(index));
  const sent = await createAssets(ctx.upstream, opts, pending, ADD_ASSETS_CONCURRENCY);
  const kept: CreateOutcome[] = [...known].map(([index, id]) => ({
    index,
    input: items[index]!,
    ok: true,
    id,
  }));
  const outcomes = [...kept, ...sent].sort((x, y) => x.index - y.index);

  const created = outcomes.filter((o) => o.ok);
  const owned = {
    assets: {
      groupId: items[0]?.groupId ?? '',
      assets: created.map(({ id, input }) => ({
        id,
        url: input.url,
        type: input.type,
        ...(input.name === undefined ? {} : { name: input.name }),
      })),
    },
  };
  const assets = await Promise.all(
    created.map(async ({ id, input }) => {
      const read = await ctx.loaders.asset.load(id).catch((error: unknown) => {
        ctx.logger.warn({ err: error, assetId: id }, 'could not read back a created asset');
        return null;
      });
      const asset = read ?? processing(id, input);
      // Group subscribers (on every instance) see it now rather than at the next sweep.
      ctx.live?.watcher.noteAssetAdded(opts.credential, asset);
      return asset;
    }),
  );
  const failed = outcomes.filter((o) => !o.ok);
  const answer = { assets, failures: failed.map((o) => describeFailure(ctx, o)) };
  const unknown = failed
    .filter((o) => isUpstreamError(o.error) && o.error.outcomeUnknown)
    .map((o) => o.index);
  if (unknown.length === 0) return { done: answer, owned };
  return {
    unknown: answer,
    note: { created: created.map(({ index, id }) => ({ index, id })), unknown } satisfies Note,
    owned,
  };
}

/**
 * The assets that unconfirmed items may have created: in the group, of the same type and name,
 * owned by nobody in the ledger (everything the gateway confirmed is owned), and not older than
 * the first attempt (`predatesAttempt`). The upstream does not echo an asset's source URL, so the
 * name and type are what can be matched.
 */
async function findUnconfirmed(
  ctx: GatewayContext,
  opts: CallOptions,
  items: readonly NewAsset[],
  note: Note,
): Promise<Map<number, string>> {
  const groupId = items[0]!.groupId;
  const inGroup: Asset[] = [];
  for (let page = 1; ; page++) {
    const result = await ctx.upstream.listAssets(opts, {
      groupIds: [groupId],
      page,
      pageSize: 100,
    });
    inGroup.push(...result.items);
    if (page * 100 >= result.total || result.items.length === 0) break;
  }
  const { ledger } = ctx.tenancy;
  const unowned: Asset[] = [];
  for (const asset of inGroup) {
    if (predatesAttempt(asset.createdAt, note)) continue;
    if (!ledger || (await ledgerCall(() => ledger.ownerOf('asset', asset.id))) === null) {
      unowned.push(asset);
    }
  }
  const found = new Map<number, string>();
  for (const index of note.unknown) {
    const item = items[index]!;
    const match = unowned.findIndex(
      (a) => a.type === item.type && (a.name ?? undefined) === item.name,
    );
    if (match !== -1) found.set(index, unowned.splice(match, 1)[0]!.id);
  }
  return found;
}

function processing(id: string, input: NewAsset): Asset {
  return {
    id,
    groupId: input.groupId,
    name: input.name ?? null,
    type: input.type,
    status: 'PROCESSING',
    failure: null,
    previewUrl: null,
    createdAt: null,
    updatedAt: null,
  };
}

function describeFailure(
  ctx: GatewayContext,
  { index, input, error }: { index: number; input: NewAsset; error: unknown },
): FailureFields {
  if (!isUpstreamError(error)) {
    ctx.logger.error({ err: error, index }, 'unexpected error while creating an asset');
    return {
      index,
      url: input.url,
      code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode,
      message: INTERNAL_ERROR_MESSAGE,
    };
  }
  const upstream = {
    upstreamCode: error.upstreamCode ?? null,
    upstreamRequestId: error.requestId ?? null,
  };
  const mapped = fromUpstreamError(error);
  if (error.outcomeUnknown) {
    return {
      index,
      url: input.url,
      code: 'OUTCOME_UNKNOWN',
      message: `The upstream did not confirm this item (${mapped.code}); the asset may have been created. List the group's assets before retrying it.`,
      ...upstream,
    };
  }
  return {
    index,
    url: input.url,
    code: mapped.code,
    message: mapped.message,
    ...upstream,
  };
}
