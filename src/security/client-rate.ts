/**
 * The per-client rate as HTTP requests and WebSocket `subscribe` messages both take it: one
 * token from the client's bucket (its principal, or its address when it has no accepted
 * credential), and one from its address's own bucket, so that a client inventing a key per
 * request (pass-through mode accepts any Bearer value until the upstream refuses it) is still
 * held back by where it comes from.
 */
import type { AccessResult } from './access.js';
import type { RateLimitDecision, RateLimiter, TokenBucketOptions } from './rate-limit.js';

export interface ClientRate {
  /** Takes the tokens of one request or message. Resolves, never rejects. */
  take(access: AccessResult, address: string): Promise<RateLimitDecision>;
}

export interface ClientRateOptions {
  /** In memory or in Redis; `null`: no limit at all. */
  limiter: RateLimiter | null;
  /** The per-address bucket; `null`: none (the per-client one only). */
  perAddress: TokenBucketOptions | null;
}

const ALLOWED: RateLimitDecision = { allowed: true, retryAfterSeconds: 0 };

export function createClientRate({ limiter, perAddress }: ClientRateOptions): ClientRate {
  return {
    async take(access, address) {
      if (limiter === null) return ALLOWED;
      const client =
        access.ok && access.principal.kind !== 'anonymous' ? access.principal.id : `ip:${address}`;
      // Both buckets pay, refused or not: retrying against either costs the other too. The
      // address bucket has its own prefix: its sizes differ from the `ip:` client bucket's.
      const decisions = await Promise.all([
        limiter.take(client),
        perAddress ? limiter.take(`addr:${address}`, perAddress) : ALLOWED,
      ]);
      const refused = decisions.filter((d) => !d.allowed);
      if (refused.length === 0) return ALLOWED;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(...refused.map((d) => d.retryAfterSeconds)),
      };
    },
  };
}
