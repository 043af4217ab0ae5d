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
 */
import type { GatewayContext } from '../graphql/context.js';
import type { ErrorCode } from '../errors/codes.js';
import { INTERNAL_ERROR_MESSAGE } from '../errors/format.js';
import { fromUpstreamError } from '../errors/from-upstream.js';
import type { AddAssetsPayload } from '../schema/add-assets.payload.js';
import type { AddAssetFailure } from '../schema/add-asset-failure.type.js';
import { isUpstreamError } from '../upstream/errors.js';
import type { Asset, CallOptions, NewAsset } from '../upstream/port.js';
import { createAssets } from './create-assets.js';
import { toAddAssetFailure, toAsset } from './mappers.js';

/** How many `createAsset` calls one `addAssets` runs at once (upstream allows ~30 in flight). */
export const ADD_ASSETS_CONCURRENCY = 4;

export async function addAssets(
  ctx: GatewayContext,
  opts: CallOptions,
  items: readonly NewAsset[],
): Promise<AddAssetsPayload> {
  const outcomes = await createAssets(
    ctx.upstream,
    opts,
    items.map((input, index) => ({ index, input })),
    ADD_ASSETS_CONCURRENCY,
  );

  const created = outcomes.filter((o) => o.ok);
  const assets = await Promise.all(
    created.map(async ({ id, input }) => {
      const read = await ctx.loaders.asset.load(id).catch((error: unknown) => {
        ctx.logger.warn({ err: error, assetId: id }, 'could not read back a created asset');
        return null;
      });
      const asset = read ?? processing(id, input);
      // Group subscribers (on every instance) see it now rather than at the next sweep.
      ctx.live?.watcher.noteAssetAdded(opts.credential, asset);
      return toAsset(asset);
    }),
  );
  const failures = outcomes.filter((o) => !o.ok).map((o) => describeFailure(ctx, o));
  return { assets, failures };
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
): AddAssetFailure {
  if (!isUpstreamError(error)) {
    ctx.logger.error({ err: error, index }, 'unexpected error while creating an asset');
    return toAddAssetFailure({
      index,
      url: input.url,
      code: 'INTERNAL_SERVER_ERROR' satisfies ErrorCode,
      message: INTERNAL_ERROR_MESSAGE,
    });
  }
  const upstream = {
    upstreamCode: error.upstreamCode ?? null,
    upstreamRequestId: error.requestId ?? null,
  };
  const mapped = fromUpstreamError(error);
  if (error.outcomeUnknown) {
    return toAddAssetFailure({
      index,
      url: input.url,
      code: 'OUTCOME_UNKNOWN',
      message: `The upstream did not confirm this item (${mapped.code}); the asset may have been created. List the group's assets before retrying it.`,
      ...upstream,
    });
  }
  return toAddAssetFailure({
    index,
    url: input.url,
    code: mapped.code,
    message: mapped.message,
    ...upstream,
  });
}
