/**
 * The one factory: picks the upstream dialect and returns the `Upstream` port over it. The rest
 * of the gateway imports this, `port.ts` and `errors.ts`, never a dialect's client (config and
 * the simulator do read Ark's constants: `ark/models.ts`, the enums of `ark/mapping.ts`).
 *
 * Layering inside `upstream/`: `index.ts` → dialects (`ark/`, `apimart/`) → the dialect-free engine
 * (`http/`) → `port.ts`, `errors.ts`. Nothing here imports GraphQL or `status/`.
 *
 * A second dialect is a new folder beside `ark/` plus one member of `UpstreamOptions` and one
 * `case` below.
 */
import { createApimartClient, type ApimartClientOptions } from './apimart/client.js';
import { apimartStatusSource } from './apimart/status-source.js';
import { createArkClient, type ArkClientOptions } from './ark/client.js';
import { arkStatusSource } from './ark/status-source.js';
import type { Upstream } from './port.js';
import type { StatusSource } from './status-source.js';

export type { UpstreamLogger, UpstreamMetrics } from './http/transport.js';
export type { RedisCommands } from './http/redis-buckets.js';
export {
  createSharedBudget,
  type SharedBudget,
  type SharedPacingOptions,
} from './http/shared-pacing.js';

/** The upstream dialects the gateway speaks. */
export type UpstreamDialect = 'ark' | 'apimart';

/** The dialect, and that dialect's client options. */
export type UpstreamOptions =
  ({ dialect: 'ark' } & ArkClientOptions) | ({ dialect: 'apimart' } & ApimartClientOptions);

/** The port, plus `close()` for the client's own connections. */
export type UpstreamClient = Upstream & {
  /** Closes the client's own connection pool; calls after it fail. */
  close(): Promise<void>;
};

export function createUpstream(options: UpstreamOptions): UpstreamClient {
  switch (options.dialect) {
    case 'ark':
      return createArkClient(options);
    case 'apimart':
      return createApimartClient(options);
  }
}

/** How the status watcher reads each dialect (`createLive`'s `statusSource`). */
export function statusSourceOf(dialect: UpstreamDialect): StatusSource {
  return dialect === 'apimart' ? apimartStatusSource : arkStatusSource;
}
