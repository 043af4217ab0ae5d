/**
 * Ark's status source: the batching rule the watcher asks it for (moved here from the diff
 * tests when read planning became the dialect's business), and its documented limits.
 */
import { describe, expect, it } from 'vitest';
import { arkStatusSource, planReads } from '../../src/upstream/ark/status-source.js';

describe('read planning', () => {
  const due = (groups: number, perGroup: number) =>
    Array.from({ length: groups * perGroup }, (_, i) => ({
      id: `a${i}`,
      groupId: `g${Math.floor(i / perGroup)}`,
    }));

  it('reads every asset with getAsset when batching is off', () => {
    expect(planReads({ due: due(10, 10), batch: false })).toEqual({
      lists: [],
      gets: due(10, 10).map((d) => d.id),
    });
  });

  it('lists 100 assets of 10 groups with one call', () => {
    const plan = planReads({ due: due(10, 10) });
    expect(plan.gets).toEqual([]);
    expect(plan.lists).toEqual([['g0', 'g1', 'g2', 'g3', 'g4', 'g5', 'g6', 'g7', 'g8', 'g9']]);
  });

  it('reads a lone asset with getAsset, but packs two single-asset groups into one list', () => {
    expect(planReads({ due: due(1, 1) })).toEqual({ lists: [], gets: ['a0'] });
    expect(planReads({ due: due(2, 1) })).toEqual({ lists: [['g0', 'g1']], gets: [] });
  });

  it('does not list a group whose PROCESSING pages outnumber its due assets', () => {
    const plan = planReads({
      due: [...due(3, 1), { id: 'x', groupId: 'busy' }],
      processingByGroup: new Map([['busy', 950]]),
    });
    expect(plan).toEqual({ lists: [['g0', 'g1', 'g2']], gets: ['x'] });
  });

  it('splits more than 100 groups into chunks the upstream accepts', () => {
    const plan = planReads({ due: due(150, 2) });
    expect(plan.lists.map((chunk) => chunk.length)).toEqual([100, 50]);
    expect(plan.gets).toEqual([]);
  });
});

describe('Ark status source', () => {
  it('plans with the same rule it exposes, and spends a budget action with a rate per read', () => {
    const due = [
      { id: 'a', groupId: 'g1' },
      { id: 'b', groupId: 'g2' },
    ];
    expect(arkStatusSource.planReads({ due })).toEqual(planReads({ due }));
    for (const action of Object.values(arkStatusSource.actions)) {
      expect(arkStatusSource.rates[action]).toBeGreaterThan(0);
    }
    expect(arkStatusSource.rates).toEqual({ GetAsset: 100, ListAssets: 10, GetAssetGroup: 10 });
    expect(arkStatusSource.pollStatuses).toEqual(['PROCESSING']);
    expect([arkStatusSource.pageSize, arkStatusSource.maxGroupIds]).toEqual([100, 100]);
  });
});
