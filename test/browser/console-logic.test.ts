/**
 * The console's own logic, without a browser: how live events merge into a group's asset list
 * (STALE and RECOVERED included), that every error code of the gateway has words, and routes.
 */
import { describe, expect, it } from 'vitest';
import { EXPLAINED_CODES, explainCode } from '../../console/src/errors';
import { liveAssets, ordered, type LiveAsset } from '../../console/src/live-assets';
import { parseRoute } from '../../console/src/route';
import { ERROR_CODES } from '../../src/errors/codes.js';

const asset = (id: string, patch: Partial<LiveAsset> = {}): LiveAsset => ({
  id,
  type: 'IMAGE',
  status: 'PROCESSING',
  uri: `asset://${id}`,
  createdAt: `2026-12-01T05:00:0${id.slice(-1)}.000Z`,
  ...patch,
});

describe('a group’s live asset list', () => {
  it('follows STATUS events, marks STALE until RECOVERED, and drops DELETED assets', () => {
    let state = liveAssets(new Map(), { type: 'loaded', assets: [asset('a1'), asset('a2')] });
    state = liveAssets(state, {
      type: 'event',
      kind: 'STATUS',
      asset: asset('a1', { status: 'ACTIVE' }),
    });
    state = liveAssets(state, {
      type: 'event',
      kind: 'STALE',
      asset: asset('a2'),
      staleReason: 'UPSTREAM_UNAVAILABLE',
      staleSince: '2026-12-01T05:01:00.000Z',
    });
    expect(state.get('a1')?.status).toBe('ACTIVE');
    expect(state.get('a2')?.stale).toEqual({
      reason: 'UPSTREAM_UNAVAILABLE',
      since: '2026-12-01T05:01:00.000Z',
    });

    state = liveAssets(state, { type: 'event', kind: 'RECOVERED', asset: asset('a2') });
    expect(state.get('a2')?.stale).toBeNull();
    state = liveAssets(state, { type: 'event', kind: 'DELETED', asset: asset('a1') });
    expect([...state.keys()]).toEqual(['a2']);
  });

  it('keeps a final status that arrived before the list, and shows assets added later, newest first', () => {
    let state = liveAssets(new Map(), {
      type: 'event',
      kind: 'STATUS',
      asset: asset('a1', { status: 'FAILED', failure: { code: 'FaceMismatch', message: 'm' } }),
    });
    state = liveAssets(state, { type: 'loaded', assets: [asset('a1')] });
    expect(state.get('a1')?.status).toBe('FAILED');
    state = liveAssets(state, { type: 'added', assets: [asset('a3')] });
    state = liveAssets(state, { type: 'renamed', id: 'a3', name: 'front' });
    expect(ordered(state).map((a) => [a.id, a.name ?? null])).toEqual([
      ['a3', 'front'],
      ['a1', null],
    ]);
  });
});

describe('error messages', () => {
  it('has words for every extensions.code the gateway can send', () => {
    expect(ERROR_CODES.filter((code) => !EXPLAINED_CODES.includes(code))).toEqual([]);
  });

  it('keeps the gateway’s own message as detail, and falls back to it for an unknown code', () => {
    expect(explainCode('VERIFICATION_EXPIRED', 'Token expired.')).toEqual({
      code: 'VERIFICATION_EXPIRED',
      text: 'The verification token expired. Start a new verification.',
      detail: 'Token expired.',
    });
    expect(explainCode('SOMETHING_NEW', 'A new rule.').text).toBe('A new rule.');
  });
});

describe('routes', () => {
  it('reads the hash', () => {
    expect(parseRoute('#/groups/group-1%2F2')).toEqual({ page: 'group', id: 'group-1/2' });
    expect(parseRoute('#/verify')).toEqual({ page: 'verify' });
    expect(parseRoute('#/verified')).toEqual({ page: 'verified' });
    expect(parseRoute('')).toEqual({ page: 'groups' });
  });
});
