import { beforeEach, describe, expect, it } from 'vitest';
import { SimulatorState } from '../../src/simulator/state.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions } from '../../src/upstream/port.js';

const A: CallOptions = { credential: 'key-a' };
const B: CallOptions = { credential: 'key-b' };
const START = Date.parse('2026-06-01T11:17:15.000Z');

let clock: number;
let state: SimulatorState;

beforeEach(() => {
  clock = START;
  state = new SimulatorState({ activationMs: 1000, tokenTtlMs: 60_000, now: () => clock });
});

/** The rejection of `promise`, which must be an UpstreamError. */
async function rejection(promise: Promise<unknown>): Promise<UpstreamError> {
  const error = await promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpstreamError);
  return error as UpstreamError;
}

describe('groups', () => {
  it('creates VIRTUAL groups with upstream-shaped ids and reads them back', async () => {
    const { id } = await state.createGroup(A, { name: 'Mascot', description: 'Brand mascot' });
    expect(id).toMatch(/^group-20260601111715-[a-z0-9]{5}$/);
    expect(await state.getGroup(A, id)).toEqual({
      id,
      name: 'Mascot',
      description: 'Brand mascot',
      kind: 'VIRTUAL',
      createdAt: new Date(START),
      updatedAt: new Date(START),
    });
  });

  it('lists newest first with filters and pagination', async () => {
    const ids: string[] = [];
    for (const name of ['alpha', 'beta', 'alphabet']) {
      ids.push((await state.createGroup(A, { name })).id);
      clock += 1000;
    }
    const all = await state.listGroups(A, { page: 1, pageSize: 2 });
    expect(all.total).toBe(3);
    expect(all.items.map((g) => g.name)).toEqual(['alphabet', 'beta']);
    const second = await state.listGroups(A, { page: 2, pageSize: 2 });
    expect(second.items.map((g) => g.name)).toEqual(['alpha']);
    expect(
      (await state.listGroups(A, { nameContains: 'ALPHA', page: 1, pageSize: 10 })).total,
    ).toBe(2);
    expect(
      (await state.listGroups(A, { ids: [ids[1]!, 'nope'], page: 1, pageSize: 10 })).items.map(
        (g) => g.id,
      ),
    ).toEqual([ids[1]]);
    expect((await state.listGroups(A, { kind: 'REAL', page: 1, pageSize: 10 })).total).toBe(0);
  });

  it('updates name and description', async () => {
    const { id } = await state.createGroup(A, { name: 'x' });
    clock += 5000;
    await state.updateGroup(A, id, { name: 'y', description: 'd' });
    expect(await state.getGroup(A, id)).toMatchObject({
      name: 'y',
      description: 'd',
      updatedAt: new Date(START + 5000),
    });
  });

  it('deletes a group with its assets', async () => {
    const { id } = await state.createGroup(A, { name: 'x' });
    const asset = await state.createAsset(A, {
      groupId: id,
      url: 'https://e.com/a.jpg',
      type: 'IMAGE',
    });
    await state.deleteGroup(A, id);
    expect((await rejection(state.getGroup(A, id))).code).toBe('NOT_FOUND');
    expect((await rejection(state.getAsset(A, asset.id))).code).toBe('NOT_FOUND');
    expect((await rejection(state.deleteGroup(A, id))).upstreamCode).toBe('NotFound.group_id');
  });

  it('refuses input the upstream refuses', async () => {
    expect((await rejection(state.createGroup(A, { name: ' ' }))).code).toBe('BAD_REQUEST');
    expect((await rejection(state.createGroup(A, { name: 'x'.repeat(65) }))).upstreamCode).toBe(
      'InvalidParameter.Name',
    );
    expect((await rejection(state.listGroups(A, { page: 1, pageSize: 101 }))).code).toBe(
      'BAD_REQUEST',
    );
  });
});

