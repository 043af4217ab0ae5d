/**
 * `sampledWarn`: a refusal an attacker can repeat at will logs one line per interval, and the
 * next line says how many were left out.
 */
import { describe, expect, it } from 'vitest';
import { sampledWarn } from '../../src/util/log-sampler.js';

describe('sampledWarn', () => {
  it('logs the first at once, counts the rest of the interval, and reports them after', () => {
    const lines: Array<[Record<string, unknown>, string]> = [];
    const clock = { now: 1_000 };
    const warn = sampledWarn(
      { warn: (fields, message) => lines.push([fields, message]) },
      'refused: full',
      { intervalMs: 10_000, now: () => clock.now },
    );
    for (let i = 0; i < 5_000; i++) warn({ max: 3 });
    expect(lines).toEqual([[{ max: 3 }, 'refused: full']]);
    clock.now += 9_999;
    warn({ max: 3 });
    expect(lines).toHaveLength(1);
    clock.now += 1;
    warn({ max: 3 });
    expect(lines).toEqual([
      [{ max: 3 }, 'refused: full'],
      [{ max: 3, suppressed: 5_000 }, 'refused: full'],
    ]);
  });
});
