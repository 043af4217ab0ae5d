import type { GatewayContext } from '../graphql/context.js';
import type { AssetGroup } from '../schema/asset-group.type.js';
import type { CallOptions, VerificationResult } from '../upstream/port.js';
import { toAssetGroup } from './mappers.js';

/**
 * ⑫ through the live services when the server has them (so that a token redeemed by a
 * `realPersonVerification` subscription still answers with its group), else straight upstream.
 */
export function exchangeToken(
  ctx: GatewayContext,
  opts: CallOptions,
  token: string,
): Promise<VerificationResult> {
  return ctx.live
    ? ctx.live.verifications.exchange(opts, token)
    : ctx.upstream.completeVerification(opts, token);
}

/**
 * The group a verification token was exchanged for. The token is spent by then: if the group
 * cannot be read, still hand out its id.
 */
export async function verifiedGroup(ctx: GatewayContext, groupId: string): Promise<AssetGroup> {
  const group = await ctx.loaders.group.load(groupId).catch((error: unknown) => {
    ctx.logger.warn({ err: error, groupId }, 'could not read the verified group');
    return null;
  });
  return toAssetGroup(
    group ?? {
      id: groupId,
      name: null,
      description: null,
      kind: 'REAL',
      createdAt: null,
      updatedAt: null,
    },
  );
}
