import { Field, ID, ObjectType } from 'type-graphql';
import { AssetFailure } from './asset-failure.type.js';
import { AssetStatus } from './asset-status.enum.js';
import { AssetType } from './asset-type.enum.js';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType('Asset', {
  description:
    'A reference file (image, video or audio) registered in a group for video generation.',
})
export class Asset {
  @Field(() => ID, { description: 'The upstream asset id, e.g. `asset-20260601191715-m84k4`.' })
  id!: string;

  @Field(() => ID, { description: 'The id of the group holding the asset.' })
  groupId!: string;

  // `group` is resolved by `AssetResolver`.

  @Field(() => String, { nullable: true, description: 'An optional remark (up to 64 characters).' })
  name!: string | null;

  @Field(() => AssetType, { description: 'The kind of media.' })
  type!: AssetType;

  @Field(() => AssetStatus, {
    description: 'Review status: poll until ACTIVE or FAILED (images take a few seconds).',
  })
  status!: AssetStatus;

  @Field(() => AssetFailure, { nullable: true, description: 'Why it failed; set when FAILED.' })
  failure!: AssetFailure | null;

  @Field(() => String, {
    nullable: true,
    description:
      "The reference to put in a video generation request (`asset://…`). Usable once ACTIVE. Null while the upstream has not assigned it: with the apimart dialect, until the asset's review ends (its `id` stays the same).",
  })
  uri!: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'A signed URL of the stored copy, for previews. It changes on every read and expires (about 12 h).',
  })
  previewUrl!: string | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the asset was created.' })
  createdAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the asset last changed.' })
  updatedAt!: Date | null;
}
