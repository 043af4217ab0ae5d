/**
 * apimart's tasks in the simulator's state (`state.ts`, `tasks.ts`): what each kind of task
 * shows over time, per key, and how review batches become assets.
 */
import { beforeEach, describe, expect, it } from 'vitest';
import { MAX_REVIEW_ITEMS, SimulatorState } from '../../src/simulator/state.js';
import { viewTask } from '../../src/simulator/tasks.js';
import { UpstreamError } from '../../src/upstream/errors.js';
import type { CallOptions } from '../../src/upstream/port.js';

const A: CallOptions = { credential: 'key-a' };
const B: CallOptions = { credential: 'key-b' };
const START = Date.parse('2026-06-01T11:17:15.000Z');
const REVIEW_MS = 1000;

let clock: number;
let state: SimulatorState;

beforeEach(() => {
  clock = START;
  state = new SimulatorState({ activationMs: REVIEW_MS, tokenTtlMs: 60_000, now: () => clock });
});

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

const url = (name: string) => `https://cdn.example.com/${name}.jpg`;

/** The token and link of a fresh session task. */
async function session(): Promise<{ token: string; h5Link: string; taskId: string }> {
  const task = await state.startSessionTask(A, { callbackUrl: 'https://app.example.com/done' });
  return { ...task.session!, taskId: task.id };
}

describe('session tasks (real-avatar step 1)', () => {
  it('are completed at once and hold the H5 session, readable again by id', async () => {
    const { token, h5Link, taskId } = await session();
    expect(taskId).toMatch(/^task_01K[0-9A-HJKMNP-TV-Z]{23}$/);
    expect(h5Link).toContain(`token=${token}`);
    expect(await state.getTask(A, taskId)).toMatchObject({
      kind: 'session',
      status: 'completed',
      progress: 100,
      session: { token, h5Link },
      completedAt: new Date(START),
    });
  });
});

describe('verification tasks (real-avatar step 2)', () => {
  it('are processing before the H5 check, then completed with a REAL group once read again', async () => {
    const { token } = await session();
    const pending = await state.startVerificationTask(A, token);
    expect(pending).toMatchObject({ status: 'processing', completedAt: null });
    expect(pending.groupId).toBeUndefined();

    state.completeLiveness(token, 'pass');
    clock += 500;
    const done = await state.getTask(A, pending.id);
    expect(done).toMatchObject({ status: 'completed', completedAt: new Date(START + 500) });
    expect((await state.getGroup(A, done.groupId!)).kind).toBe('REAL');
    // settled: the token is used, and later reads do not ask again
    expect(await state.getTask(A, pending.id)).toEqual(done);
    expect((await rejection(state.startVerificationTask(A, token))).code).toBe('VERIFICATION_USED');
  });

  it('are completed at once when the check was already passed', async () => {
    const { token } = await session();
    state.completeLiveness(token, 'pass');
    const task = await state.startVerificationTask(A, token);
    expect(task.status).toBe('completed');
    expect(task.groupId).toMatch(/^group-/);
  });

  it('fail with the reason when the check fails or the token expires while pending', async () => {
    const failing = await session();
    const failTask = await state.startVerificationTask(A, failing.token);
    state.completeLiveness(failing.token, 'fail');
    expect(await state.getTask(A, failTask.id)).toMatchObject({
      status: 'failed',
      failure: { code: 'VERIFICATION_FAILED' },
    });

    const expiring = await session();
    const expireTask = await state.startVerificationTask(A, expiring.token);
    clock += 60_000;
    expect(await state.getTask(A, expireTask.id)).toMatchObject({
      status: 'failed',
      failure: { code: 'VERIFICATION_EXPIRED' },
    });
  });

  it('reject an unknown token as NOT_FOUND', async () => {
    const error = await rejection(state.startVerificationTask(A, 'NO-SUCH-TOKEN'));
    expect([error.code, error.upstreamCode]).toEqual(['NOT_FOUND', 'NotFound.BytedToken']);
  });
});

