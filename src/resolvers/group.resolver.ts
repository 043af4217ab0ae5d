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
import { BadUserInputError } from '../errors/gateway-error.js';
import { AssetGroup } from '../schema/asset-group.type.js';
import { AssetPage } from '../schema/asset-page.type.js';
import { AssetStatus } from '../schema/asset-status.enum.js';
import { CreateGroupInput } from '../schema/create-group.input.js';
import { GroupFilter } from '../schema/group-filter.input.js';
import { GroupPage } from '../schema/group-page.type.js';
import { UpdateGroupInput } from '../schema/update-group.input.js';
import type { Group } from '../upstream/port.js';
import { checkDescription, checkId, checkName } from '../validation.js';
import { compact, groupQuery, paging, statusKey } from './args.js';
import { PageArgs } from '../schema/page.args.js';
import { toAsset, toAssetGroup, toPage } from './mappers.js';
import { createOwnedGroup, deleteOwned, reviveDates } from './owned-writes.js';
import { idempotently } from './idempotent.js';
import { ownedGroups } from './owned-pages.js';
import { ledgerCall } from '../graphql/tenancy.js';

@Resolver(() => AssetGroup)
export class GroupResolver {
  @Query(() => GroupPage, { description: 'Your groups, newest first.' })
  async groups(
    @Ctx() ctx: GatewayContext,
    @Arg('filter', () => GroupFilter, { nullable: true, description: 'Conditions to match.' })
    filter: GroupFilter | null,
    @Args(() => PageArgs) { page, pageSize }: PageArgs,
  ): Promise<GroupPage> {
    const opts = ctx.callOptions();
    const query = groupQuery(filter, page, pageSize);
    const { ledger, isolated } = ctx.tenancy;
    if (isolated && ledger) return toPage(await ownedGroups(ctx, ledger, query), toAssetGroup);
    const result = await ctx.upstream.listGroups(opts, query);
    for (const g of result.items) ctx.loaders.group.prime(g.id, g);
    return toPage(result, toAssetGroup);
  }

  @Query(() => AssetGroup, {
    nullable: true,
    description: 'One group; null when it does not exist.',
  })
  async group(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The group id.' }) id: string,
  ): Promise<AssetGroup | null> {
    ctx.callOptions();
    const group = await ctx.loaders.group.load(checkId(id, 'id'));
    return group ? toAssetGroup(group) : null;
  }

  @FieldResolver(() => AssetPage, { description: 'The group’s assets, newest first.' })
  async assets(
    @Root() group: AssetGroup,
    @Ctx() ctx: GatewayContext,
    @Arg('status', () => [AssetStatus], {
      nullable: true,
      description: 'Only assets in these statuses; all when absent.',
    })
    status: AssetStatus[] | null,
    @Args(() => PageArgs) { page, pageSize }: PageArgs,
  ): Promise<AssetPage> {
    ctx.callOptions();
    const result = await ctx.loaders.groupAssets.load({
      groupId: group.id,
      statuses: statusKey(status),
      ...paging(page, pageSize),
    });
    return toPage(result, toAsset);
  }

  @Mutation(() => AssetGroup, {
    description: 'Creates a virtual-avatar group. Real-person groups come from verification.',
  })
  async createGroup(
    @Ctx() ctx: GatewayContext,
    @Arg('input', () => CreateGroupInput, { description: 'The new group.' })
    input: CreateGroupInput,
  ): Promise<AssetGroup> {
    const opts = ctx.callOptions();
    const name = checkName(input.name, 'input.name');
    const description =
      input.description == null
        ? undefined
        : checkDescription(input.description, 'input.description');
    const newGroup = compact({ name, description: description || undefined });
    const group = await idempotently<Group>(ctx, {
      scope: 'createGroup',
      key: input.idempotencyKey,
      input: newGroup,
      revive: reviveDates,
      run: (note) => createOwnedGroup(ctx, opts, newGroup, note),
    });
    return toAssetGroup(group);
  }

  @Mutation(() => AssetGroup, { description: 'Renames or re-describes a group.' })
  async updateGroup(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The group id.' }) id: string,
    @Arg('input', () => UpdateGroupInput, { description: 'What to change.' })
    input: UpdateGroupInput,
  ): Promise<AssetGroup> {
    const opts = ctx.callOptions();
    checkId(id, 'id');
    if (input.name == null && input.description == null) {
      throw new BadUserInputError('input must set name or description.', 'input');
    }
    await ctx.tenancy.assertVisible('group', id);
    const patch = compact({
      name: input.name == null ? undefined : checkName(input.name, 'input.name'),
      description:
        input.description == null
          ? undefined
          : checkDescription(input.description, 'input.description'),
    });
    await ctx.upstream.updateGroup(opts, id, patch);
    ctx.loaders.group.clear(id);
    const ledger = ctx.tenancy.ledger;
    const newName = patch.name;
    if (ledger && newName !== undefined)
      await ledgerCall(() => ledger.rename('group', id, newName));
    return toAssetGroup(await ctx.upstream.getGroup(opts, id));
  }

  @Mutation(() => ID, { description: 'Deletes a group and every asset in it. Returns its id.' })
  async deleteGroup(
    @Ctx() ctx: GatewayContext,
    @Arg('id', () => ID, { description: 'The group id.' }) id: string,
  ): Promise<string> {
    const opts = ctx.callOptions();
    await ctx.tenancy.assertVisible('group', checkId(id, 'id'));
    await deleteOwned(ctx, 'group', id, () => ctx.upstream.deleteGroup(opts, id));
    ctx.loaders.group.clear(id);
    return id;
  }
}
