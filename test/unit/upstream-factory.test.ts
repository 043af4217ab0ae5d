/**
 * `createUpstream` is the one way the gateway gets an upstream: with `dialect: 'ark'` it speaks
 * Ark to the simulator's Ark face, which reuses the dialect's enum tables both ways.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ASSET_TYPES, KINDS, STATUSES } from '../../src/upstream/ark/mapping.js';
import { createUpstream, type UpstreamClient } from '../../src/upstream/index.js';
import { startSimulator, type RunningSimulator } from '../../src/simulator/ark-http.js';
import { SimulatorState } from '../../src/simulator/state.js';

const opts = { credential: 'sk-factory-test' };
let simulator: RunningSimulator;
let upstream: UpstreamClient;

beforeAll(async () => {
  simulator = await startSimulator(new SimulatorState({ activationMs: 0 }));
  upstream = createUpstream({ dialect: 'ark', baseUrl: simulator.url, timeoutMs: 5_000 });
});
afterAll(async () => {
  await upstream?.close();
  await simulator?.stop();
});

describe('createUpstream', () => {
  it("with dialect 'ark' round-trips a group and an asset through the simulator", async () => {
    const { id: groupId } = await upstream.createGroup(opts, { name: 'factory' });
    await expect(upstream.getGroup(opts, groupId)).resolves.toMatchObject({
      id: groupId,
      name: 'factory',
      kind: 'VIRTUAL',
    });
    const { id } = await upstream.createAsset(opts, {
      groupId,
      url: 'https://example.com/face.mp4',
      type: 'VIDEO',
    });
    const page = await upstream.listAssets(opts, {
      groupIds: [groupId],
      statuses: ['ACTIVE'],
      page: 1,
      pageSize: 10,
    });
    expect(page.items).toMatchObject([{ id, groupId, type: 'VIDEO', status: 'ACTIVE' }]);
  });
});

describe('the Ark enum tables', () => {
  it.each([
    ['kinds', KINDS],
    ['asset types', ASSET_TYPES],
    ['statuses', STATUSES],
  ] as const)('%s read the same both ways', (_name, table) => {
    const toWire: Record<string, string> = table.toWire;
    const fromWire: Record<string, string> = table.fromWire;
    expect(Object.keys(fromWire)).toHaveLength(Object.keys(toWire).length);
    for (const [domain, wire] of Object.entries(toWire)) expect(fromWire[wire]).toBe(domain);
  });
});
