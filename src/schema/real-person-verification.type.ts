import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType('RealPersonVerification', {
  description:
    'A started liveness check: send the person to `h5Link` on their phone before `h5LinkExpiresAt`, then call `completeRealPersonVerification` with `token` (or follow `realPersonVerification`) before `expiresAt`.',
})
export class RealPersonVerification {
  @Field({ description: 'The token to exchange for the real-person group.' })
  token!: string;

  @Field({ description: 'The single-use liveness page for the person to open.' })
  h5Link!: string;

  @Field(() => DateTimeScalar, {
    description:
      'When the liveness page most likely stops opening: the person must open it before then. The link carries short-lived credentials (about two minutes, unless the upstream says how long); never after `expiresAt`.',
  })
  h5LinkExpiresAt!: Date;

  @Field(() => DateTimeScalar, {
    description:
      'When the token stops being accepted (the upstream gives tokens 30 minutes): a check the person finishes before then can still be exchanged.',
  })
  expiresAt!: Date;
}
