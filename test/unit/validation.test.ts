import { describe, expect, it } from 'vitest';
import { BadUserInputError } from '../../src/errors/gateway-error.js';
import {
  checkAssetUrl,
  checkBatch,
  checkCallbackUrl,
  checkDescription,
  checkEnumList,
  checkId,
  checkIds,
  checkName,
  checkNameFilter,
  checkPage,
  checkPageSize,
  checkToken,
} from '../../src/validation.js';

/** Runs `fn` and returns the BadUserInputError it throws. */
function refusal(fn: () => unknown): BadUserInputError {
  try {
    fn();
  } catch (error) {
    if (error instanceof BadUserInputError) return error;
    throw error;
  }
  throw new Error('expected a BadUserInputError');
}

describe('checkName', () => {
  it('trims and accepts 1-64 characters', () => {
    expect(checkName('  Mascot  ', 'input.name')).toBe('Mascot');
    expect(checkName('x'.repeat(64), 'input.name')).toHaveLength(64);
    expect(checkName('😀'.repeat(64), 'input.name')).toHaveLength(128); // 64 characters
  });

  it('refuses blank and too long names, naming the field', () => {
    const blank = refusal(() => checkName('   ', 'input.name'));
    expect(blank.message).toBe('input.name must not be blank.');
    expect(blank.extensions).toEqual({ code: 'BAD_USER_INPUT', field: 'input.name' });
    expect(refusal(() => checkName('x'.repeat(65), 'name')).message).toMatch(/at most 64/);
  });
});

describe('checkDescription', () => {
  it('accepts up to 300 characters and empty', () => {
    expect(checkDescription('x'.repeat(300), 'd')).toHaveLength(300);
    expect(checkDescription('  ', 'd')).toBe('');
  });
  it('refuses 301 characters', () => {
    expect(
      refusal(() => checkDescription('x'.repeat(301), 'input.description')).extensions,
    ).toMatchObject({
      field: 'input.description',
    });
  });
});

describe('ids', () => {
  it('accepts ids up to 128 characters', () => {
    expect(checkId('group-1', 'id')).toBe('group-1');
    expect(checkId('x'.repeat(128), 'id')).toHaveLength(128);
  });
  it('refuses empty and too long ids', () => {
    expect(refusal(() => checkId('', 'id')).message).toBe('id must not be empty.');
    expect(refusal(() => checkId(' ', 'id')).message).toBe('id must not be empty.');
    expect(refusal(() => checkId('x'.repeat(129), 'id')).message).toMatch(/at most 128/);
  });
  it('checks id lists: absent, de-duplicated, 1-100, each valid with its index', () => {
    expect(checkIds(undefined, 'filter.ids')).toBeUndefined();
    expect(checkIds(null, 'filter.ids')).toBeUndefined();
    expect(checkIds(['a', 'a', 'b'], 'filter.ids')).toEqual(['a', 'b']);
    expect(refusal(() => checkIds([], 'filter.ids')).message).toMatch(/must not be empty/);
    expect(refusal(() => checkIds(Array(101).fill('a'), 'filter.ids')).message).toMatch(
      /at most 100/,
    );
    expect(refusal(() => checkIds(['a', ''], 'filter.ids')).extensions.field).toBe('filter.ids[1]');
  });
});

describe('paging', () => {
  it('accepts page >= 1 and page sizes 1-100', () => {
    expect(checkPage(1, 'page')).toBe(1);
    expect(checkPageSize(1, 'pageSize')).toBe(1);
    expect(checkPageSize(100, 'pageSize')).toBe(100);
  });
  it.each([0, -1])('refuses page %d', (page) => {
    expect(refusal(() => checkPage(page, 'page')).extensions.field).toBe('page');
  });
  it.each([0, 101, -5])('refuses page size %d', (size) => {
    expect(refusal(() => checkPageSize(size, 'pageSize')).message).toBe(
      'pageSize must be from 1 to 100.',
    );
  });
});

describe('checkBatch', () => {
  it('accepts 1-20 items', () => {
    expect(checkBatch([1], 'assets')).toEqual([1]);
    expect(checkBatch(Array(20).fill(1), 'assets')).toHaveLength(20);
  });
  it('refuses empty and over-large batches', () => {
    expect(refusal(() => checkBatch([], 'assets')).message).toBe('assets must not be empty.');
    expect(refusal(() => checkBatch(Array(21).fill(1), 'assets')).message).toMatch(/at most 20/);
  });
});

describe('checkAssetUrl', () => {
  it.each(['https://cdn.example.com/a.jpg', 'http://example.com/v.mp4?sig=1'])(
    'accepts %s',
    (url) => {
      expect(checkAssetUrl(url, 'assets[0].url')).toBe(url);
    },
  );
  it.each([
    'javascript:alert(1)',
    'file:///etc/passwd',
    'data:image/png;base64,AAAA',
    'ftp://example.com/a.jpg',
    '/relative/path.jpg',
    'example.com/a.jpg',
    'https://user:pw@example.com/a.jpg',
    `https://example.com/${'x'.repeat(2050)}`,
  ])('refuses %s', (url) => {
    expect(refusal(() => checkAssetUrl(url, 'assets[3].url')).extensions).toMatchObject({
      code: 'BAD_USER_INPUT',
      field: 'assets[3].url',
    });
  });
});

