/**
 * Wire ↔ domain mapping, including the tolerated upstream variants (Unix-second times,
 * `TotalCount`, `Id` for `GroupId` in ⑫, `\u0026` in the H5 link, missing optional fields).
 */
import { describe, expect, it } from 'vitest';
import {
  guessType,
  toAsset,
  toDate,
  toGroup,
  toPage,
  toVerificationResult,
  unescapeLink,
} from '../../src/upstream/ark/mapping.js';

describe('toDate', () => {
  it('reads ISO strings, Unix seconds and (large) milliseconds', () => {
    expect(toDate('2026-06-01T11:17:15Z')).toEqual(new Date('2026-06-01T11:17:15Z'));
    expect(toDate(1_780_000_000)).toEqual(new Date(1_780_000_000_000));
    expect(toDate(1_780_000_000_000)).toEqual(new Date(1_780_000_000_000));
    expect(toDate(undefined)).toBeNull();
    expect(toDate('not a date')).toBeNull();
  });
});

describe('toGroup', () => {
  it('maps AIGC to VIRTUAL and LivenessFace to REAL', () => {
    expect(toGroup({ Id: 'g', GroupType: 'AIGC' }).kind).toBe('VIRTUAL');
    expect(toGroup({ Id: 'g', GroupType: 'LivenessFace' }).kind).toBe('REAL');
  });

  it('falls back to the filtered kind, then VIRTUAL, when GroupType is absent', () => {
    expect(toGroup({ Id: 'g' }, { kind: 'REAL' }).kind).toBe('REAL');
    expect(toGroup({ Id: 'g' })).toEqual({
      id: 'g',
      name: null,
      description: null,
      kind: 'VIRTUAL',
      createdAt: null,
      updatedAt: null,
    });
  });

  it('accepts Unix-second times', () => {
    expect(toGroup({ Id: 'g', CreateTime: 1_780_000_000 }).createdAt).toEqual(
      new Date(1_780_000_000_000),
    );
  });
});

describe('toAsset', () => {
  it('maps type, status and failure', () => {
    expect(
      toAsset({
        Id: 'a',
        GroupId: 'g',
        AssetType: 'Video',
        Status: 'Failed',
        Error: { Code: 'FaceMismatch', Message: 'Face consistency verification failed.' },
      }),
    ).toMatchObject({
      type: 'VIDEO',
      status: 'FAILED',
      failure: { code: 'FaceMismatch', message: 'Face consistency verification failed.' },
    });
    expect(toAsset({ Id: 'a', Status: 'Active', AssetType: 'Audio' })).toMatchObject({
      status: 'ACTIVE',
      type: 'AUDIO',
      failure: null,
      previewUrl: null,
    });
    expect(toAsset({ Id: 'a', Status: 'Processing' }).status).toBe('PROCESSING');
  });

  it('gives a FAILED asset without Error a failure anyway', () => {
    expect(toAsset({ Id: 'a', Status: 'Failed' }).failure).toEqual({
      code: 'Unknown',
      message: 'The upstream gave no reason.',
    });
  });

  it('falls back to the known group id and guesses the type from the URL', () => {
    expect(
      toAsset(
        { Id: 'a', Status: 'Active', URL: 'https://x/a.MP4?X-Tos-Expires=1' },
        { groupId: 'g' },
      ),
    ).toMatchObject({ groupId: 'g', type: 'VIDEO' });
    expect(guessType('https://x/voice.wav')).toBe('AUDIO');
    expect(guessType('https://x/face.png#x')).toBe('IMAGE');
    expect(guessType(undefined)).toBe('IMAGE');
  });
});

describe('toPage', () => {
  const asked = { page: 2, pageSize: 5 };
  it('reads Total, else TotalCount, else counts what it saw', () => {
    expect(toPage({ Total: 7, Items: [1] }, asked, String).total).toBe(7);
    expect(toPage({ TotalCount: 8, Items: [1] }, asked, String).total).toBe(8);
    expect(toPage({ Items: [1, 2] }, asked, String)).toEqual({
      items: ['1', '2'],
      total: 7,
      page: 2,
      pageSize: 5,
    });
  });

  it('without a count, a full page promises one more item, so pagers read on', () => {
    const full = toPage({ Items: [1, 2, 3, 4, 5] }, asked, String);
    expect(full.total).toBe(11);
    expect(full.page * full.pageSize < full.total).toBe(true);
    // The page after it is short (or empty): the total is exact and paging stops there.
    const last = toPage({ Items: [] }, { page: 3, pageSize: 5 }, String);
    expect(last.total).toBe(10);
    expect(last.page * last.pageSize >= last.total).toBe(true);
  });

  it('pages through a count-less upstream to its last item', () => {
    const all = Array.from({ length: 10 }, (_, i) => i);
    const read: number[] = [];
    for (let page = 1, pages = 1; page <= pages; page++) {
      const items = all.slice((page - 1) * 5, page * 5);
      const result = toPage({ Items: items }, { page, pageSize: 5 }, (n: number) => n);
      read.push(...result.items);
      pages = Math.ceil(result.total / 5);
    }
    expect(read).toEqual(all);
  });
});

describe('⑫ and ⑪ quirks', () => {
  it('GroupId or Id means VERIFIED; empty or absent means PENDING', () => {
    expect(toVerificationResult({ GroupId: 'g1' })).toEqual({ status: 'VERIFIED', groupId: 'g1' });
    expect(toVerificationResult({ Id: 'g2', GroupType: 'LivenessFace' })).toEqual({
      status: 'VERIFIED',
      groupId: 'g2',
    });
    expect(toVerificationResult({ GroupId: '' })).toEqual({ status: 'PENDING' });
    expect(toVerificationResult({})).toEqual({ status: 'PENDING' });
  });

  it('unescapes \\u0026 in the H5 link', () => {
    expect(unescapeLink('https://h5?a=1\\u0026b=2')).toBe('https://h5?a=1&b=2');
  });
});
