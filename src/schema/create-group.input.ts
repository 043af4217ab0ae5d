import { Field, InputType } from 'type-graphql';

@InputType('CreateGroupInput', { description: 'A new virtual-avatar group.' })
export class CreateGroupInput {
  @Field({ description: 'The name: 1-64 characters, trimmed.' })
  name!: string;

  @Field(() => String, { nullable: true, description: 'A description: up to 300 characters.' })
  description?: string | null;
}