describe('checkCallbackUrl', () => {
  it.each([
    'https://app.example.com/done',
    'http://localhost:3000/done',
    'http://127.0.0.1/done',
    'http://[::1]:8080/done',
  ])('accepts %s', (url) => {
    expect(checkCallbackUrl(url, 'callbackUrl')).toBe(url);
  });
  it.each([
    'http://app.example.com/done',
    'http://127.0.0.2/done',
    'javascript:alert(1)',
    'ftp://localhost/done',
    'not a url',
  ])('refuses %s', (url) => {
    expect(refusal(() => checkCallbackUrl(url, 'callbackUrl')).extensions.field).toBe(
      'callbackUrl',
    );
  });
});

describe('filters and tokens', () => {
  it('treats blank name filters as no filter and refuses long ones', () => {
    expect(checkNameFilter('  ', 'filter.nameContains')).toBeUndefined();
    expect(checkNameFilter(' mas ', 'filter.nameContains')).toBe('mas');
    expect(
      refusal(() => checkNameFilter('x'.repeat(65), 'filter.nameContains')).extensions.field,
    ).toBe('filter.nameContains');
  });
  it('treats empty enum lists as no filter and de-duplicates', () => {
    expect(checkEnumList([])).toBeUndefined();
    expect(checkEnumList(['A', 'A', 'B'])).toEqual(['A', 'B']);
  });
  it('checks tokens', () => {
    expect(checkToken(' T1 ', 'token')).toBe('T1');
    expect(refusal(() => checkToken('', 'token')).message).toBe('token must not be empty.');
    expect(refusal(() => checkToken('x'.repeat(257), 'token')).message).toMatch(/at most 256/);
  });
});

describe('issue 15: what is forwarded is what was checked', () => {
  it('forwards URLs in their normalised form', () => {
    expect(checkAssetUrl(' HTTPS://CDN.Example.com:443/a b.png ', 'u')).toBe(
      'https://cdn.example.com/a%20b.png',
    );
    expect(checkCallbackUrl('https://App.example.com/done?x=1#top', 'u')).toBe(
      'https://app.example.com/done?x=1#top',
    );
  });

  it.each([
    'https://cdn.example.com/a.png\r\nX-Injected: 1',
    'https://cdn.example.com/a\n.png',
    'https://cdn.example.com/\ta.png',
    'https://cdn.example.com/a.png\u0000',
  ])('refuses control characters that URL would drop: %j', (url) => {
    expect(refusal(() => checkAssetUrl(url, 'u')).message).toMatch(/control characters/);
    expect(refusal(() => checkCallbackUrl(url, 'u')).message).toMatch(/control characters/);
  });

  it.each([
    'http://169.254.169.254/latest/meta-data/',
    'http://127.0.0.1:6379/',
    'http://127.1/',
    'http://0x7f000001/',
    'http://2130706433/',
    'http://0.0.0.0/',
    'http://10.0.0.8/',
    'http://172.16.5.4/',
    'http://192.168.1.1/',
    'http://100.64.0.1/',
    'http://localhost/',
    'http://api.localhost./',
    'http://[::1]/',
    'http://[::]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:a9fe:a9fe]/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
  ])('refuses the internal address %s for assets, unless allowed', (url) => {
    expect(refusal(() => checkAssetUrl(url, 'assets[0].url')).message).toMatch(
      /must point to a public host/,
    );
    expect(() => checkAssetUrl(url, 'assets[0].url', { allowInternal: true })).not.toThrow();
  });

  it.each(['https://cdn.example.com/a.png', 'https://8.8.8.8/a.png', 'https://[2001:db8::1]/a'])(
    'accepts the public host of %s',
    (url) => {
      expect(() => checkAssetUrl(url, 'u')).not.toThrow();
    },
  );

  it.each([
    ['NUL', 'a\u0000b', /control characters/],
    ['a line break', 'a\nb', /control characters/],
    ['ESC', 'a\u001b[31mb', /control characters/],
    ['a C1 control', 'a\u0085b', /control characters/],
    ['a right-to-left override', 'invoice\u202Egnp.exe', /bidirectional/],
    ['a left-to-right embedding', 'a\u202Ab', /bidirectional/],
    ['a first-strong isolate', 'a\u2068b', /bidirectional/],
  ])('refuses %s in names, descriptions and name filters', (_, text, message) => {
    expect(refusal(() => checkName(text, 'input.name')).message).toMatch(message);
    expect(refusal(() => checkDescription(text, 'input.description')).message).toMatch(message);
    expect(refusal(() => checkNameFilter(text, 'filter.nameContains')).message).toMatch(message);
  });

  it('still accepts names in any script, emoji included', () => {
    expect(checkName('  Ünïcødé 名前 😀 שלום ', 'n')).toBe('Ünïcødé 名前 😀 שלום');
  });
});