describe('assets', () => {
  let groupId: string;
  beforeEach(async () => {
    groupId = (await state.createGroup(A, { name: 'g' })).id;
  });

  it('goes PROCESSING, then ACTIVE after activationMs, computed from the clock', async () => {
    const { id } = await state.createAsset(A, {
      groupId,
      url: 'https://e.com/a.jpg',
      type: 'IMAGE',
      name: 'front',
    });
    expect(id).toMatch(/^asset-20260601111715-[a-z0-9]{5}$/);
    expect(await state.getAsset(A, id)).toMatchObject({
      status: 'PROCESSING',
      previewUrl: null,
      failure: null,
      name: 'front',
      groupId,
    });
    clock += 999;
    expect((await state.getAsset(A, id)).status).toBe('PROCESSING');
    clock += 1;
    expect(await state.getAsset(A, id)).toMatchObject({
      status: 'ACTIVE',
      previewUrl: `http://127.0.0.1/sim/files/${id}`,
      updatedAt: new Date(START + 1000),
    });
  });

  it('fails fail-face and fail-moderation URLs after processing', async () => {
    const face = await state.createAsset(A, {
      groupId,
      url: 'https://e.com/fail-face.jpg',
      type: 'IMAGE',
    });
    const mod = await state.createAsset(A, {
      groupId,
      url: 'https://e.com/fail-moderation.mp4',
      type: 'VIDEO',
    });
    expect((await state.getAsset(A, face.id)).status).toBe('PROCESSING');
    clock += 1000;
    expect(await state.getAsset(A, face.id)).toMatchObject({
      status: 'FAILED',
      failure: { code: 'FaceMismatch', message: 'Face consistency verification failed.' },
    });
    expect((await state.getAsset(A, mod.id)).failure?.code).toBe('ContentModeration');
  });

  it('rejects download-fails URLs and missing groups', async () => {
    const download = await rejection(
      state.createAsset(A, { groupId, url: 'https://e.com/download-fails.jpg', type: 'IMAGE' }),
    );
    expect([download.code, download.upstreamCode]).toEqual([
      'BAD_REQUEST',
      'InvalidParameter.DownloadFailed',
    ]);
    const missing = await rejection(
      state.createAsset(A, { groupId: 'group-x', url: 'https://e.com/a.jpg', type: 'IMAGE' }),
    );
    expect(missing.code).toBe('NOT_FOUND');
  });

  it('lists with group, status, type, kind and name filters', async () => {
    const other = (await state.createGroup(A, { name: 'other' })).id;
    await state.createAsset(A, { groupId, url: 'https://e.com/1.jpg', type: 'IMAGE', name: 'one' });
    await state.createAsset(A, { groupId, url: 'https://e.com/fail-face.jpg', type: 'IMAGE' });
    await state.createAsset(A, {
      groupId: other,
      url: 'https://e.com/3.mp3',
      type: 'AUDIO',
      name: 'three',
    });
    clock += 1000;
    const list = (q: Omit<Parameters<SimulatorState['listAssets']>[1], 'page' | 'pageSize'>) =>
      state.listAssets(A, { ...q, page: 1, pageSize: 10 }).then((p) => p.total);
    expect(await list({})).toBe(3);
    expect(await list({ groupIds: [groupId] })).toBe(2);
    expect(await list({ statuses: ['FAILED'] })).toBe(1);
    expect(await list({ statuses: ['ACTIVE'], groupIds: [groupId] })).toBe(1);
    expect(await list({ types: ['AUDIO'] })).toBe(1);
    expect(await list({ kind: 'VIRTUAL' })).toBe(3);
    expect(await list({ kind: 'REAL' })).toBe(0);
    expect(await list({ nameContains: 'THR' })).toBe(1);
    const paged = await state.listAssets(A, { page: 2, pageSize: 2 });
    expect([paged.items.length, paged.total, paged.page, paged.pageSize]).toEqual([1, 3, 2, 2]);
  });

  it('renames and deletes', async () => {
    const { id } = await state.createAsset(A, {
      groupId,
      url: 'https://e.com/1.jpg',
      type: 'IMAGE',
    });
    await state.updateAsset(A, id, { name: 'renamed' });
    expect((await state.getAsset(A, id)).name).toBe('renamed');
    await state.deleteAsset(A, id);
    expect((await rejection(state.getAsset(A, id))).upstreamCode).toBe('NotFound.asset_id');
    expect((await rejection(state.updateAsset(A, id, { name: 'x' }))).code).toBe('NOT_FOUND');
  });
});

