/**
 * Retry and pacing policy as data: the tables say what they should, backoff never undercuts
 * `Retry-After`, and a burst over a documented rate is spread out (with an injected clock).
 */
import { describe, expect, it } from 'vitest';
import {
  ACTIONS,
  DEFAULT_RATE_LIMITS,
  RETRY_RULES,
  type ArkAction as UpstreamAction,
} from '../../src/upstream/ark/actions.js';
import { Pacer } from '../../src/upstream/http/pacer.js';
import { backoffDelay, retryDelay } from '../../src/upstream/http/retry.js';

describe('the policy tables', () => {
  it('reads are ② ③ ⑦ ⑧; creates ① ⑥ ⑪; updates ④ ⑨; deletes ⑤ ⑩; ⑫ is an exchange', () => {
    const byKind = (kind: string) =>
      Object.entries(ACTIONS)
        .filter(([, policy]) => policy.kind === kind)
        .map(([method]) => method);
    expect(byKind('read')).toEqual(['listGroups', 'getGroup', 'listAssets', 'getAsset']);
    expect(byKind('create')).toEqual(['createGroup', 'createAsset', 'startVerification']);
    expect(byKind('update')).toEqual(['updateGroup', 'updateAsset']);
    expect(byKind('delete')).toEqual(['deleteGroup', 'deleteAsset']);
    expect(byKind('exchange')).toEqual(['completeVerification']);
  });

  it('creates never retry after the request may have arrived; ⑫ never retries a 4xx', () => {
    expect(RETRY_RULES.create).toMatchObject({ retryAfterSend: false, retryBeforeSend: true });
    expect(RETRY_RULES.create.retryAnswers).toEqual(['throttled']);
    expect(RETRY_RULES.exchange).toMatchObject({ retryAfterSend: false, retryAnswers: [] });
    expect(RETRY_RULES.read.retryAnswers).toEqual(['throttled', 'gateway', 'overloaded']);
    expect(RETRY_RULES.delete.notFoundAfterUnknownIsDone).toBe(true);
  });

  it('carries the documented rates', () => {
    const rate = (action: UpstreamAction) => DEFAULT_RATE_LIMITS[action];
    expect(rate('GetAsset')).toEqual({ requests: 100, per: 'second' });
    expect(rate('DeleteAssetGroup')).toEqual({ requests: 5, per: 'second' });
    expect(rate('CreateAsset')).toEqual({ requests: 3, per: 'minute' });
    expect(rate('GetVisualValidateResult')).toEqual({ requests: 3, per: 'second' });
  });
});

describe('backoff', () => {
  const backoff = { baseMs: 100, maxMs: 2_000 };

  it('grows exponentially with jitter in [step/2, step], capped', () => {
    expect(backoffDelay(1, backoff, () => 0)).toBe(50);
    expect(backoffDelay(1, backoff, () => 0.999)).toBe(100);
    expect(backoffDelay(3, backoff, () => 0)).toBe(200);
    expect(backoffDelay(20, backoff, () => 0)).toBe(1_000);
    expect(backoffDelay(20, backoff, () => 0.9999)).toBe(2_000);
  });

  it('never waits less than Retry-After', () => {
    expect(retryDelay(1, 2_000, backoff, () => 0.5)).toBe(2_000);
    expect(retryDelay(1, undefined, backoff, () => 0)).toBe(50);
  });
});

describe('Pacer', () => {
  function fakeClock(start = 1_000_000) {
    let now = start;
    return { now: () => now, advance: (ms: number) => void (now += ms) };
  }
  const limits = { ...DEFAULT_RATE_LIMITS, ListAssets: { requests: 10, per: 'second' as const } };

  it('spreads a burst over the rate: 10 at once, then one every 100 ms', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ limits, now: clock.now });
    const waits = Array.from({ length: 15 }, () => pacer.reserve('key-a', 'ListAssets').waitMs);
    expect(waits).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 100, 200, 300, 400, 500]);
  });

  it('refills with time', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ limits, now: clock.now });
    for (let i = 0; i < 10; i++) pacer.reserve('key-a', 'ListAssets');
    clock.advance(300);
    const waits = Array.from({ length: 4 }, () => pacer.reserve('key-a', 'ListAssets').waitMs);
    expect(waits).toEqual([0, 0, 0, 100]);
  });

  it('keeps credentials and actions apart', () => {
    const pacer = new Pacer({ limits, now: fakeClock().now });
    for (let i = 0; i < 10; i++) pacer.reserve('key-a', 'ListAssets');
    expect(pacer.reserve('key-a', 'ListAssets').waitMs).toBe(100);
    expect(pacer.reserve('key-b', 'ListAssets').waitMs).toBe(0);
    expect(pacer.reserve('key-a', 'ListAssetGroups').waitMs).toBe(0);
  });

  it('paces CreateAsset per minute, and a cancelled reservation gives its slot back', () => {
    const pacer = new Pacer({ limits: DEFAULT_RATE_LIMITS, now: fakeClock().now });
    expect([1, 2, 3].map(() => pacer.reserve('k', 'CreateAsset').waitMs)).toEqual([0, 0, 0]);
    const fourth = pacer.reserve('k', 'CreateAsset');
    expect(fourth.waitMs).toBe(20_000);
    fourth.cancel();
    fourth.cancel(); // idempotent
    expect(pacer.reserve('k', 'CreateAsset').waitMs).toBe(20_000);
  });

  it('does not pace an action whose limit is null', () => {
    const pacer = new Pacer({
      limits: { ...DEFAULT_RATE_LIMITS, GetAsset: null },
      now: fakeClock().now,
    });
    for (let i = 0; i < 500; i++) expect(pacer.reserve('k', 'GetAsset').waitMs).toBe(0);
    expect(pacer.size).toBe(0);
  });

  it('drops idle buckets (a full bucket is the same as a new one)', () => {
    const clock = fakeClock();
    const pacer = new Pacer({ limits, now: clock.now, sweepIntervalMs: 1_000 });
    for (let i = 0; i < 100; i++) pacer.reserve(`key-${i}`, 'ListAssets');
    expect(pacer.size).toBe(100);
    clock.advance(1_000);
    pacer.reserve('key-new', 'ListAssets');
    expect(pacer.size).toBe(1);
  });

  it('keeps a bucket that is still in debt', () => {
    const clock = fakeClock();
    const pacer = new Pacer({
      limits: DEFAULT_RATE_LIMITS,
      now: clock.now,
      sweepIntervalMs: 1_000,
    });
    for (let i = 0; i < 5; i++) pacer.reserve('busy', 'CreateAsset');
    clock.advance(1_000);
    pacer.reserve('other', 'GetAsset');
    expect(pacer.size).toBe(2);
  });
});
