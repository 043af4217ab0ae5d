/**
 * The one factory: picks the upstream dialect and returns the `Upstream` port over it. The rest
 * of the gateway imports this, `port.ts` and `errors.ts`, never a dialect.
 *
 * Layering inside `upstream/`: `index.ts` → dialects (`ark/`) → the dialect-free engine
 * (`http/`) → `port.ts`, `errors.ts`. Nothing here imports GraphQL or `status/`.
 *
 * A second dialect is a new folder beside `ark/` plus one member of `UpstreamOptions` and one
 * `case` below.
 */
import { createArkClient, type ArkClientOptions } from './ark/client.js';
import type { Upstream } from './port.js';

export type { UpstreamLogger, UpstreamMetrics } from './http/transport.js';
export type { RedisCommands } from './http/redis-buckets.js';
export {
  createSharedBudget,
  type SharedBudget,
  type SharedPacingOptions,
} from './http/shared-pacing.js';

/** The upstream dialects the gateway speaks. */
export type UpstreamDialect = 'ark';

/** The dialect, and that dialect's client options. */
export type UpstreamOptions = { dialect: 'ark' } & ArkClientOptions;

/** The port, plus `close()` for the client's own connections. */
export type UpstreamClient = Upstream & {
  /** Closes the client's own connection pool; calls after it fail. */
  close(): Promise<void>;
};

export function createUpstream(options: UpstreamOptions): UpstreamClient {
  switch (options.dialect) {
    case 'ark':
      return createArkClient(options);
  }
}
