import { Arg, Ctx, Mutation, Resolver } from 'type-graphql';
import type { GatewayContext } from '../graphql/context.js';
import { VerificationPendingError } from '../errors/gateway-error.js';
import { AssetGroup } from '../schema/asset-group.type.js';
import { RealPersonVerification } from '../schema/real-person-verification.type.js';
import { checkCallbackUrl, checkToken } from '../validation.js';
import { exchangeToken, verifiedGroup } from './verified-group.js';
import { knownVerifiedGroup, saveStarted, saveVerified } from './verification-ledger.js';

@Resolver()
export class VerificationResolver {
  @Mutation(() => RealPersonVerification, {
    description:
      'Starts a real-person liveness check. Send the person to `h5Link` before `h5LinkExpiresAt`; afterwards their browser goes to `callbackUrl`.',
  })
  async startRealPersonVerification(
    @Ctx() ctx: GatewayContext,
    @Arg('callbackUrl', {
      description:
        'Where the liveness page sends the person when done: an absolute https URL (http only on localhost).',
    })
    callbackUrl: string,
  ): Promise<RealPersonVerification> {
    const opts = ctx.callOptions();
    const url = checkCallbackUrl(callbackUrl, 'callbackUrl');
    // Taken before the call, so neither the token nor the link outlives its reported expiry.
    const startedAt = ctx.now().getTime();
    const expiresAt = new Date(startedAt + ctx.verificationTtlSeconds * 1000);
    // The token must be recorded to be usable (server key): refuse now rather than after.
    await ctx.tenancy.assertWritable();
    const session = await ctx.upstream.startVerification(opts, { callbackUrl: url });
    await saveStarted(ctx, session.token, expiresAt);
    // The upstream's own word on the link (`ExpiresIn`) wins over the setting.
    const linkTtlSeconds = session.h5LinkTtlSeconds ?? ctx.h5LinkTtlSeconds;
    const h5LinkExpiresAt = new Date(
      Math.min(startedAt + linkTtlSeconds * 1000, expiresAt.getTime()),
    );
    return Object.assign(new RealPersonVerification(), {
      token: session.token,
      h5Link: session.h5Link,
      h5LinkExpiresAt,
      expiresAt,
    });
  }

  @Mutation(() => AssetGroup, {
    description:
      'Exchanges a verification token for the verified person’s REAL group. The upstream accepts a token once; the gateway remembers the group for the token’s lifetime, so repeating the call (or a `realPersonVerification` subscription that got there first) yields the same group. Fails with VERIFICATION_PENDING (try again shortly), VERIFICATION_EXPIRED, VERIFICATION_USED (exchanged outside this gateway), VERIFICATION_FAILED or VERIFICATION_NOT_FOUND.',
  })
  async completeRealPersonVerification(
    @Ctx() ctx: GatewayContext,
    @Arg('token', { description: 'The `token` from `startRealPersonVerification`.' }) token: string,
  ): Promise<AssetGroup> {
    const opts = ctx.callOptions();
    const checked = checkToken(token, 'token');
    const known = await knownVerifiedGroup(ctx, checked);
    if (known !== null) return verifiedGroup(ctx, known);
    const result = await exchangeToken(ctx, opts, checked);
    if (result.status === 'PENDING') throw new VerificationPendingError();
    await saveVerified(ctx, checked, result.groupId);
    return verifiedGroup(ctx, result.groupId);
  }
}
