/**
 * In-process harness for the GraphQL API: an Apollo Server over a `SimulatorState` with a
 * hand-driven clock, a call-recording wrapper around the upstream, and captured log lines.
 */
import { pino, type Logger } from 'pino';
import { loadConfig, type Config } from '../../src/config/index.js';
import { createGraphQL } from '../../src/server.js';
import { SimulatorState } from '../../src/simulator/state.js';
import type { Ledger } from '../../src/ledger/index.js';
import type { Upstream } from '../../src/upstream/port.js';

export const START = Date.parse('2026-06-01T11:17:15.000Z');
export const ACTIVATION_MS = 3000;
/** The simulator's token lifetime: 30 minutes, as the upstream's and `VERIFICATION_TTL_SECONDS`. */
export const TOKEN_TTL_MS = 1_800_000;

export interface Call {
  method: keyof Upstream;
  args: unknown[];
}

/** Wraps an upstream so that every call is recorded (and can be replaced per method). */
export function recording(
  inner: Upstream,
  overrides: Partial<Upstream> = {},
): { upstream: Upstream; calls: Call[] } {
  const calls: Call[] = [];
  const upstream = new Proxy(inner, {
    get(target, prop, receiver) {
      const original =
        (overrides as Record<PropertyKey, unknown>)[prop] ?? Reflect.get(target, prop, receiver);
      if (typeof original !== 'function') return original;
      return (...args: unknown[]) => {
        calls.push({ method: prop as keyof Upstream, args });
        return (original as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { upstream, calls };
}

export interface ExecResult {
  data: Record<string, any> | null | undefined;
  errors:
    Array<{ message: string; path?: unknown[]; extensions?: Record<string, any> }> | undefined;
}

export interface Api {
  state: SimulatorState;
  calls: Call[];
  logs: Array<Record<string, any>>;
  clock: { now: number; advance(ms: number): void };
  config: Readonly<Config>;
  /** Runs an operation as the holder of `key` (`null`: no Authorization header). */
  exec(
    query: string,
    variables?: Record<string, unknown>,
    key?: string | null,
  ): Promise<ExecResult>;
  /** Counts recorded calls per method, then forgets them. */
  takeCalls(): Partial<Record<keyof Upstream, number>>;
  stop(): Promise<void>;
}

export async function startApi(
  options: {
    config?: Partial<Config>;
    overrides?: Partial<Upstream>;
    /** A ledger for tenancy and idempotent creates; its owner closes it. */
    ledger?: Ledger;
  } = {},
): Promise<Api> {
  const clock = {
    now: START,
    advance(ms: number) {
      clock.now += ms;
    },
  };
  const state = new SimulatorState({
    activationMs: ACTIVATION_MS,
    tokenTtlMs: TOKEN_TTL_MS,
    now: () => clock.now,
  });
  const { upstream, calls } = recording(state, options.overrides);
  const logs: Array<Record<string, any>> = [];
  const logger: Logger = pino(
    { level: 'debug' },
    { write: (line: string) => void logs.push(JSON.parse(line)) },
  );
  const config = Object.freeze({ ...loadConfig({ NODE_ENV: 'test' }), ...options.config });
  const { apollo, contextFor } = await createGraphQL(config, {
    upstream,
    logger,
    now: () => new Date(clock.now),
    ...(options.ledger && { ledger: options.ledger }),
  });
  await apollo.start();

  return {
    state,
    calls,
    logs,
    clock,
    config,
    async exec(query, variables, key = 'key-a') {
      const response = await apollo.executeOperation(
        { query, ...(variables ? { variables } : {}) },
        { contextValue: contextFor(key === null ? {} : { authorization: `Bearer ${key}` }) },
      );
      if (response.body.kind !== 'single') throw new Error('expected a single result');
      const { data, errors } = response.body.singleResult;
      return { data, errors } as ExecResult;
    },
    takeCalls() {
      const counts: Partial<Record<keyof Upstream, number>> = {};
      for (const call of calls.splice(0)) counts[call.method] = (counts[call.method] ?? 0) + 1;
      return counts;
    },
    stop: () => apollo.stop(),
  };
}

/** The `extensions.code` of each error, in order. */
export function codes(result: ExecResult): unknown[] {
  return (result.errors ?? []).map((e) => e.extensions?.code);
}
