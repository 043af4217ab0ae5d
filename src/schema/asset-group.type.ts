import { Field, ID, ObjectType } from 'type-graphql';
import { AvatarKind } from './avatar-kind.enum.js';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType('AssetGroup', {
  description:
    'A group of assets portraying one character: a virtual avatar, or a verified real person.',
})
export class AssetGroup {
  @Field(() => ID, { description: 'The upstream group id, e.g. `group-20260601191715-9q47m`.' })
  id!: string;

  @Field({
    description:
      'The name (1-64 characters). Real-person groups the upstream left unnamed read `Verified person`.',
  })
  name!: string;

  @Field(() => String, {
    nullable: true,
    description: 'A free description (up to 300 characters).',
  })
  description!: string | null;

  @Field(() => AvatarKind, { description: 'Virtual character or verified real person.' })
  kind!: AvatarKind;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the group was created.' })
  createdAt!: Date | null;

  @Field(() => DateTimeScalar, { nullable: true, description: 'When the group last changed.' })
  updatedAt!: Date | null;

  // `assets` is resolved by `GroupResolver`.
}
