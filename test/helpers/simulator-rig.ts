/**
 * The rig that proves a simulator against the contract: the simulator on a free port, on a clock
 * the test moves, behind Prism's validating proxy (`--errors`), so Prism flags anything either side
 * sends that the contract does not allow. Registers its own `beforeAll`/`afterAll`.
 */
import { afterAll, beforeAll } from 'vitest';
import type { RunningSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { startPrism, type PrismServer } from './prism.js';

export interface Answer {
  status: number;
  body: any;
}

export interface CallOptions {
  /** The Bearer key, or `null` for none. @default 'sim-key' */
  key?: string | null;
  /** Whom to ask: Prism (the default) or the simulator directly (`rig.simulatorUrl`). */
  base?: string;
}

export interface SimulatorRig {
  /** A JSON call through Prism (or to `base`). */
  call(method: string, path: string, body?: unknown, options?: CallOptions): Promise<Answer>;
  /** Moves the simulator's clock on. */
  advance(ms: number): void;
  /** The simulator's own address (its H5 page, and what Prism itself would refuse). */
  readonly simulatorUrl: string;
  /** Prism's violation lines so far. */
  readonly violations: readonly string[];
}

export function simulatorBehindPrism(
  start: (state: SimulatorState) => Promise<RunningSimulator>,
  activationMs: number,
): SimulatorRig {
  let clock = Date.parse('2026-06-01T11:17:15Z');
  let simulator: RunningSimulator | undefined;
  let prism: PrismServer | undefined;

  beforeAll(async () => {
    simulator = await start(new SimulatorState({ activationMs, now: () => clock }));
    prism = await startPrism({ mode: 'proxy', upstream: simulator.url, errors: true });
  });
  afterAll(async () => {
    await prism?.stop();
    await simulator?.stop();
  });

  const running = <T>(value: T | undefined): T => {
    if (value === undefined) throw new Error('the simulator rig is used before beforeAll ran');
    return value;
  };

  return {
    async call(method, path, body, { key = 'sim-key', base } = {}) {
      const headers: Record<string, string> = {};
      if (key) headers.authorization = `Bearer ${key}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await fetch((base ?? running(prism).url) + path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    },
    advance(ms) {
      clock += ms;
    },
    get simulatorUrl() {
      return running(simulator).url;
    },
    get violations() {
      return running(prism).violations;
    },
  };
}
