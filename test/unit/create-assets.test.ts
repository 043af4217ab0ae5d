/**
 * The creates behind `addAssets`: one `createAsset` per item for dialects without batches, one
 * `createAssets` per group and type (at most `assetBatchSize` items) for those with them; every
 * item keeps its position and gets its own outcome.
 */
import { describe, expect, it } from 'vitest';
import { createAssets } from '../../src/resolvers/create-assets.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { NewAsset, Upstream } from '../../src/upstream/port.js';

const opts = { credential: 'k' };
const item = (groupId: string, type: NewAsset['type'], n: number) => ({
  groupId,
  type,
  url: `https://x.test/${groupId}-${type}-${n}`,
});

describe('createAssets', () => {
  it('creates one by one when the dialect has no batch', async () => {
    let calls = 0;
    const upstream = {
      createAsset: async (_o: unknown, input: NewAsset) => {
        calls++;
        if (input.url.endsWith('-1')) throw new UpstreamError('BAD_REQUEST', 'no');
        return { id: `id-${input.url}` };
      },
    } as unknown as Upstream;
    const items = [0, 1, 2].map((n) => ({ index: n, input: item('g', 'IMAGE', n) }));
    const outcomes = await createAssets(upstream, opts, items, 2);
    expect(calls).toBe(3);
    expect(outcomes.map((o) => [o.index, o.ok])).toEqual([
      [0, true],
      [1, false],
      [2, true],
    ]);
  });

  it('sends one batch per group and type, at most assetBatchSize items each, in item order', async () => {
    const batches: NewAsset[][] = [];
    const upstream = {
      assetBatchSize: 2,
      createAsset: async () => {
        throw new Error('not used');
      },
      createAssets: async (_o: unknown, items: readonly NewAsset[]) => {
        batches.push([...items]);
        if (items[0]!.groupId === 'bad') throw new UpstreamError('PAYMENT_REQUIRED', 'no');
        return { ids: items.map((i) => `id-${i.url}`) };
      },
    } as unknown as Upstream;
    const inputs = [
      item('g', 'IMAGE', 0),
      item('g', 'VIDEO', 1),
      item('g', 'IMAGE', 2),
      item('g', 'IMAGE', 3),
      item('bad', 'IMAGE', 4),
    ];
    const outcomes = await createAssets(
      upstream,
      opts,
      inputs.map((input, index) => ({ index, input })),
      4,
    );
    expect(batches.map((b) => b.map((i) => i.url.split('-').pop()))).toEqual([
      ['0', '2'],
      ['1'],
      ['3'],
      ['4'],
    ]);
    expect(outcomes.map((o) => (o.ok ? o.id : (o.error as UpstreamError).code))).toEqual([
      `id-${inputs[0]!.url}`,
      `id-${inputs[1]!.url}`,
      `id-${inputs[2]!.url}`,
      `id-${inputs[3]!.url}`,
      'PAYMENT_REQUIRED',
    ]);
  });
});
