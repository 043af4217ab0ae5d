import {
  Arg,
  Args,
  Ctx,
  FieldResolver,
  ID,
  Int,
  Mutation,
  Query,
  Resolver,
  Root,
} from 'type-graphql';
import type { GatewayContext } from '../graphql/context.js';
import { AddAssetsPayload } from '../schema/add-assets.payload.js';
import { AssetFilter } from '../schema/asset-filter.input.js';
import { AssetGroup } from '../schema/asset-group.type.js';
import { AssetPage } from '../schema/asset-page.type.js';
import { Asset } from '../schema/asset.type.js';
import { NewAssetInput } from '../schema/new-asset.input.js';
import { checkAssetUrl, checkBatch, checkId, checkName } from '../validation.js';
import { addAssets } from './add-assets.js';
import { assetQuery, compact } from './args.js';
import { PageArgs } from '../schema/page.args.js';
import { toAsset, toAssetGroup, toPage } from './mappers.js';
import { ledgerCall } from '../graphql/tenancy.js';
import { ownedAssets } from './owned-pages.js';
import { deleteOwned } from './owned-writes.js';

@Resolver(() => Asset)
export class AssetResolver {
  @Query(() => Asset, { nullable: true, description: 'One asset; null when it does not exist.' })
  async asset(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The asset id.' }) id: string,
  ): Promise<Asset | null> {
    ctx.callOptions();
    const asset = await ctx.loaders.asset.load(checkId(id, 'id'));
    return asset ? toAsset(asset) : null;
  }

  @Query(() => AssetPage, { description: 'Assets across your groups, newest first.' })
  async assets(
    @Ctx() ctx: GatewayContext,
    @Arg('filter', () => AssetFilter, { nullable: true, description: 'Conditions to match.' })
    filter: AssetFilter | null,
    @Args(() => PageArgs) { page, pageSize }: PageArgs,
  ): Promise<AssetPage> {
    const opts = ctx.callOptions();
    const query = assetQuery(filter, page, pageSize);
    const { ledger, isolated } = ctx.tenancy;
    if (isolated && ledger) return toPage(await ownedAssets(ctx, ledger, query), toAsset);
    const result = await ctx.upstream.listAssets(opts, query);
    for (const a of result.items) ctx.loaders.asset.prime(a.id, a);
    return toPage(result, toAsset);
  }

  @FieldResolver(() => AssetGroup, {
    nullable: true,
    description: 'The group holding the asset; null if it was deleted meanwhile.',
  })
  async group(@Root() asset: Asset, @Ctx() ctx: GatewayContext): Promise<AssetGroup | null> {
    ctx.callOptions();
    const group = await ctx.loaders.group.load(asset.groupId);
    return group ? toAssetGroup(group) : null;
  }

  @Mutation(() => AddAssetsPayload, {
    description:
      'Registers up to 20 files in a group. Each item is created independently and reported on its own: check `failures`. New assets start PROCESSING; poll `asset(id)` until ACTIVE or FAILED.',
  })
  async addAssets(
    @Ctx() ctx: GatewayContext,
    @Arg('groupId', () => ID, { description: 'The group to add to.' }) groupId: string,
    @Arg('assets', () => [NewAssetInput], { description: 'The files: 1-20 items.' })
    assets: NewAssetInput[],
    @Arg('idempotencyKey', () => String, {
      nullable: true,
      description:
        'Makes the call safe to retry: within 24 hours, a retry with the same key and input returns the first answer without uploading again (an item whose outcome was unknown is looked for in the group first, never blindly resent); the same key with other input is BAD_USER_INPUT. 1-128 characters.',
    })
    idempotencyKey: string | null,
  ): Promise<AddAssetsPayload> {
    const opts = ctx.callOptions();
    checkId(groupId, 'groupId');
    const items = checkBatch(assets, 'assets').map((item, i) =>
      compact({
        groupId,
        url: checkAssetUrl(item.url, `assets[${i}].url`, {
          allowInternal: ctx.assetUrlsAllowInternal,
        }),
        type: item.type,
        name: item.name == null ? undefined : checkName(item.name, `assets[${i}].name`),
      }),
    );
    await ctx.tenancy.assertVisible('group', groupId);
    return addAssets(ctx, opts, items, idempotencyKey);
  }

  @Mutation(() => Asset, { description: 'Renames an asset (its only changeable field).' })
  async renameAsset(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The asset id.' }) id: string,
    @Arg('name', { description: 'The new name: 1-64 characters, trimmed.' }) name: string,
  ): Promise<Asset> {
    const opts = ctx.callOptions();
    checkId(id, 'id');
    const newName = checkName(name, 'name');
    await ctx.tenancy.assertVisible('asset', id);
    await ctx.upstream.updateAsset(opts, id, { name: newName });
    ctx.loaders.asset.clear(id);
    const ledger = ctx.tenancy.ledger;
    if (ledger) await ledgerCall(() => ledger.rename('asset', id, newName));
    return toAsset(await ctx.upstream.getAsset(opts, id));
  }

  @Mutation(() => ID, { description: 'Deletes an asset. Returns its id.' })
  async deleteAsset(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The asset id.' }) id: string,
  ): Promise<string> {
    const opts = ctx.callOptions();
    await ctx.tenancy.assertVisible('asset', checkId(id, 'id'));
    await deleteOwned(ctx, 'asset', id, () => ctx.upstream.deleteAsset(opts, id));
    ctx.loaders.asset.clear(id);
    // Its subscribers hear of it now, final or not (a poll would never read a final asset).
    ctx.live?.watcher.noteAssetDeleted(opts.credential, id);
    return id;
  }
}
