import { Field, InputType } from 'type-graphql';

@InputType('CreateGroupInput', { description: 'A new virtual-avatar group.' })
export class CreateGroupInput {
  @Field({ description: 'The name: 1-64 characters, trimmed.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'A description: up to 300 characters.' })
  description?: string | null;

  @Field(() => String, {
    nullable: true,
    description:
      'Makes the create safe to retry: within 24 hours, a retry with the same key and input returns the first answer without creating again; the same key with other input is BAD_USER_INPUT. 1-128 characters, your choice (e.g. a UUID).',
  })
  idempotencyKey?: string | null;
}
