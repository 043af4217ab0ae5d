/**
 * CORS for `/graphql`: browsers on the listed origins (`CORS_ORIGINS`) may call the gateway;
 * same-origin pages always may; other origins are refused with 403 `ORIGIN_NOT_ALLOWED`, their
 * preflight included, and so are their WebSocket upgrades (`allowsOrigin`, checked before the
 * handshake). Requests without `Origin` (servers, curl) are not browser requests and
 * pass. Apollo's CSRF prevention stays on behind this.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
/** Request headers a browser may send cross-origin. */
const ALLOWED_HEADERS: ReadonlySet<string> = new Set([
  'authorization',
  'content-type',
  'apollo-require-preflight',
  'x-apollo-operation-name',
  'apollo-query-plan-experimental',
  'x-request-id',
]);
const EXPOSED_HEADERS = 'x-request-id, retry-after';
const PREFLIGHT_MAX_AGE_SECONDS = '600';

export type CorsVerdict =
  /** No `Origin`, or the page's own origin: nothing to add. */
  | 'same-origin'
  /** A listed origin: CORS headers were set. */
  | 'allowed'
  /** An unlisted origin: refuse. */
  | 'refused'
  /** A preflight that was answered (204): stop here. */
  | 'answered';

export interface CorsPolicy {
  /** Sets the CORS headers on `res`, or answers a preflight, or says to refuse. */
  apply(req: IncomingMessage, res: ServerResponse): CorsVerdict;
  /**
   * The same rule for a request that gets no CORS headers, such as a WebSocket upgrade (which
   * browsers send cross-origin without a preflight): no `Origin`, the page's own origin, or a
   * listed one.
   */
  allowsOrigin(req: IncomingMessage): boolean;
}

export function createCorsPolicy(origins: readonly string[]): CorsPolicy {
  const allowed = new Set(origins.map((o) => o.toLowerCase()));
  return {
    allowsOrigin(req) {
      const origin = req.headers.origin;
      return (
        origin === undefined ||
        sameOrigin(origin, req.headers.host) ||
        allowed.has(origin.toLowerCase())
      );
    },
    apply(req, res) {
      const origin = req.headers.origin;
      const preflight = req.method === 'OPTIONS';
      if (allowed.size > 0) res.setHeader('vary', 'Origin');
      if (origin === undefined || sameOrigin(origin, req.headers.host)) {
        if (!preflight) return 'same-origin';
        res.writeHead(204, { allow: ALLOWED_METHODS }).end();
        return 'answered';
      }
      if (!allowed.has(origin.toLowerCase())) return 'refused';
      res.setHeader('access-control-allow-origin', origin);
      res.setHeader('access-control-expose-headers', EXPOSED_HEADERS);
      if (!preflight) return 'allowed';
      const requested = String(req.headers['access-control-request-headers'] ?? '')
        .split(',')
        .map((h) => h.trim().toLowerCase())
        .filter((h) => ALLOWED_HEADERS.has(h));
      res.writeHead(204, {
        'access-control-allow-methods': ALLOWED_METHODS,
        'access-control-allow-headers': [...new Set(requested)].join(', '),
        'access-control-max-age': PREFLIGHT_MAX_AGE_SECONDS,
      });
      res.end();
      return 'answered';
    },
  };
}

/** The `Origin` names the host the request was sent to (scheme aside: TLS may end at a proxy). */
function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host.toLowerCase() === host.toLowerCase();
  } catch {
    return false;
  }
}
