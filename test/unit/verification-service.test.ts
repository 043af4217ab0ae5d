/**
 * The verification poller over the in-memory simulator: ⑫'s single use hidden behind a memory of
 * redeemed tokens, one shared poller per token, a per-key budget, and how it ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { SimulatorState } from '../../src/simulator/state.js';
import {
  createVerificationService,
  type VerificationService,
  type VerificationServiceOptions,
  type VerificationUpdate,
} from '../../src/verification/index.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions, Upstream } from '../../src/upstream/port.js';
import { waitFor } from '../helpers/status-harness.js';

const OPTS: CallOptions = { credential: 'verify-key' };
const services: VerificationService[] = [];

afterEach(async () => {
  for (const service of services.splice(0)) await service.stop();
});

/** A simulator whose ⑫ calls are counted (and can be replaced). */
function setup(
  options: Partial<VerificationServiceOptions> = {},
  completeVerification?: Upstream['completeVerification'],
) {
  const sim = new SimulatorState({ activationMs: 1000, tokenTtlMs: 60_000 });
  const calls: number[] = [];
  const upstream = new Proxy(sim, {
    get(target, prop) {
      if (prop === 'completeVerification') {
        return (opts: CallOptions, token: string) => {
          calls.push(Date.now());
          return (completeVerification ?? target.completeVerification.bind(target))(opts, token);
        };
      }
      const value = Reflect.get(target, prop, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  const service = createVerificationService({
    upstream,
    tokenTtlMs: 60_000,
    intervalMs: 5,
    // Out of the way, except where the budget is the point.
    ratePerSecond: 10_000,
    ...options,
  });
  services.push(service);
  const start = async () =>
    (await sim.startVerification(OPTS, { callbackUrl: 'https://app.example.com/done' })).token;
  return { sim, service, calls, start };
}

async function drain(iterator: AsyncIterable<VerificationUpdate>): Promise<VerificationUpdate[]> {
  const updates: VerificationUpdate[] = [];
  for await (const update of iterator) updates.push(update);
  return updates;
}

describe('exchange', () => {
  it('answers a token it redeemed with the same group instead of VERIFICATION_USED', async () => {
    const { sim, service, calls, start } = setup();
    const token = await start();
    sim.completeLiveness(token, 'pass');
    const first = await service.exchange(OPTS, token);
    expect(first.status).toBe('VERIFIED');
    expect(await service.exchange(OPTS, token)).toEqual(first);
    expect(calls).toHaveLength(1);
    // Straight upstream, the token is spent.
    await expect(sim.completeVerification(OPTS, token)).rejects.toMatchObject({
      code: 'VERIFICATION_USED',
    });
  });

  it('shares one upstream call between concurrent exchanges of a token', async () => {
    const { sim, service, calls, start } = setup();
    const token = await start();
    sim.completeLiveness(token, 'pass');
    const [a, b] = await Promise.all([
      service.exchange(OPTS, token),
      service.exchange(OPTS, token),
    ]);
    expect(a).toEqual(b);
    expect(calls).toHaveLength(1);
  });
});

describe('watch', () => {
  it('sends PENDING, then VERIFIED once the person passed, then ends; the mutation path agrees', async () => {
    const { sim, service, start } = setup();
    const token = await start();
    const subscription = await service.watch(OPTS, token);
    const updates = drain(subscription);
    sim.completeLiveness(token, 'pass');
    const [pending, verified] = await updates;
    expect(pending).toEqual({ status: 'PENDING' });
    expect(verified).toMatchObject({ status: 'VERIFIED' });
    expect(await service.exchange(OPTS, token)).toEqual(verified);
    expect(service.stats()).toEqual({ pollers: 0, subscribers: 0, pendingWatches: 0 });
  });

  it('runs one poller per token for all its subscribers, and stops it when the last leaves', async () => {
    const { service, start } = setup();
    const token = await start();
    const subscriptions = await Promise.all([1, 2, 3].map(() => service.watch(OPTS, token)));
    expect(service.stats()).toEqual({ pollers: 1, subscribers: 3, pendingWatches: 0 });
    for (const subscription of subscriptions) await subscription.return();
    expect(service.stats()).toEqual({ pollers: 0, subscribers: 0, pendingWatches: 0 });
  });

  it('keeps the ⑫ calls of one key within its budget, however many tokens are watched', async () => {
    const { service, calls, start } = setup({ ratePerSecond: 20, intervalMs: 1 });
    const tokens = await Promise.all(Array.from({ length: 10 }, start));
    const from = Date.now();
    const subscriptions = await Promise.all(tokens.map((token) => service.watch(OPTS, token)));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const made = calls.filter((at) => at >= from).length;
    // The first checks included: a full bucket (20), then 20 a second. Unbudgeted, 10 pollers
    // at 1 ms would make thousands.
    expect(made).toBeGreaterThan(20);
    expect(made).toBeLessThanOrEqual(20 + 20 * ((Date.now() - from) / 1000) + 1);
    for (const subscription of subscriptions) await subscription.return();
  });

  it('rejects an unknown token before returning', async () => {
    const { service } = setup();
    await expect(service.watch(OPTS, 'no-such-token')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect(service.stats()).toEqual({ pollers: 0, subscribers: 0, pendingWatches: 0 });
  });

  it('reports USED for a token redeemed outside the service', async () => {
    const { sim, service, start } = setup();
    const token = await start();
    sim.completeLiveness(token, 'pass');
    await sim.completeVerification(OPTS, token);
    expect(await drain(await service.watch(OPTS, token))).toEqual([{ status: 'USED' }]);
  });

  it('reports FAILED, and EXPIRED when the token outlives its time without a result', async () => {
    const { sim, service, start } = setup({ tokenTtlMs: 50 });
    const failing = await start();
    const failed = drain(await service.watch(OPTS, failing));
    sim.completeLiveness(failing, 'fail');
    expect(await failed).toEqual([{ status: 'PENDING' }, { status: 'FAILED' }]);

    const forgotten = await start();
    expect(await drain(await service.watch(OPTS, forgotten))).toEqual([
      { status: 'PENDING' },
      { status: 'EXPIRED' },
    ]);
  });

  it('ends with ERROR when the credential is refused while polling; retries transient errors', async () => {
    let call = 0;
    const { service, start } = setup({}, async () => {
      call++;
      if (call === 1) return { status: 'PENDING' };
      if (call === 2) throw new UpstreamError('UPSTREAM_UNAVAILABLE', 'down');
      throw new UpstreamError('UNAUTHENTICATED', 'key revoked');
    });
    const updates = await drain(await service.watch(OPTS, await start()));
    expect(updates[0]).toEqual({ status: 'PENDING' });
    expect(updates[1]).toMatchObject({ status: 'ERROR', error: { code: 'UNAUTHENTICATED' } });
    expect(call).toBe(3);
  });

  it('closes subscriptions and rejects new watches after stop', async () => {
    const { service, start } = setup();
    const token = await start();
    const updates = drain(await service.watch(OPTS, token));
    await service.stop();
    expect(await updates).toEqual([{ status: 'PENDING' }]);
    await expect(service.watch(OPTS, token)).rejects.toThrow('stopped');
    await waitFor(() => service.stats().pollers === 0, 'pollers to end');
  });
});

describe('with the default settings', () => {
  const config = loadConfig({});
  const GROUP = 'group-20260601112015-k3q9x';

  /** A service on a hand-driven clock: each wait moves it on; ⑫ as `answer` says at that time. */
  function onClock(
    answer: (elapsedMs: number) => Awaited<ReturnType<Upstream['completeVerification']>>,
  ) {
    const started = Date.parse('2026-06-01T11:17:15.000Z');
    let clock = started;
    const elapsed = () => clock - started;
    const { service, start } = setup(
      {
        tokenTtlMs: config.verificationTtlSeconds * 1000,
        intervalMs: config.pollIntervalMs,
        now: () => clock,
        sleep: async (ms) => {
          clock += ms;
        },
      },
      async () => answer(elapsed()),
    );
    return { service, start, elapsed };
  }

  it('waits past the H5 link’s 120 s: a person who takes three minutes ends VERIFIED, not EXPIRED', async () => {
    const { service, start, elapsed } = onClock((ms) =>
      ms >= 3 * 60_000 ? { status: 'VERIFIED', groupId: GROUP } : { status: 'PENDING' },
    );
    expect(await drain(await service.watch(OPTS, await start()))).toEqual([
      { status: 'PENDING' },
      { status: 'VERIFIED', groupId: GROUP },
    ]);
    expect(elapsed()).toBeGreaterThanOrEqual(3 * 60_000);
    expect(elapsed()).toBeLessThan(3 * 60_000 + 2 * config.pollIntervalMs);
  });

  it('ends EXPIRED once the token’s 30 minutes passed without a result', async () => {
    const { service, start, elapsed } = onClock(() => ({ status: 'PENDING' }));
    expect(await drain(await service.watch(OPTS, await start()))).toEqual([
      { status: 'PENDING' },
      { status: 'EXPIRED' },
    ]);
    expect(elapsed()).toBeGreaterThanOrEqual(30 * 60_000);
    expect(elapsed()).toBeLessThan(30 * 60_000 + 2 * config.pollIntervalMs);
  });
});
