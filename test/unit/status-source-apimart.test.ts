/**
 * apimart's status source: every due asset is covered by a list of its group (the client answers
 * a list by reading each open review task of those groups once), and `statusSourceOf` gives each
 * dialect its own.
 */
import { describe, expect, it } from 'vitest';
import { apimartStatusSource, planReads } from '../../src/upstream/apimart/status-source.js';
import { arkStatusSource } from '../../src/upstream/ark/status-source.js';
import { statusSourceOf } from '../../src/upstream/index.js';

const due = (groups: number, perGroup: number) =>
  Array.from({ length: groups * perGroup }, (_, i) => ({
    id: `a${i}`,
    groupId: `g${Math.floor(i / perGroup)}`,
  }));

describe('apimart read planning', () => {
  it('lists even a lone asset by its group: a task read covers it, never a read per asset', () => {
    expect(planReads({ due: due(1, 1) })).toEqual({ lists: [['g0']], gets: [] });
  });

  it('packs groups 20 to a list', () => {
    const plan = planReads({ due: due(45, 3) });
    expect(plan.gets).toEqual([]);
    expect(plan.lists.map((l) => l.length)).toEqual([20, 20, 5]);
    expect(new Set(plan.lists.flat()).size).toBe(45);
  });

  it('reads one by one only when batching is off', () => {
    expect(planReads({ due: due(2, 2), batch: false })).toEqual({
      lists: [],
      gets: ['a0', 'a1', 'a2', 'a3'],
    });
  });

  it('spends the task-read budget on every kind of read', () => {
    expect(new Set(Object.values(apimartStatusSource.actions))).toEqual(new Set(['GetTask']));
    expect(apimartStatusSource.rates.GetTask).toBeGreaterThan(0);
  });
});

describe('statusSourceOf', () => {
  it('gives each dialect its own status source', () => {
    expect(statusSourceOf('ark')).toBe(arkStatusSource);
    expect(statusSourceOf('apimart')).toBe(apimartStatusSource);
  });
});
