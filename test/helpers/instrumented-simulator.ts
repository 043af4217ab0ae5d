/**
 * A stand-alone simulator (`startSimulator`) for gateways started with `UPSTREAM_URL`, whose state
 * records every asset read (GetAsset, ListAssets) the gateways make and can hold `getAsset` of
 * chosen assets until the test lets it go.
 */
import { startSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { AssetQuery, CallOptions } from '../../src/upstream/port.js';
import { deferred, type Deferred } from './status-harness.js';

export interface AssetRead {
  method: 'getAsset' | 'listAssets';
  /** The asset id (getAsset) or the group ids (listAssets). */
  ids: string[];
  at: number;
  /** The `model` the caller sent: gateways started with different `DEFAULT_MODEL`s tell apart. */
  model: string | undefined;
}

export interface InstrumentedSimulator {
  state: SimulatorState;
  url: string;
  reads: AssetRead[];
  /** Holds every `getAsset` of `assetId` until the returned deferred resolves. */
  hold(assetId: string): Deferred<void>;
  stop(): Promise<void>;
}

export async function startInstrumentedSimulator(options: {
  activationMs: number;
  /** @default the simulator's own: 30 minutes, as the gateway's `VERIFICATION_TTL_SECONDS` */
  tokenTtlMs?: number;
}): Promise<InstrumentedSimulator> {
  const state = new SimulatorState({
    activationMs: options.activationMs,
    ...(options.tokenTtlMs !== undefined && { tokenTtlMs: options.tokenTtlMs }),
  });
  const reads: AssetRead[] = [];
  const holds = new Map<string, Promise<void>>();
  const instrumented = new Proxy(state, {
    get(target, prop) {
      if (prop === 'getAsset') {
        return async (opts: CallOptions, id: string) => {
          reads.push({ method: 'getAsset', ids: [id], at: Date.now(), model: opts.model });
          await holds.get(id);
          return target.getAsset(opts, id);
        };
      }
      if (prop === 'listAssets') {
        return async (opts: CallOptions, query: AssetQuery) => {
          reads.push({
            method: 'listAssets',
            ids: query.groupIds ?? [],
            at: Date.now(),
            model: opts.model,
          });
          return target.listAssets(opts, query);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const server = await startSimulator(instrumented);
  return {
    state,
    url: server.url,
    reads,
    hold(assetId) {
      const gate = deferred<void>();
      holds.set(assetId, gate.promise);
      void gate.promise.then(() => holds.delete(assetId));
      return gate;
    },
    stop: () => server.stop(),
  };
}
