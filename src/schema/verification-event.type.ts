import { Field, ObjectType } from 'type-graphql';
import { AssetGroup } from './asset-group.type.js';
import { VerificationStatus } from './verification-status.enum.js';

@ObjectType('VerificationEvent', {
  description:
    'One event of `realPersonVerification`: the current status first, then the final one, after which the subscription completes.',
})
export class VerificationEvent {
  @Field(() => VerificationStatus, { description: 'Where the verification stands.' })
  status!: VerificationStatus;

  @Field(() => AssetGroup, {
    nullable: true,
    description: 'The verified person’s REAL group; set when VERIFIED, null otherwise.',
  })
  group!: AssetGroup | null;
}
