/**
 * What every HTTP request to `/graphql` passes before its body is read: CORS (refusing unlisted
 * origins, answering preflights), authentication (`Access`), and the per-client rate limit
 * (`client-rate.ts`: the principal's bucket, or the address's when the request is not
 * authenticated, and the address's own bucket in every case).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { GraphQLError } from 'graphql';
import { GatewayRateLimitedError, OriginNotAllowedError } from '../errors/gateway-error.js';
import type { Access, AccessResult } from './access.js';
import type { CorsPolicy } from './cors.js';
import type { ClientRate } from './client-rate.js';

export interface GateOptions {
  access: Access;
  cors: CorsPolicy;
  /** `null`: no rate limit. */
  rate: ClientRate | null;
  /**
   * The client's address for the rate's address bucket.
   * @default the connecting address
   */
  addressOf?(req: IncomingMessage): string;
  /** Answers a refusal (in the GraphQL error shape). */
  refuse(res: ServerResponse, error: GraphQLError, headers?: Record<string, string>): void;
  /** Told who is calling, e.g. to log it. */
  onAccess?(req: IncomingMessage, access: AccessResult): void;
}

export interface Gate {
  /** `false` when the gate answered the request itself (preflight or refusal). */
  admit(req: IncomingMessage, res: ServerResponse): Promise<boolean>;
  /** The outcome of `admit`'s authentication for `req`. */
  accessOf(req: IncomingMessage): AccessResult | undefined;
}

export function createGate(options: GateOptions): Gate {
  const results = new WeakMap<IncomingMessage, AccessResult>();
  return {
    async admit(req, res) {
      const verdict = options.cors.apply(req, res);
      if (verdict === 'answered') return false;
      if (verdict === 'refused') {
        options.refuse(res, new OriginNotAllowedError());
        return false;
      }
      const access = await options.access.authenticate(req.headers.authorization);
      results.set(req, access);
      options.onAccess?.(req, access);
      if (options.rate) {
        const address = options.addressOf?.(req) ?? req.socket.remoteAddress ?? 'unknown';
        const decision = await options.rate.take(access, address);
        if (!decision.allowed) {
          options.refuse(res, new GatewayRateLimitedError(decision.retryAfterSeconds), {
            'retry-after': String(decision.retryAfterSeconds),
          });
          return false;
        }
      }
      return true;
    },
    accessOf: (req) => results.get(req),
  };
}
