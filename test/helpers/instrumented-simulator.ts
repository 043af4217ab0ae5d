/**
 * A stand-alone simulator (`createSimulatorHandler` on a port of its own) for gateways started
 * with `UPSTREAM_URL`, whose state records every asset read (GetAsset, ListAssets) the gateways
 * make and can hold `getAsset` of chosen assets until the test lets it go.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { IncomingMessage } from 'node:http';
import { createSimulatorHandler } from '../../src/simulator/ark-http.js';
import { serveHandler } from '../../src/simulator/http-kit.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { AssetQuery, CallOptions } from '../../src/upstream/port.js';
import { deferred, type Deferred } from './status-harness.js';

export interface AssetRead {
  method: 'getAsset' | 'listAssets';
  /** The asset id (getAsset) or the group ids (listAssets). */
  ids: string[];
  at: number;
  /**
   * The `model` the request carried on the wire (the query of a GET, the body of a POST):
   * gateways started with different `DEFAULT_MODEL`s tell apart.
   */
  model: string | undefined;
}

/** What arrived on the wire with the request being served. */
interface Wire {
  model: string | undefined;
}

/**
 * The request's `model`: from its query at once, from its body once the simulator has read it.
 * The body is teed as the simulator iterates it (`read-body.ts`), so the simulator still reads it
 * all itself.
 */
function observe(req: IncomingMessage): Wire {
  const query = new URL(req.url ?? '/', 'http://simulator.invalid').searchParams;
  const wire: Wire = { model: query.get('model') ?? undefined };
  if (req.method !== 'POST' && req.method !== 'PATCH') return wire;
  const iterate = req[Symbol.asyncIterator].bind(req);
  Object.defineProperty(req, Symbol.asyncIterator, {
    value: async function* () {
      const chunks: Buffer[] = [];
      for await (const chunk of iterate() as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        yield chunk;
      }
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model?: unknown };
        if (typeof body.model === 'string') wire.model = body.model;
      } catch {
        // Not JSON: the simulator refuses it, and no read is made.
      }
    },
  });
  return wire;
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
  const serving = new AsyncLocalStorage<Wire>();
  const model = () => serving.getStore()?.model;
  const instrumented = new Proxy(state, {
    get(target, prop) {
      if (prop === 'getAsset') {
        return async (opts: CallOptions, id: string) => {
          reads.push({ method: 'getAsset', ids: [id], at: Date.now(), model: model() });
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
            model: model(),
          });
          return target.listAssets(opts, query);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const handler = createSimulatorHandler(instrumented);
  const server = await serveHandler((req, res) =>
    serving.run(observe(req), () => handler(req, res)),
  );
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
