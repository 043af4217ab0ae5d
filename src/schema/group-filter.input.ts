import { Field, ID, InputType } from 'type-graphql';
import { AvatarKind } from './avatar-kind.enum.js';

@InputType('GroupFilter', { description: 'Narrows `groups`; all given conditions must hold.' })
export class GroupFilter {
  @Field(() => String, {
    nullable: true,
    description: 'Part of the name, case-insensitive (up to 64 characters).',
  })
  nameContains?: string | null;

  @Field(() => [ID], { nullable: true, description: 'Only these groups (1-100 ids).' })
  ids?: string[] | null;

  @Field(() => AvatarKind, { nullable: true, description: 'Only virtual or only real groups.' })
  kind?: AvatarKind | null;
}
