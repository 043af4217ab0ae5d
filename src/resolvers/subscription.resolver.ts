/**
 * The two subscriptions. Everything a subscriber can get wrong (arguments, credential, an asset,
 * group or token it cannot read) is refused when it subscribes, before the first event: the
 * `subscribe` functions check the arguments and wait for the engine's first read.
 */
import { Arg, Ctx, ID, Resolver, Root, Subscription } from 'type-graphql';
import type { GatewayContext } from '../graphql/context.js';
import {
  BadUserInputError,
  NotFoundError,
  ServiceUnavailableError,
  TooManyWatchedAssetsError,
} from '../errors/gateway-error.js';
import { AssetStatusEvent } from '../schema/asset-status-event.type.js';
import { VerificationEvent } from '../schema/verification-event.type.js';
import { VerificationStatus } from '../schema/verification-status.enum.js';
import {
  InvalidWatchTargetError,
  StatusBrokerUnavailableError,
  StatusWatcherFullError,
} from '../status/index.js';
import type { VerificationSubscription, VerificationUpdate } from '../verification/index.js';
import { checkId, checkToken, LIMITS } from '../validation.js';
import { AssetEventStream } from './status-stream.js';
import { verifiedGroup } from './verified-group.js';
import { knownVerifiedGroup, saveVerified } from './verification-ledger.js';

/**
 * The context of a subscription: a `GatewayContext` whose `signal` aborts when the operation
 * ends (the client completes it or its socket closes), even before `subscribe` resolved.
 */
export type SubscriptionContext = GatewayContext & { readonly signal?: AbortSignal };

interface AssetStatusArgs {
  assetIds?: string[] | null;
  groupId?: string | null;
}

@Resolver()
export class SubscriptionResolver {
  @Subscription(() => AssetStatusEvent, {
    description:
      'Live status of assets: first the current state of every watched asset (`kind: STATUS`, `previousStatus: null`), then each change once, in order. With `groupId`, assets added to the group later appear too (first event `previousStatus: null`) and the subscription runs until you end it; with `assetIds` only, it completes after each asset reached ACTIVE or FAILED or was deleted. Fails at once with BAD_USER_INPUT or NOT_FOUND.',
    subscribe: ({ args, context }) =>
      subscribeToAssets(context as SubscriptionContext, args as AssetStatusArgs),
  })
  assetStatusChanged(
    @Root() event: AssetStatusEvent,
    @Ctx() ctx: GatewayContext,
    @Arg('assetIds', () => [ID], {
      nullable: true,
      description: `Assets to watch: up to ${LIMITS.idsMax} ids of ${LIMITS.idMax} characters at most.`,
    })
    _assetIds: string[] | null,
    @Arg('groupId', () => ID, {
      nullable: true,
      description:
        'A group to watch: its assets now and those added later. Give this, `assetIds`, or both.',
    })
    _groupId: string | null,
  ): AssetStatusEvent {
    freshLoaders(ctx);
    return event;
  }

  @Subscription(() => VerificationEvent, {
    description:
      'Follows a real-person verification started with `startRealPersonVerification`: the current status first (PENDING while the person has not finished), then VERIFIED with the group, EXPIRED, FAILED or USED, and completes. The gateway exchanges the token itself; a later `completeRealPersonVerification` with it returns the same group. Fails at once with VERIFICATION_NOT_FOUND for an unknown token.',
    subscribe: ({ args, context }) =>
      subscribeToVerification(context as SubscriptionContext, args as { token: string }),
  })
  async realPersonVerification(
    @Root() update: VerificationUpdate,
    @Ctx() ctx: GatewayContext,
    @Arg('token', { description: 'The `token` from `startRealPersonVerification`.' })
    token: string,
  ): Promise<VerificationEvent> {
    if (update.status === 'ERROR') throw update.error;
    freshLoaders(ctx);
    let state: VerificationUpdate = update;
    if (update.status === 'VERIFIED') await saveVerified(ctx, token, update.groupId);
    // Spent through this gateway before (another instance, before a restart): the ledger knows.
    if (update.status === 'USED') {
      const groupId = await knownVerifiedGroup(ctx, token);
      if (groupId !== null) state = { status: 'VERIFIED', groupId };
    }
    const group = state.status === 'VERIFIED' ? await verifiedGroup(ctx, state.groupId) : null;
    return Object.assign(new VerificationEvent(), {
      status: VerificationStatus[state.status as keyof typeof VerificationStatus],
      group,
    });
  }
}

function liveOf(ctx: SubscriptionContext) {
  if (!ctx.live) throw new Error('Subscriptions need the live status services; none configured.');
  return ctx.live;
}

async function subscribeToAssets(
  ctx: SubscriptionContext,
  args: AssetStatusArgs,
): Promise<AsyncIterable<AssetStatusEvent>> {
  const live = liveOf(ctx);
  const opts = ctx.callOptions();
  const assetIds = args.assetIds ?? [];
  const groupId = args.groupId ?? undefined;
  if (assetIds.length === 0 && groupId === undefined) {
    throw new BadUserInputError('Give assetIds, groupId or both.', 'assetIds');
  }
  if (assetIds.length > LIMITS.idsMax) {
    throw new BadUserInputError(`assetIds may list at most ${LIMITS.idsMax} ids.`, 'assetIds');
  }
  assetIds.forEach((id, i) => checkId(id, `assetIds[${i}]`));
  if (groupId !== undefined) checkId(groupId, 'groupId');
  // Another tenant's asset or group is refused here, before anything is watched, like a missing one.
  if (groupId !== undefined) await ctx.tenancy.assertVisible('group', groupId);
  const visible = await ctx.tenancy.visible('asset', assetIds);
  if (assetIds.some((id) => !visible.has(id))) throw new NotFoundError();
  try {
    const subscription = await live.watcher.watch(
      { credential: opts.credential, assetIds, ...(groupId === undefined ? {} : { groupId }) },
      ctx.signal ? { signal: ctx.signal } : {},
    );
    return new AssetEventStream(subscription);
  } catch (error) {
    if (error instanceof InvalidWatchTargetError) {
      throw new BadUserInputError(error.message, error.field);
    }
    if (error instanceof StatusBrokerUnavailableError) {
      throw new ServiceUnavailableError(error.message, error);
    }
    if (error instanceof StatusWatcherFullError) {
      throw new TooManyWatchedAssetsError(error.message, error.maxWatchedAssets);
    }
    throw error;
  }
}

async function subscribeToVerification(
  ctx: SubscriptionContext,
  args: { token: string },
): Promise<VerificationSubscription> {
  const live = liveOf(ctx);
  const opts = ctx.callOptions();
  const token = checkToken(args.token, 'token');
  await knownVerifiedGroup(ctx, token);
  return live.verifications.watch(opts, token, ctx.signal ? { signal: ctx.signal } : {});
}

/**
 * A subscription's context lives as long as the subscription; its loaders must not serve one
 * event's reads to the next (a renamed group would never show). Events of one subscription are
 * resolved one at a time, so clearing before each is safe.
 */
function freshLoaders(ctx: GatewayContext): void {
  ctx.loaders.group.clearAll();
  ctx.loaders.asset.clearAll();
  ctx.loaders.groupAssets.clearAll();
}
