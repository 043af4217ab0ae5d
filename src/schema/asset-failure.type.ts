import { Field, ObjectType } from 'type-graphql';

@ObjectType('AssetFailure', { description: 'Why the upstream rejected an asset.' })
export class AssetFailure {
  @Field({ description: 'The upstream reason code, e.g. `FaceMismatch`.' })
  code!: string;

  @Field({ description: 'The upstream explanation, e.g. "Face consistency verification failed."' })
  message!: string;
}
