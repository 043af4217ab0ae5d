import { Field, ID, InputType } from 'type-graphql';
import { AssetStatus } from './asset-status.enum.js';
import { AssetType } from './asset-type.enum.js';
import { AvatarKind } from './avatar-kind.enum.js';

@InputType('AssetFilter', { description: 'Narrows `assets`; all given conditions must hold.' })
export class AssetFilter {
  @Field(() => [ID], { nullable: true, description: 'Only assets in these groups (1-100 ids).' })
  groupIds?: string[] | null;

  @Field(() => [AssetStatus], { nullable: true, description: 'Only assets in these statuses.' })
  statuses?: AssetStatus[] | null;

  @Field(() => [AssetType], {
    nullable: true,
    description:
      'Only assets of these types, filtered on each page by the gateway (the upstream has no ' +
      'type filter): a page may hold fewer items than asked, and `total` counts every type.',
  })
  types?: AssetType[] | null;

  @Field(() => AvatarKind, {
    nullable: true,
    description: 'Only assets in virtual or only in real-person groups.',
  })
  kind?: AvatarKind | null;

  @Field(() => String, {
    nullable: true,
    description: 'Part of the asset name, case-insensitive (up to 64 characters).',
  })
  nameContains?: string | null;
}
