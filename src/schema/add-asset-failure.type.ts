import { Field, Int, ObjectType } from 'type-graphql';

@ObjectType('AddAssetFailure', { description: 'An `addAssets` item that was not created.' })
export class AddAssetFailure {
  @Field(() => Int, { description: 'The item’s position in the `assets` argument, from 0.' })
  index!: number;

  @Field({ description: 'The item’s URL, as sent.' })
  url!: string;

  @Field({
    description:
      'An error code from the same closed list as `extensions.code` (e.g. `BAD_USER_INPUT`, `NOT_FOUND`, `RATE_LIMITED`). `OUTCOME_UNKNOWN` means the request was sent but not confirmed: the asset may have been created, so list the group before retrying.',
  })
  code!: string;

  @Field({ description: 'A readable explanation.' })
  message!: string;

  @Field(() => String, {
    nullable: true,
    description: 'The upstream error code, e.g. `InvalidParameter.DownloadFailed`, when known.',
  })
  upstreamCode!: string | null;

  @Field(() => String, {
    nullable: true,
    description: 'The upstream request id, for support tickets, when known.',
  })
  upstreamRequestId!: string | null;
}
