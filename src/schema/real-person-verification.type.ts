import { Field, ObjectType } from 'type-graphql';
import { DateTimeScalar } from './date-time.scalar.js';

@ObjectType('RealPersonVerification', {
  description:
    'A started liveness check: send the person to `h5Link` on their phone, then call `completeRealPersonVerification` with `token` before `expiresAt`.',
})
export class RealPersonVerification {
  @Field({ description: 'The token to exchange for the real-person group.' })
  token!: string;

  @Field({ description: 'The single-use liveness page for the person to open.' })
  h5Link!: string;

  @Field(() => DateTimeScalar, { description: 'When the token stops being accepted.' })
  expiresAt!: Date;
}
