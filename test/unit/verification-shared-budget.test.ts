/**
 * The verification budget shared across instances: every exchange the service makes (first
 * checks and pollers) also takes from the shared budget, by credential hash, and waits what it
 * answers before calling ⑫.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { SimulatorState } from '../../src/simulator/state.js';
import {
  createVerificationService,
  type VerificationService,
} from '../../src/verification/index.js';

const OPTS = { credential: 'sk-shared-budget-SECRET' };
const services: VerificationService[] = [];
afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
});

describe('verification with a shared budget', () => {
  it('takes from it before each exchange and waits what it answers', async () => {
    const sim = new SimulatorState({ activationMs: 1000, tokenTtlMs: 60_000 });
    const takes: Array<[string, string, number]> = [];
    const sleeps: number[] = [];
    const exchanges: number[] = [];
    const service = createVerificationService({
      upstream: new Proxy(sim, {
        get(target, prop) {
          const value = Reflect.get(target, prop, target) as unknown;
          if (prop === 'completeVerification') exchanges.push(sleeps.length);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
      tokenTtlMs: 60_000,
      intervalMs: 1,
      ratePerSecond: 3,
      sleep: async (ms) => {
        sleeps.push(ms);
        await new Promise((resolve) => setTimeout(resolve, 1));
      },
      sharedBudget: {
        take: async (key, action, perSecond) => {
          takes.push([key, action, perSecond]);
          return 250;
        },
      },
    });
    services.push(service);
    const { token } = await sim.startVerification(OPTS, {
      callbackUrl: 'https://app.example.com/done',
    });
    const subscription = await service.watch(OPTS, token);
    await expect(subscription.next()).resolves.toMatchObject({ value: { status: 'PENDING' } });
    await subscription.return();

    expect(takes.length).toBeGreaterThanOrEqual(1);
    const [key, action, perSecond] = takes[0]!;
    expect(key).not.toContain(OPTS.credential);
    expect(action).toBe('GetVisualValidateResult');
    expect(perSecond).toBe(3);
    // The first check waited the shared budget's 250 ms before its exchange.
    expect(sleeps[0]).toBe(250);
    expect(exchanges[0]).toBeGreaterThanOrEqual(1);
  });
});