describe('review tasks', () => {
  it('are processing with growing progress, then completed with every asset Active, in order', async () => {
    const { id: groupId } = await state.createGroup(A, { name: 'mascot' });
    const task = await state.startReviewTask(A, {
      groupId,
      type: 'IMAGE',
      items: [{ url: url('front'), name: 'front' }, { url: url('side') }],
    });
    expect(task).toMatchObject({ status: 'processing', progress: 10, groupId });
    clock += REVIEW_MS / 2;
    expect((await state.getTask(A, task.id)).progress).toBe(50);
    clock += REVIEW_MS / 2 - 1;
    expect((await state.getTask(A, task.id)).status).toBe('processing');

    clock += 1;
    const done = await state.getTask(A, task.id);
    expect(done).toMatchObject({ status: 'completed', progress: 100 });
    expect(done.completedAt).toEqual(new Date(START + REVIEW_MS));
    const page = await state.listAssets(A, { groupIds: [groupId], page: 1, pageSize: 10 });
    // the list is newest first; the task keeps submission order
    expect(done.reviewed!.map((item) => item.assetId)).toEqual(
      page.items.map((asset) => asset.id).reverse(),
    );
    expect(page.items.map((asset) => [asset.name, asset.status, asset.type])).toEqual([
      [null, 'ACTIVE', 'IMAGE'],
      ['front', 'ACTIVE', 'IMAGE'],
    ]);
  });

  it('fail when any asset fails, keeping every result; download-fails ends FAILED instead of refusing', async () => {
    const task = await state.startReviewTask(A, {
      group: { name: 'batch', description: 'three' },
      type: 'IMAGE',
      items: [{ url: url('ok') }, { url: url('fail-moderation') }, { url: url('download-fails') }],
    });
    clock += REVIEW_MS;
    const done = await state.getTask(A, task.id);
    expect(done.status).toBe('failed');
    expect(done.reviewed!.map((item) => item.status)).toEqual(['Active', 'Failed', 'Failed']);
    const [, moderated, unfetched] = await Promise.all(
      done.reviewed!.map((item) => state.getAsset(A, item.assetId)),
    );
    expect(moderated!.failure?.code).toBe('ContentModeration');
    expect(unfetched!.failure?.code).toBe('DownloadFailed');
    expect(await state.getGroup(A, done.groupId!)).toMatchObject({
      name: 'batch',
      description: 'three',
      kind: 'VIRTUAL',
    });
    // the Ark face still refuses such a URL at once
    const error = await rejection(
      state.createAsset(A, { groupId: done.groupId!, url: url('download-fails'), type: 'IMAGE' }),
    );
    expect(error.upstreamCode).toBe('InvalidParameter.DownloadFailed');
  });

  it('make a group when given neither group_id nor group', async () => {
    const task = await state.startReviewTask(A, { type: 'VIDEO', items: [{ url: url('a') }] });
    expect((await state.getGroup(A, task.groupId!)).name).toMatch(/^avatar-group 2026-06-01/);
  });

  it('refuse the whole batch, creating nothing, when it is empty, too big or has a bad item', async () => {
    const many = Array.from({ length: MAX_REVIEW_ITEMS + 1 }, (_, i) => ({ url: url(`${i}`) }));
    const tooMany = await rejection(
      state.startReviewTask(A, { group: { name: 'big' }, type: 'IMAGE', items: many }),
    );
    expect([tooMany.code, tooMany.upstreamCode]).toEqual([
      'BAD_REQUEST',
      'InvalidParameter.assets',
    ]);
    const empty = await rejection(state.startReviewTask(A, { type: 'IMAGE', items: [] }));
    expect(empty.code).toBe('BAD_REQUEST');
    const badItem = await rejection(
      state.startReviewTask(A, { type: 'IMAGE', items: [{ url: url('a') }, { url: 'ftp://x' }] }),
    );
    expect(badItem.message).toContain('assets[1]');
    expect((await state.listGroups(A, { page: 1, pageSize: 10 })).total).toBe(0);
    expect((await state.listAssets(A, { page: 1, pageSize: 10 })).total).toBe(0);
  });

  it('refuse an unknown group as NOT_FOUND', async () => {
    const error = await rejection(
      state.startReviewTask(A, { groupId: 'group-x', type: 'IMAGE', items: [{ url: url('a') }] }),
    );
    expect(error.upstreamCode).toBe('NotFound.group_id');
  });
});

describe('tasks per key', () => {
  it('are invisible to another key, and NOT_FOUND when unknown', async () => {
    const { taskId } = await session();
    const error = await rejection(state.getTask(B, taskId));
    expect([error.code, error.upstreamCode]).toEqual(['NOT_FOUND', 'NotFound.task_id']);
    expect((await rejection(state.getTask(A, 'task_01KNOPE'))).code).toBe('NOT_FOUND');
  });

  it('are forgotten with an idle key', async () => {
    state = new SimulatorState({ activationMs: REVIEW_MS, idleKeyTtlMs: 10_000, now: () => clock });
    const task = await state.startReviewTask(A, { type: 'IMAGE', items: [{ url: url('a') }] });
    clock += 10_000;
    await state.listGroups(B, { page: 1, pageSize: 10 }); // a call that sweeps
    expect((await rejection(state.getTask(A, task.id))).code).toBe('NOT_FOUND');
  });
});

describe('viewTask', () => {
  it('ends a review at once when reviews take no time', () => {
    const view = viewTask(
      { kind: 'review', id: 't', createdAt: START, groupId: 'g', items: [] },
      START,
      0,
    );
    expect(view).toMatchObject({ status: 'completed', progress: 100, reviewed: [] });
  });
});
