import { describe, expect, it } from 'vitest';
import { diffAsset, diffSnapshots, normalisePoll, snapshotOf } from '../../src/status/diff.js';
import { RateBudget } from '../../src/status/rate-budget.js';
import { decodeItems, encodeItems } from '../../src/status/bus-codec.js';
import type { Asset } from '../../src/upstream/port.js';

function asset(id: string, patch: Partial<Asset> = {}): Asset {
  return {
    id,
    groupId: 'group-1',
    name: 'front',
    type: 'IMAGE',
    status: 'PROCESSING',
    failure: null,
    previewUrl: null,
    createdAt: new Date('2026-06-01T00:00:00Z'),
    updatedAt: new Date('2026-06-01T00:00:00Z'),
    ...patch,
  };
}

describe('change detection', () => {
  it('ignores what changes on every read: preview URL, name and timestamps', () => {
    const before = asset('a', { status: 'ACTIVE', previewUrl: 'https://x/1?sig=1' });
    const after = asset('a', {
      status: 'ACTIVE',
      previewUrl: 'https://x/1?sig=2',
      name: 'renamed',
      updatedAt: new Date('2026-06-02T00:00:00Z'),
    });
    expect(snapshotOf(before)).toEqual(snapshotOf(after));
    expect(diffAsset(before, after)).toBeNull();
  });

  it('reports an asset seen for the first time with no previous status', () => {
    expect(diffAsset(undefined, asset('a'))).toEqual({
      kind: 'status',
      asset: asset('a'),
      previousStatus: null,
    });
  });

  it('reports a status change with the previous status', () => {
    const next = asset('a', { status: 'ACTIVE' });
    expect(diffAsset(asset('a'), next)).toEqual({
      kind: 'status',
      asset: next,
      previousStatus: 'PROCESSING',
    });
  });

  it('reports a change of failure reason', () => {
    const failed = asset('a', {
      status: 'FAILED',
      failure: { code: 'FaceMismatch', message: 'm' },
    });
    const other = asset('a', { status: 'FAILED', failure: { code: 'Moderation', message: 'm' } });
    expect(diffAsset(failed, other)?.kind).toBe('status');
  });

  it('never takes a final asset back to PROCESSING (an older read)', () => {
    expect(diffAsset(asset('a', { status: 'ACTIVE' }), asset('a'))).toBeNull();
  });

  it('normalises a poll: getAsset answers win over list items, NOT_FOUND over both', () => {
    const observed = normalisePoll({
      listed: [asset('a'), asset('b'), asset('c')],
      fetched: [asset('b', { status: 'ACTIVE' })],
      gone: ['c'],
    });
    expect([...observed.keys()]).toEqual(['a', 'b', 'c']);
    expect(observed.get('b')).toEqual({ kind: 'seen', asset: asset('b', { status: 'ACTIVE' }) });
    expect(observed.get('c')).toEqual({ kind: 'gone', assetId: 'c' });
  });

  it('keeps the more advanced of two list items for the same asset (pages shift)', () => {
    const observed = normalisePoll({
      listed: [asset('a', { status: 'ACTIVE' }), asset('a')],
    });
    expect(observed.get('a')).toEqual({ kind: 'seen', asset: asset('a', { status: 'ACTIVE' }) });
  });

  it('diffs a poll against the last snapshots: changes only, deletions of known assets', () => {
    const previous = new Map([
      ['a', asset('a')],
      ['b', asset('b')],
      ['c', asset('c')],
    ]);
    const observed = normalisePoll({
      listed: [asset('a'), asset('n')],
      fetched: [asset('b', { status: 'FAILED', failure: { code: 'X', message: 'y' } })],
      gone: ['c', 'unknown'],
    });
    expect(diffSnapshots(previous, observed)).toEqual([
      { kind: 'status', asset: asset('n'), previousStatus: null },
      {
        kind: 'status',
        asset: asset('b', { status: 'FAILED', failure: { code: 'X', message: 'y' } }),
        previousStatus: 'PROCESSING',
      },
      { kind: 'deleted', asset: asset('c') },
    ]);
  });
});

describe('bus messages', () => {
  it('round-trips assets with dates', () => {
    const items = [
      { kind: 'status' as const, asset: asset('a', { failure: { code: 'c', message: 'm' } }) },
      { kind: 'deleted' as const, assetId: 'b' },
      { kind: 'stale' as const, assetId: 'c', since: 5, reason: 'UPSTREAM_UNAVAILABLE' },
      { kind: 'recovered' as const, assetId: 'c' },
    ];
    expect(decodeItems(encodeItems(items))).toEqual(items);
  });

  it("keeps an asset's uri: absent, null until a review ends, or the upstream's own", () => {
    const items = [
      { kind: 'status' as const, asset: asset('ark') },
      { kind: 'status' as const, asset: asset('task_1-0', { uri: null }) },
      {
        kind: 'status' as const,
        asset: asset('task_1-1', { status: 'ACTIVE', uri: 'asset://asset-20261201-x' }),
      },
    ];
    const decoded = decodeItems(encodeItems(items));
    expect(decoded).toEqual(items);
    expect(decoded.map((item) => item.kind === 'status' && 'uri' in item.asset)).toEqual([
      false,
      true,
      true,
    ]);
  });

  it('refuses foreign or corrupt messages', () => {
    expect(() => decodeItems('{"v":2,"items":[]}')).toThrow(TypeError);
    expect(() => decodeItems('{"v":1,"items":[{"kind":"status","asset":{"id":1}}]}')).toThrow();
    expect(() => decodeItems('not json')).toThrow();
  });
});

describe('rate budget', () => {
  it('allows a second of calls, refills over time, and pauses after Retry-After', () => {
    let now = 0;
    const budget = new RateBudget({ GetAsset: 100, ListAssets: 10, GetAssetGroup: 10 }, () => now);
    for (let i = 0; i < 10; i++) expect(budget.tryTake('ListAssets')).toBe(true);
    expect(budget.tryTake('ListAssets')).toBe(false);
    expect(budget.waitFor('ListAssets')).toBe(100);
    now += 100;
    expect(budget.tryTake('ListAssets')).toBe(true);
    expect(budget.tryTake('GetAsset')).toBe(true);
    budget.pause('GetAsset', now + 2000);
    expect(budget.tryTake('GetAsset')).toBe(false);
    expect(budget.waitFor('GetAsset')).toBe(2000);
    now += 2000;
    expect(budget.tryTake('GetAsset')).toBe(false);
    now += 10;
    expect(budget.tryTake('GetAsset')).toBe(true);
  });
});