describe('credential isolation', () => {
  it('never shows one key’s data to another', async () => {
    const { id: groupId } = await state.createGroup(A, { name: 'mine' });
    const { id: assetId } = await state.createAsset(A, {
      groupId,
      url: 'https://e.com/1.jpg',
      type: 'IMAGE',
    });
    const { token } = await state.startVerification(A, {
      callbackUrl: 'https://app.example.com/cb',
    });
    expect((await rejection(state.getGroup(B, groupId))).code).toBe('NOT_FOUND');
    expect((await rejection(state.getAsset(B, assetId))).code).toBe('NOT_FOUND');
    expect((await rejection(state.deleteGroup(B, groupId))).code).toBe('NOT_FOUND');
    expect((await rejection(state.completeVerification(B, token))).code).toBe('NOT_FOUND');
    expect((await state.listGroups(B, { page: 1, pageSize: 10 })).total).toBe(0);
    expect((await state.listAssets(B, { page: 1, pageSize: 10 })).total).toBe(0);
    expect((await state.getGroup(A, groupId)).name).toBe('mine');
  });

  it('refuses an empty credential', async () => {
    expect(
      (await rejection(state.listGroups({ credential: '' }, { page: 1, pageSize: 1 }))).code,
    ).toBe('UNAUTHENTICATED');
  });
});

describe('real-person verification', () => {
  it('is PENDING, then VERIFIED once with a REAL group, then USED', async () => {
    const session = await state.startVerification(A, { callbackUrl: 'https://app.example.com/cb' });
    expect(session.h5Link).toBe(`http://127.0.0.1/sim/h5/verify?token=${session.token}`);
    expect(session.token).toMatch(/^20260601111715[0-9A-F]{20}$/);
    expect(await state.completeVerification(A, session.token)).toEqual({ status: 'PENDING' });

    const { callbackUrl } = state.completeLiveness(session.token, 'pass');
    expect(callbackUrl).toBe(
      `https://app.example.com/cb?bytedToken=${session.token}&resultCode=10000`,
    );

    const result = await state.completeVerification(A, session.token);
    if (result.status !== 'VERIFIED') throw new Error('expected VERIFIED');
    expect(await state.getGroup(A, result.groupId)).toMatchObject({
      kind: 'REAL',
      name: 'Verified person 2026-06-01T11:17:15Z',
    });
    expect((await rejection(state.completeVerification(A, session.token))).code).toBe(
      'VERIFICATION_USED',
    );
    expect(() => state.completeLiveness(session.token, 'pass')).toThrow(
      expect.objectContaining({ code: 'VERIFICATION_USED' }),
    );
  });

  it('is FAILED after a failed liveness check', async () => {
    const { token } = await state.startVerification(A, {
      callbackUrl: 'https://app.example.com/cb',
    });
    expect(state.completeLiveness(token, 'fail').callbackUrl).toContain('resultCode=10001');
    expect((await rejection(state.completeVerification(A, token))).code).toBe(
      'VERIFICATION_FAILED',
    );
  });

  it('expires tokenTtlMs after creation', async () => {
    const { token } = await state.startVerification(A, {
      callbackUrl: 'https://app.example.com/cb',
    });
    clock += 59_999;
    expect(await state.completeVerification(A, token)).toEqual({ status: 'PENDING' });
    clock += 1;
    expect((await rejection(state.completeVerification(A, token))).code).toBe(
      'VERIFICATION_EXPIRED',
    );
    expect(() => state.completeLiveness(token, 'pass')).toThrow(
      expect.objectContaining({ code: 'VERIFICATION_EXPIRED' }),
    );
  });

  it('does not know unknown tokens', async () => {
    expect((await rejection(state.completeVerification(A, 'NOPE'))).code).toBe('NOT_FOUND');
    expect(() => state.completeLiveness('NOPE', 'pass')).toThrow(
      expect.objectContaining({ code: 'NOT_FOUND' }),
    );
  });

  it('uses the configured H5 base URL', async () => {
    const custom = new SimulatorState({
      h5BaseUrl: 'http://127.0.0.1:4000/simulator/',
      now: () => clock,
    });
    const { token, h5Link } = await custom.startVerification(A, {
      callbackUrl: 'https://app.example.com/cb',
      language: 'en',
    });
    expect(h5Link).toBe(`http://127.0.0.1:4000/simulator/h5/verify?token=${token}&lng=en`);
  });
});
