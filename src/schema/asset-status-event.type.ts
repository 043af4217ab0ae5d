import { Field, ObjectType } from 'type-graphql';
import { AssetEventKind } from './asset-event-kind.enum.js';
import { AssetStatus } from './asset-status.enum.js';
import { Asset } from './asset.type.js';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType('AssetStatusEvent', {
  description:
    'One event of `assetStatusChanged`. Events about one asset arrive in the order they happened; a subscriber gets each once.',
})
export class AssetStatusEvent {
  @Field(() => AssetEventKind, {
    description: 'What happened: a status (or other field) change, a deletion, or a stale notice.',
  })
  kind!: AssetEventKind;

  @Field(() => Asset, {
    description:
      'The asset as last read: the new state for STATUS, the last known state for DELETED, STALE and RECOVERED.',
  })
  asset!: Asset;

  @Field(() => AssetStatus, {
    nullable: true,
    description:
      'STATUS: the status before this change, null on the first event of each asset. DELETED: the last known status. STALE and RECOVERED: null (the status did not change).',
  })
  previousStatus!: AssetStatus | null;

  @Field({
    description:
      'True while the gateway cannot confirm the asset’s status (from a STALE event until RECOVERED).',
  })
  stale!: boolean;

  @Field(() => DateTimeScalar, {
    nullable: true,
    description: 'While `stale`: when the asset was last read successfully.',
  })
  staleSince!: Date | null;

  @Field(() => String, {
    nullable: true,
    description:
      'While `stale`: why reads fail, as an error code such as `UPSTREAM_UNAVAILABLE` or `RATE_LIMITED`, or `RATE_BUDGET` when the gateway’s own read budget ran out.',
  })
  staleReason!: string | null;
}
