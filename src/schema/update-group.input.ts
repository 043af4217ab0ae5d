import { Field, InputType } from 'type-graphql';

@InputType('UpdateGroupInput', {
  description: 'Changes to a group; give at least one field. Absent fields stay as they are.',
})
export class UpdateGroupInput {
  @Field(() => String, { nullable: true, description: 'A new name: 1-64 characters, trimmed.' })
  name?: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'A new description: up to 300 characters; an empty string clears it.',
  })
  description?: string | null;
}
