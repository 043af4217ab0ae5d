/**
 * The built-in simulator cannot drift from the contract: a whole session of every interface,
 * happy paths and errors, runs through Prism's validating proxy (`--errors`) in front of it, and
 * Prism must flag nothing in either direction.
 */
import { describe, expect, it } from 'vitest';
import { startSimulator } from '../../src/simulator/ark-http.js';
import { simulatorBehindPrism, type Answer } from '../helpers/simulator-rig.js';

const MODEL = 'doubao-seedance-2-0-260128';
const ACTIVATION_MS = 1_000;

const rig = simulatorBehindPrism(startSimulator, ACTIVATION_MS);
const call = rig.call;

const errorCode = (answer: Answer) => answer.body?.ResponseMetadata?.Error?.Code;

describe('the simulator behind Prism’s validating proxy', () => {
  it('runs every interface, with errors, without a single contract violation', async () => {
    // ① ② ③ ④ groups
    const created = await call('POST', '/v1/private-avatar/groups', {
      model: MODEL,
      Name: 'mascot',
      Description: 'Brand mascot',
    });
    expect(created.status).toBe(200);
    const groupId: string = created.body.Result.Id;
    expect(groupId).toMatch(/^group-\d{14}-[a-z0-9]{5}$/);

    const listed = await call('POST', '/v1/private-avatar/groups/list', {
      model: MODEL,
      Filter: { Name: 'masc', GroupType: 'AIGC' },
    });
    expect(listed.status).toBe(200);
    expect(listed.body.Result).toMatchObject({ Total: 1, PageNumber: 1, PageSize: 10 });
    expect(listed.body.Result.Items[0]).toMatchObject({ Id: groupId, GroupType: 'AIGC' });

    const got = await call('GET', `/v1/private-avatar/groups/${groupId}?model=${MODEL}`);
    expect(got.body.Result).toMatchObject({ Id: groupId, Name: 'mascot' });

    const renamed = await call('PATCH', `/v1/private-avatar/groups/${groupId}`, {
      model: MODEL,
      Id: groupId,
      Name: 'mascot-final',
    });
    expect(renamed.status).toBe(200);

    // ⑥ ⑦ ⑧ ⑨ assets, through Processing to Active and Failed
    const image = await call('POST', '/v1/private-avatar/assets', {
      model: MODEL,
      GroupId: groupId,
      URL: 'https://cdn.example.com/front.jpg',
      AssetType: 'Image',
      Name: 'front',
    });
    const failing = await call('POST', '/v1/private-avatar/assets', {
      model: MODEL,
      GroupId: groupId,
      URL: 'https://cdn.example.com/fail-face.jpg',
      AssetType: 'Image',
    });
    const imageId: string = image.body.Result.Id;
    expect(imageId).toMatch(/^asset-\d{14}-[a-z0-9]{5}$/);

    const processing = await call('GET', `/v1/private-avatar/assets/${imageId}?model=${MODEL}`);
    expect(processing.body.Result.Status).toBe('Processing');

    rig.advance(ACTIVATION_MS);
    const active = await call('GET', `/v1/private-avatar/assets/${imageId}?model=${MODEL}`);
    expect(active.body.Result).toMatchObject({ Status: 'Active', AssetType: 'Image' });
    const failed = await call(
      'GET',
      `/v1/private-avatar/assets/${failing.body.Result.Id}?model=${MODEL}`,
    );
    expect(failed.body.Result).toMatchObject({
      Status: 'Failed',
      Error: { Code: 'FaceMismatch' },
    });

    const assets = await call('POST', '/v1/private-avatar/assets/list', {
      model: MODEL,
      Filter: { GroupIds: [groupId], Statuses: ['Active', 'Failed'] },
      PageSize: 100,
    });
    expect(assets.body.Result.Items).toHaveLength(2);

    const renamedAsset = await call('PATCH', `/v1/private-avatar/assets/${imageId}`, {
      model: MODEL,
      Id: imageId,
      Name: 'front-v2',
    });
    expect(renamedAsset.status).toBe(200);

    // ⑪ ⑫ the real-person flow: pending, completed through the H5 page, used
    const session = await call('POST', '/v1/real-avatar/auth/session', {
      model: MODEL,
      CallbackURL: 'https://app.example.com/verification/done',
      Lng: 'en',
    });
    expect(session.status).toBe(200);
    const token: string = session.body.Result.BytedToken;
    const pending = await call('POST', '/v1/real-avatar/groups/from-token', {
      model: MODEL,
      BytedToken: token,
    });
    expect(pending.body.Result.GroupId).toBe('');

    const h5 = new URL(session.body.Result.H5Link);
    const click = await fetch(`${rig.simulatorUrl}${h5.pathname.replace(/^.*\/h5/, '/h5')}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ token, outcome: 'pass' }),
      redirect: 'manual',
    });
    expect(click.status).toBe(303);
    expect(click.headers.get('location')).toContain('resultCode=10000');

    const completed = await call('POST', '/v1/real-avatar/groups/from-token', {
      model: MODEL,
      BytedToken: token,
    });
    expect(completed.body.Result.GroupId).toMatch(/^group-/);
    const realGroup = await call(
      'GET',
      `/v1/private-avatar/groups/${completed.body.Result.GroupId}?model=${MODEL}`,
    );
    expect(realGroup.body.Result.GroupType).toBe('LivenessFace');

    const used = await call('POST', '/v1/real-avatar/groups/from-token', {
      model: MODEL,
      BytedToken: token,
    });
    expect([used.status, errorCode(used)]).toEqual([400, 'InvalidParameter.BytedTokenUsed']);
    const unknown = await call('POST', '/v1/real-avatar/groups/from-token', {
      model: MODEL,
      BytedToken: 'NO-SUCH-TOKEN',
    });
    expect([unknown.status, errorCode(unknown)]).toEqual([404, 'NotFound.BytedToken']);

    // errors the gateway can meet
    const otherKey = await call(
      'GET',
      `/v1/private-avatar/groups/${groupId}?model=${MODEL}`,
      undefined,
      { key: 'another-key' },
    );
    expect([otherKey.status, errorCode(otherKey)]).toEqual([404, 'NotFound.group_id']);
    const downloadFails = await call('POST', '/v1/private-avatar/assets', {
      model: MODEL,
      GroupId: groupId,
      URL: 'https://cdn.example.com/download-fails.jpg',
      AssetType: 'Image',
    });
    expect([downloadFails.status, errorCode(downloadFails)]).toEqual([
      400,
      'InvalidParameter.DownloadFailed',
    ]);

    // ⑩ ⑤ deletes
    expect(
      (await call('DELETE', `/v1/private-avatar/assets/${imageId}?model=${MODEL}`)).status,
    ).toBe(200);
    const gone = await call('GET', `/v1/private-avatar/assets/${imageId}?model=${MODEL}`);
    expect([gone.status, errorCode(gone)]).toEqual([404, 'NotFound.asset_id']);
    expect(
      (await call('DELETE', `/v1/private-avatar/groups/${groupId}?model=${MODEL}`)).status,
    ).toBe(200);
    const groupGone = await call('GET', `/v1/private-avatar/groups/${groupId}?model=${MODEL}`);
    expect([groupGone.status, errorCode(groupGone)]).toEqual([404, 'NotFound.group_id']);

    expect(rig.violations).toEqual([]);
  });

  it('answers a request without credentials with 401 and the error envelope', async () => {
    const response = await fetch(`${rig.simulatorUrl}/v1/private-avatar/groups/list`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL }),
    });
    expect(response.status).toBe(401);
    expect(((await response.json()) as any).ResponseMetadata.Error.Code).toBe('Unauthorized');
  });

  it('refuses a model outside the enum and a missing required field, with the envelope', async () => {
    const badModel = await fetch(`${rig.simulatorUrl}/v1/private-avatar/groups`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'gpt-4', Name: 'x' }),
    });
    expect(badModel.status).toBe(400);
    expect(((await badModel.json()) as any).ResponseMetadata.Error.Code).toBe(
      'InvalidParameter.model',
    );
    const noName = await fetch(`${rig.simulatorUrl}/v1/private-avatar/groups`, {
      method: 'POST',
      headers: { authorization: 'Bearer k', 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL }),
    });
    expect(((await noName.json()) as any).ResponseMetadata.Error.Code).toBe(
      'MissingParameter.Name',
    );
  });
});
