/**
 * Every argument rule, through the API: a clear BAD_USER_INPUT naming the argument, and not a
 * single upstream call.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startApi, type Api } from '../helpers/api-harness.js';

let api: Api;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.stop());
beforeEach(() => {
  api.calls.length = 0;
});

const long = (n: number) => 'x'.repeat(n);
const assets = (n: number) =>
  Array.from({ length: n }, (_, i) => ({ url: `https://e.com/${i}.jpg`, type: 'IMAGE' }));

const CASES: Array<[string, string, Record<string, unknown>, string]> = [
  // [what, operation, variables, field]
  [
    'a blank group name',
    'mutation($v: String!) { createGroup(input: { name: $v }) { id } }',
    { v: '   ' },
    'input.name',
  ],
  [
    'a 65-character group name',
    'mutation($v: String!) { createGroup(input: { name: $v }) { id } }',
    { v: long(65) },
    'input.name',
  ],
  [
    'a 301-character description',
    'mutation($v: String!) { createGroup(input: { name: "ok", description: $v }) { id } }',
    { v: long(301) },
    'input.description',
  ],
  ['an update without changes', 'mutation { updateGroup(id: "g", input: {}) { id } }', {}, 'input'],
  [
    'a blank new group name',
    'mutation { updateGroup(id: "g", input: { name: "" }) { id } }',
    {},
    'input.name',
  ],
  [
    'a 301-character new description',
    'mutation($v: String!) { updateGroup(id: "g", input: { description: $v }) { id } }',
    { v: long(301) },
    'input.description',
  ],
  ['an empty group id', 'mutation { updateGroup(id: "", input: { name: "x" }) { id } }', {}, 'id'],
  ['a 129-character group id', 'query($v: ID!) { group(id: $v) { id } }', { v: long(129) }, 'id'],
  ['an empty asset id', 'query { asset(id: " ") { id } }', {}, 'id'],
  ['an empty id to delete', 'mutation { deleteGroup(id: "") }', {}, 'id'],
  ['an empty asset id to delete', 'mutation { deleteAsset(id: "") }', {}, 'id'],
  ['page 0', '{ groups(page: 0) { total } }', {}, 'page'],
  ['page size 0', '{ groups(pageSize: 0) { total } }', {}, 'pageSize'],
  ['page size 101', '{ assets(pageSize: 101) { total } }', {}, 'pageSize'],
  ['a negative asset page', '{ assets(page: -1) { total } }', {}, 'page'],
  ['an empty id filter', '{ groups(filter: { ids: [] }) { total } }', {}, 'filter.ids'],
  [
    '101 ids in a filter',
    'query($v: [ID!]) { groups(filter: { ids: $v }) { total } }',
    { v: Array(101).fill('g') },
    'filter.ids',
  ],
  [
    'a blank id in a filter',
    '{ assets(filter: { groupIds: ["g", ""] }) { total } }',
    {},
    'filter.groupIds[1]',
  ],
  [
    'a 65-character name filter',
    'query($v: String) { groups(filter: { nameContains: $v }) { total } }',
    { v: long(65) },
    'filter.nameContains',
  ],
  [
    'an empty batch',
    'mutation { addAssets(groupId: "g", assets: []) { failures { index } } }',
    {},
    'assets',
  ],
  [
    '21 assets in a batch',
    'mutation($v: [NewAssetInput!]!) { addAssets(groupId: "g", assets: $v) { failures { index } } }',
    { v: assets(21) },
    'assets',
  ],
  [
    'an empty group id for assets',
    'mutation { addAssets(groupId: "", assets: [{ url: "https://e.com/a.jpg", type: IMAGE }]) { failures { index } } }',
    {},
    'groupId',
  ],
  ...[
    'javascript:alert(1)',
    'file:///etc/passwd',
    'data:image/png;base64,AAAA',
    'ftp://e.com/a.jpg',
    'e.com/a.jpg',
  ].map((url): [string, string, Record<string, unknown>, string] => [
    `the asset URL ${url}`,
    'mutation($v: String!) { addAssets(groupId: "g", assets: [{ url: "https://e.com/ok.jpg", type: IMAGE }, { url: $v, type: IMAGE }]) { failures { index } } }',
    { v: url },
    'assets[1].url',
  ]),
  [
    'a blank asset name',
    'mutation { addAssets(groupId: "g", assets: [{ url: "https://e.com/a.jpg", type: IMAGE, name: " " }]) { failures { index } } }',
    {},
    'assets[0].name',
  ],
  ['a blank new asset name', 'mutation { renameAsset(id: "a", name: "  ") { id } }', {}, 'name'],
  [
    'a 65-character new asset name',
    'mutation($v: String!) { renameAsset(id: "a", name: $v) { id } }',
    { v: long(65) },
    'name',
  ],
  ...['http://app.example.com/cb', 'javascript:alert(1)', '/relative', 'ftp://localhost/cb'].map(
    (url): [string, string, Record<string, unknown>, string] => [
      `the callback URL ${url}`,
      'mutation($v: String!) { startRealPersonVerification(callbackUrl: $v) { token } }',
      { v: url },
      'callbackUrl',
    ],
  ),
  ['an empty token', 'mutation { completeRealPersonVerification(token: "") { id } }', {}, 'token'],
  [
    'a 257-character token',
    'mutation($v: String!) { completeRealPersonVerification(token: $v) { id } }',
    { v: long(257) },
    'token',
  ],
];

describe('argument checks', () => {
  it.each(CASES)('refuses %s before any upstream call', async (_what, query, variables, field) => {
    const result = await api.exec(query, variables);
    expect(result.errors).toHaveLength(1);
    const [error] = result.errors!;
    expect(error!.extensions).toEqual({ code: 'BAD_USER_INPUT', field });
    expect(error!.message).toContain(field);
    expect(api.calls).toEqual([]);
  });

  it.each([
    'http://localhost:3000/cb',
    'http://127.0.0.1/cb',
    'http://[::1]/cb',
    'https://app.example.com/cb',
  ])('accepts the callback URL %s', async (url) => {
    const result = await api.exec(
      'mutation($v: String!) { startRealPersonVerification(callbackUrl: $v) { token } }',
      {
        v: url,
      },
    );
    expect(result.errors).toBeUndefined();
  });

  it('reports GraphQL type errors in variables as BAD_USER_INPUT too', async () => {
    const result = await api.exec('query($p: Int) { groups(page: $p) { total } }', { p: 'one' });
    expect(result.errors![0]!.extensions!.code).toBe('BAD_USER_INPUT');
    expect(api.calls).toEqual([]);
  });
});
