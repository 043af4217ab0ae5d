import { describe, expect, it } from 'vitest';
import { RateBudget } from '../../src/status/rate-budget.js';
import { sleepUntilAborted, type Sleep } from '../../src/util/time.js';

describe('RateBudget.take: a line of waiters', () => {
  it('serves waiters in order, with one sleep per token however many wait', async () => {
    const budget = new RateBudget({ read: 200 }, Date.now);
    let sleeps = 0;
    const counting: Sleep = (ms, signal) => {
      sleeps++;
      return sleepUntilAborted(ms, signal);
    };
    const signal = new AbortController().signal;
    const served: number[] = [];
    // 200 tokens at once, then 20 more that wait for the bucket to refill.
    await Promise.all(
      Array.from({ length: 220 }, (_, i) =>
        budget.take('read', signal, counting).then(() => served.push(i)),
      ),
    );
    expect(served).toEqual(Array.from({ length: 220 }, (_, i) => i));
    expect(sleeps).toBeLessThanOrEqual(40);
  });

  it('lets an aborted waiter leave the line without a token, and the next one go on', async () => {
    const budget = new RateBudget({ read: 1 }, Date.now);
    const open = new AbortController().signal;
    await budget.take('read', open, sleepUntilAborted);
    const leaving = new AbortController();
    const first = budget.take('read', leaving.signal, sleepUntilAborted);
    const second = budget.take('read', open, sleepUntilAborted);
    leaving.abort(new Error('gone'));
    await expect(first).rejects.toThrow('gone');
    const startedAt = Date.now();
    await second;
    // The token the aborted waiter did not take went to the next one, a second after the first.
    expect(Date.now() - startedAt).toBeLessThan(1500);
    expect(budget.waitFor('read')).toBeGreaterThan(0);
  });
});
