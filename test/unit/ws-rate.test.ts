import { expect, it } from 'vitest';
import { messageRate } from '../../src/subscriptions/adapter.js';

it('allows a burst of five seconds’ worth, then the steady rate', () => {
  let now = 0;
  const rate = messageRate(2, () => now);
  const burst = Array.from({ length: 12 }, () => rate.take());
  expect(burst.filter(Boolean)).toHaveLength(10);
  now += 500; // half a second refills one message
  expect(rate.take()).toBe(true);
  expect(rate.take()).toBe(false);
  now += 60_000; // a long pause refills the burst, never more
  expect(Array.from({ length: 11 }, () => rate.take()).filter(Boolean)).toHaveLength(10);
});
