/**
 * The simulator's apimart face cannot drift from the contract: a whole session of every apimart
 * call, happy paths and errors, runs through Prism's validating proxy (`--errors`) in front of
 * it, and Prism must flag nothing in either direction. What Prism itself would refuse (a batch
 * over 20, no key) is asked of the simulator directly.
 */
import { describe, expect, it } from 'vitest';
import { startApimartSimulator } from '../../src/simulator/apimart-http.js';
import { simulatorBehindPrism, type Answer } from '../helpers/simulator-rig.js';

const REVIEW_MS = 1_000;
const LIBRARY = '/v1/seedance2/private-avatar';

const rig = simulatorBehindPrism(startApimartSimulator, REVIEW_MS);
const call = rig.call;

const errorOf = (answer: Answer) => [answer.status, answer.body?.error?.code];

/** Passes (or fails) the H5 check of a step-1 session, as the person's phone would. */
async function finishH5(h5Link: string, token: string, outcome: 'pass' | 'fail'): Promise<void> {
  const path = new URL(h5Link).pathname.replace(/^.*\/h5/, '/h5');
  const click = await fetch(rig.simulatorUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token, outcome }),
    redirect: 'manual',
  });
  expect(click.status).toBe(303);
}

describe('the apimart simulator behind Prism’s validating proxy', () => {
  it('runs every apimart call, with errors, without a single contract violation', async () => {
    // The library's groups (M7, M8)
    const created = await call('POST', `${LIBRARY}/groups`, {
      name: 'mascot',
      description: 'Brand mascot',
    });
    expect(created.status).toBe(200);
    const groupId: string = created.body.Result.Id;
    expect(groupId).toMatch(/^group-\d{14}-[a-z0-9]{5}$/);

    const groups = await call('GET', `${LIBRARY}/groups?name=masc`);
    expect(groups.body.Result).toMatchObject({ Total: 1, PageNumber: 1, PageSize: 20 });
    expect(groups.body.Result.Items[0]).toMatchObject({ Id: groupId, GroupType: 'AIGC' });
    expect((await call('GET', `${LIBRARY}/groups/${groupId}`)).body.Result).toMatchObject({
      Id: groupId,
      Name: 'mascot',
    });
    const renamed = await call('PATCH', `${LIBRARY}/groups/${groupId}`, { name: 'mascot-final' });
    expect(renamed.body.Result).toEqual({ Id: groupId });

    // private-avatar: a new group from `group`, one asset of each deterministic input
    const batch = await call('POST', '/v1/seedance2/private-avatar', {
      group: { name: 'batch' },
      asset_type: 'Image',
      assets: [
        { url: 'https://cdn.example.com/front.jpg', name: 'front' },
        { url: 'https://cdn.example.com/fail-face.jpg' },
        { url: 'https://cdn.example.com/download-fails.jpg' },
      ],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.data).toMatchObject({ status: 'processing', progress: 10 });
    const batchTask: string = batch.body.data.id;
    expect(batchTask).toMatch(/^task_01K[0-9A-HJKMNP-TV-Z]{23}$/);
    const running = await call('GET', `/v1/tasks/${batchTask}`);
    expect(running.body.data).toMatchObject({ status: 'processing' });
    expect(running.body.data.result).toBeUndefined();

    // the single-asset shorthand, into the first group; and the newer /assets, into it too
    const single = await call('POST', '/v1/seedance2/private-avatar', {
      group_id: groupId,
      asset_type: 'Video',
      url: 'https://cdn.example.com/turnaround.mp4',
      name: 'turnaround',
    });
    const newer = await call('POST', `${LIBRARY}/assets`, {
      model: 'seedance-2.5',
      group_id: groupId,
      asset_type: 'Image',
      assets: [{ url: 'https://cdn.example.com/side.jpg', name: 'side' }],
    });
    expect(newer.body.data).toMatchObject({ status: 'processing', model: 'seedance-2.5' });

    rig.advance(REVIEW_MS);
    const failed = await call('GET', `/v1/tasks/${batchTask}?language=en`);
    expect(failed.body.data).toMatchObject({
      status: 'failed',
      progress: 100,
      error: { code: 'task_failed' },
    });
    const { assets, usable_assets: usable, failed_assets: rejected } = failed.body.data.result;
    expect(assets.map((a: { status: string }) => a.status)).toEqual(['Active', 'Failed', 'Failed']);
    expect(usable).toEqual([assets[0]]);
    expect(rejected).toEqual([assets[1], assets[2]]);
    expect(assets[0].asset_url).toBe(`asset://${assets[0].asset_id}`);

    const done = await call('GET', `/v1/tasks/${single.body.data.id}`);
    expect(done.body.data).toMatchObject({ status: 'completed', result: { failed_assets: [] } });
    const sideId: string = (await call('GET', `/v1/tasks/${newer.body.data.id}`)).body.data.result
      .assets[0].asset_id;

    // The library's assets: the reviewed ones, by group and by id, with no reason for a failure
    const listed = await call('GET', `${LIBRARY}/assets?group_id=${groupId}`);
    expect(listed.body.Result.Items.map((a: { Name: string }) => a.Name).sort()).toEqual([
      'side',
      'turnaround',
    ]);
    const side = await call('GET', `${LIBRARY}/assets/${sideId}`);
    expect(side.body.Result).toMatchObject({ Id: sideId, Status: 'Active', AssetType: 'Image' });
    const faceless = await call('GET', `${LIBRARY}/assets/${assets[1].asset_id}`);
    expect(faceless.body.Result.Status).toBe('Failed');
    expect(faceless.body.Result.Error).toBeUndefined();
    expect(
      (await call('PATCH', `${LIBRARY}/assets/${sideId}`, { name: 'side-v2' })).body.Result,
    ).toEqual({});

    // real-avatar: step 1, its task, step 2 before and after the H5 check, step 3
    const session = await call('POST', '/v1/seedance2/real-avatar', {
      callback_url: 'https://app.example.com/verification/done',
    });
    expect(session.body.data).toMatchObject({ status: 'completed' });
    const sessionTask = await call('GET', `/v1/tasks/${session.body.data.id}`);
    const { byted_token: token, h5_link: h5Link } = sessionTask.body.data.result;
    expect(token).toMatch(/^\d{14}[0-9A-F]{20}$/);

    const pending = await call('POST', '/v1/seedance2/real-avatar', { byted_token: token });
    expect(pending.body.data).toMatchObject({ status: 'processing' });
    await finishH5(h5Link, token, 'pass');
    const verified = await call('GET', `/v1/tasks/${pending.body.data.id}`);
    expect(verified.body.data.status).toBe('completed');
    const realGroupId: string = verified.body.data.result.group_id;
    expect((await call('GET', `${LIBRARY}/groups/${realGroupId}`)).body.Result.GroupType).toBe(
      'LivenessFace',
    );
    const used = await call('POST', '/v1/seedance2/real-avatar', { byted_token: token });
    expect(errorOf(used)).toEqual([400, 'byted_token_used']);
    const unknown = await call('POST', '/v1/seedance2/real-avatar', { byted_token: 'NO-SUCH' });
    expect(errorOf(unknown)).toEqual([400, 'byted_token_not_found']);

    const realAssets = await call('POST', '/v1/seedance2/real-avatar', {
      group_id: realGroupId,
      assets: [{ url: 'https://cdn.example.com/me.mp4', name: 'me' }],
    });
    rig.advance(REVIEW_MS);
    const reviewed = await call('GET', `/v1/tasks/${realAssets.body.data.id}`);
    expect(reviewed.body.data.status).toBe('completed');
    const meId: string = reviewed.body.data.result.usable_assets[0].asset_id;
    expect((await call('GET', `${LIBRARY}/assets/${meId}`)).body.Result.AssetType).toBe('Video');

    // a failed check: step 2 straight after it is refused
    const second = await call('POST', '/v1/seedance2/real-avatar', {
      callback_url: 'https://app.example.com/verification/done',
    });
    const secondSession = (await call('GET', `/v1/tasks/${second.body.data.id}`)).body.data.result;
    await finishH5(secondSession.h5_link, secondSession.byted_token, 'fail');
    const refused = await call('POST', '/v1/seedance2/real-avatar', {
      byted_token: secondSession.byted_token,
    });
    expect(errorOf(refused)).toEqual([400, 'verification_failed']);

    // errors the gateway can meet
    const otherKey = await call('GET', `${LIBRARY}/groups/${groupId}`, undefined, {
      key: 'another-key',
    });
    expect(errorOf(otherKey)).toEqual([404, 'not_found']);
    expect(errorOf(await call('GET', '/v1/tasks/task_01KNOSUCHTASK'))).toEqual([
      404,
      'task_not_found',
    ]);
    const noGroup = await call('POST', '/v1/seedance2/real-avatar', {
      group_id: 'group-20260601000000-nopes',
      assets: [{ url: 'https://cdn.example.com/me.mp4' }],
    });
    expect(errorOf(noGroup)).toEqual([400, 'group_not_found']);
    const paged = await call(
      'GET',
      `${LIBRARY}/assets?group_id=${groupId}&page_number=2&page_size=1`,
    );
    expect(paged.body.Result).toMatchObject({ Total: 2, PageNumber: 2, PageSize: 1 });
    expect(paged.body.Result.Items).toHaveLength(1);

    // deletes
    expect((await call('DELETE', `${LIBRARY}/assets/${sideId}`)).body.Result).toEqual({});
    expect(errorOf(await call('GET', `${LIBRARY}/assets/${sideId}`))).toEqual([404, 'not_found']);
    expect((await call('DELETE', `${LIBRARY}/groups/${groupId}`)).status).toBe(200);
    expect(errorOf(await call('GET', `${LIBRARY}/groups/${groupId}`))).toEqual([404, 'not_found']);
    expect(errorOf(await call('DELETE', `${LIBRARY}/groups/${groupId}`))).toEqual([
      404,
      'not_found',
    ]);

    expect(rig.violations).toEqual([]);
  });

  it('answers a request without a key with 401 and apimart’s error body', async () => {
    const answer = await call('GET', '/v1/tasks/task_01K', undefined, {
      key: null,
      base: rig.simulatorUrl,
    });
    expect(answer.status).toBe(401);
    expect(answer.body.error).toMatchObject({ type: 'authentication_error' });
  });

  it('refuses a batch over 20 items, and one naming a bad item, before creating anything', async () => {
    const direct = { key: 'batch-key', base: rig.simulatorUrl };
    const many = Array.from({ length: 21 }, (_, i) => ({
      url: `https://cdn.example.com/${i}.jpg`,
    }));
    const tooMany = await call(
      'POST',
      '/v1/seedance2/private-avatar',
      { group: { name: 'big' }, assets: many },
      direct,
    );
    expect(errorOf(tooMany)).toEqual([400, 'invalid_request_error']);
    const badItem = await call(
      'POST',
      `${LIBRARY}/assets`,
      {
        asset_type: 'Image',
        assets: [{ url: 'https://cdn.example.com/a.jpg' }, { url: 'ftp://x' }],
      },
      direct,
    );
    expect(errorOf(badItem)).toEqual([400, 'invalid_request_error']);
    expect(badItem.body.error.message).toContain('assets[1]');
    const groups = await call('GET', `${LIBRARY}/groups`, undefined, direct);
    expect(groups.body.Result.Items).toEqual([]);
  });
});
