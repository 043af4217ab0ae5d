/**
 * The shared pacer when Redis fails: calls are never blocked, pacing goes on in this process's
 * buckets, and the outage is logged once (again only after Redis worked in between).
 */
import { describe, expect, it } from 'vitest';
import type { RedisCommands } from '../../src/upstream/index.js';
import { createSharedBudget } from '../../src/upstream/index.js';
import { SharedPacer } from '../../src/upstream/http/shared-pacing.js';

/** A Redis whose commands fail while `down` is true, and answer `wait` otherwise. */
function flakyRedis(state: { down: boolean; wait: number }): RedisCommands {
  const run = async () => {
    if (state.down)
      throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
    return state.wait;
  };
  return { evalsha: run, eval: run } as unknown as RedisCommands;
}

function recordingLogger() {
  const warnings: string[] = [];
  return {
    warnings,
    logger: { warn: (_: object, m: string) => warnings.push(m), debug: () => {} },
  };
}

describe('SharedPacer', () => {
  const limits = { ListAssets: { requests: 10, per: 'second' as const }, GetAsset: null };

  it('uses the wait Redis answers', async () => {
    const pacer = new SharedPacer({
      redis: flakyRedis({ down: false, wait: 250 }),
      keyPrefix: 'p:',
      limits,
      now: () => 0,
    });
    expect((await pacer.reserve('k', 'ListAssets')).waitMs).toBe(250);
    // Unpaced actions do not ask Redis at all.
    expect((await pacer.reserve('k', 'GetAsset')).waitMs).toBe(0);
  });

  it('falls back to in-memory buckets while Redis fails, warning once per outage', async () => {
    const state = { down: true, wait: 0 };
    const { warnings, logger } = recordingLogger();
    const pacer = new SharedPacer({
      redis: flakyRedis(state),
      keyPrefix: 'p:',
      limits,
      now: () => 0,
      logger,
    });
    const waits: number[] = [];
    for (let i = 0; i < 11; i++) waits.push((await pacer.reserve('k', 'ListAssets')).waitMs);
    // Still paced: the burst of ten, then the eleventh waits its 100 ms.
    expect(waits.slice(0, 10)).toEqual(Array(10).fill(0));
    expect(waits[10]).toBe(100);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Redis failed/);

    state.down = false;
    await pacer.reserve('k', 'ListAssets');
    state.down = true;
    await pacer.reserve('k', 'ListAssets');
    expect(warnings).toHaveLength(2);
  });
});

describe('createSharedBudget', () => {
  it('lets the call through (0 ms) while Redis fails, warning once', async () => {
    const { warnings, logger } = recordingLogger();
    const budget = createSharedBudget({
      redis: flakyRedis({ down: true, wait: 0 }),
      keyPrefix: 'b:',
      logger,
    });
    expect(await budget.take('h', 'GetVisualValidateResult', 2)).toBe(0);
    expect(await budget.take('h', 'GetVisualValidateResult', 2)).toBe(0);
    expect(warnings).toHaveLength(1);
  });
});
