/**
 * A corpus of hostile requests against a real server: each gets a 4xx answer or a GraphQL error
 * with a code from the closed list, never a 500, never a crash; the server answers normally
 * afterwards and has logged no error.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors/codes.js';
import { errorCodes, startTestGateway, type TestGateway } from '../helpers/http-gateway.js';

let gateway: TestGateway;
beforeAll(async () => {
  gateway = await startTestGateway();
});
afterAll(() => gateway?.stop());

const KEY = { authorization: 'Bearer hostile-test-key' };

interface Answer {
  status: number;
  text: string;
}

/** A raw request with exact bytes and headers (fetch would fix some of them up). */
function raw(
  method: string,
  body: Buffer | string | null,
  headers: Record<string, string>,
  path = '/graphql',
): Promise<Answer> {
  const url = new URL(gateway.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: url.hostname, port: url.port, path, method, headers: { ...KEY, ...headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
      },
    );
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}

const json = (body: unknown, headers: Record<string, string> = {}) =>
  raw('POST', typeof body === 'string' ? body : JSON.stringify(body), {
    'content-type': 'application/json',
    ...headers,
  });
const op = (query: string, variables?: unknown) =>
  json({ query, ...(variables === undefined ? {} : { variables }) });

const nested = (open: string, close: string, n: number) => open.repeat(n) + close.repeat(n);
const aliases = (n: number) =>
  `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
const addAsset = (url: string) =>
  op(
    'mutation($u: String!) { addAssets(groupId: "g", assets: [{ url: $u, type: IMAGE }]) { failures { code } } }',
    { u: url },
  );
const fragmentBomb = [
  'query { ...F30 }',
  'fragment F0 on Query { __typename }',
  ...Array.from({ length: 30 }, (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`),
].join('\n');
let deepJson = '1';
for (let i = 0; i < 50_000; i++) deepJson = `[${deepJson}]`;

/** [name, request, expected status, expected codes (undefined: any from the closed list)] */
const CORPUS: Array<[string, () => Promise<Answer>, number, string[] | undefined]> = [
  ['malformed JSON', () => json('{ "query": '), 400, ['BAD_REQUEST']],
  ['JSON with a trailing comma', () => json('{"query": "{ __typename }",}'), 400, ['BAD_REQUEST']],
  ['an empty JSON body', () => json(''), 400, ['BAD_REQUEST']],
  ['a JSON null body', () => json('null'), 400, ['BAD_REQUEST']],
  ['a JSON string body', () => json('"{ __typename }"'), 400, ['BAD_REQUEST']],
  ['a JSON number body', () => json('42'), 400, ['BAD_REQUEST']],
  ['an empty object', () => json({}), 400, ['BAD_REQUEST']],
  ['a query that is not a string', () => json({ query: 42 }), 400, ['BAD_REQUEST']],
  [
    'variables that are not an object',
    () => json({ query: '{ __typename }', variables: 'x' }),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'text/plain (a CSRF-able simple request)',
    () =>
      raw('POST', JSON.stringify({ query: '{ __typename }' }), { 'content-type': 'text/plain' }),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'a form post',
    () =>
      raw('POST', 'query=%7B__typename%7D', {
        'content-type': 'application/x-www-form-urlencoded',
      }),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'multipart/form-data',
    () =>
      raw('POST', '--b\r\n\r\nx\r\n--b--', { 'content-type': 'multipart/form-data; boundary=b' }),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'application/xml with the preflight header',
    () =>
      raw('POST', '<query/>', {
        'content-type': 'application/xml',
        'apollo-require-preflight': 'true',
      }),
    400,
    ['BAD_REQUEST'],
  ],
  ['no content type', () => raw('POST', '{"query":"{ __typename }"}', {}), 400, ['BAD_REQUEST']],
  [
    'a latin1 charset',
    () =>
      raw('POST', '{"query":"{ __typename }"}', {
        'content-type': 'application/json; charset=latin1',
      }),
    415,
    ['BAD_REQUEST'],
  ],
  [
    'bytes that are not UTF-8',
    () =>
      raw(
        'POST',
        Buffer.concat([
          Buffer.from('{"query":"mutation { createGroup(input: { name: \\"'),
          Buffer.from([0xff, 0xfe, 0xc3, 0x28]),
          Buffer.from('\\" }) { id } }"}'),
        ]),
        { 'content-type': 'application/json' },
      ),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'a 2 MiB body',
    () => op(`{ __typename } # ${'x'.repeat(2 * 1024 * 1024)}`),
    413,
    ['PAYLOAD_TOO_LARGE'],
  ],
  [
    'a lying content-length',
    () =>
      raw('POST', '{"query":"{ __typename }"}', {
        'content-type': 'application/json',
        'content-length': String(10 * 1024 * 1024),
      }).catch(() => ({ status: 413, text: '{}' })),
    413,
    undefined,
  ],
  ['a JSON array batch', () => json([{ query: '{ __typename }' }]), 400, ['BATCH_TOO_LARGE']],
  [
    'a batch of 100',
    () => json(Array(100).fill({ query: '{ groups { total } }' })),
    400,
    ['BATCH_TOO_LARGE'],
  ],
  ['5000 nested selections', () => op(nested('{ a ', '}', 5000)), 400, ['QUERY_TOO_DEEP']],
  ['5000 nested lists', () => op(`{ a(x: ${nested('[', ']', 5000)}) }`), 400, ['QUERY_TOO_DEEP']],
  [
    'fields 11 deep',
    () =>
      op(
        '{ groups { items { assets { items { group { assets { items { group { assets { items { id } } } } } } } } } } }',
      ),
    400,
    ['QUERY_TOO_DEEP'],
  ],
  ['1000 aliases', () => op(aliases(1000)), 400, ['TOO_MANY_ALIASES']],
  [
    'a cost bomb',
    () =>
      op(
        '{ groups(pageSize: 100) { items { assets(pageSize: 100) { items { group { id } } } } } }',
      ),
    400,
    ['QUERY_TOO_COMPLEX'],
  ],
  ['an exponential fragment bomb', () => op(fragmentBomb), 400, undefined],
  [
    'a fragment cycle',
    () => op('{ ...A } fragment A on Query { ...B } fragment B on Query { ...A }'),
    400,
    ['GRAPHQL_VALIDATION_FAILED'],
  ],
  ['20000 tokens', () => op(`{ ${'__typename '.repeat(20_000)}}`), 400, ['GRAPHQL_PARSE_FAILED']],
  [
    'a 100 kB string variable',
    () =>
      op('mutation($n: String!) { createGroup(input: { name: $n }) { id } }', {
        n: 'x'.repeat(100_000),
      }),
    400,
    ['INPUT_TOO_LARGE'],
  ],
  [
    'a 3000-character string literal',
    () => op(`mutation { createGroup(input: { name: "${'x'.repeat(3000)}" }) { id } }`),
    400,
    ['INPUT_TOO_LARGE'],
  ],
  [
    '5000 ids in a variable',
    () =>
      op('query($v: [ID!]) { groups(filter: { ids: $v }) { total } }', {
        v: Array(5000).fill('g'),
      }),
    400,
    ['INPUT_TOO_LARGE'],
  ],
  [
    'variables nested 50000 deep',
    () => json(`{"query":"{ __typename }","variables":{"v":${deepJson}}}`),
    400,
    undefined,
  ],
  ['a javascript: URL', () => addAsset('javascript:alert(1)'), 200, ['BAD_USER_INPUT']],
  ['a file: URL', () => addAsset('file:///etc/passwd'), 200, ['BAD_USER_INPUT']],
  ['a data: URL', () => addAsset('data:image/png;base64,iVBORw0KGgo='), 200, ['BAD_USER_INPUT']],
  // Issue 15: URLs at internal addresses, and control characters that `URL` would drop.
  [
    'the cloud metadata address',
    () => addAsset('http://169.254.169.254/latest/meta-data/'),
    200,
    ['BAD_USER_INPUT'],
  ],
  ['the local Redis', () => addAsset('http://127.0.0.1:6379/'), 200, ['BAD_USER_INPUT']],
  ['loopback in hex', () => addAsset('http://0x7f000001/a.png'), 200, ['BAD_USER_INPUT']],
  ['localhost', () => addAsset('http://localhost/a.png'), 200, ['BAD_USER_INPUT']],
  ['a private range', () => addAsset('https://10.1.2.3/a.png'), 200, ['BAD_USER_INPUT']],
  ['IPv6 loopback', () => addAsset('http://[::1]/a.png'), 200, ['BAD_USER_INPUT']],
  [
    'IPv4-mapped IPv6 loopback',
    () => addAsset('http://[::ffff:127.0.0.1]/a.png'),
    200,
    ['BAD_USER_INPUT'],
  ],
  ['IPv6 link-local', () => addAsset('http://[fe80::1]/a.png'), 200, ['BAD_USER_INPUT']],
  [
    'CR/LF in an asset URL',
    () => addAsset('https://cdn.example.com/a.png\r\nX-Injected: 1'),
    200,
    ['BAD_USER_INPUT'],
  ],
  [
    'CR/LF in a callbackUrl',
    () =>
      op('mutation($u: String!) { startRealPersonVerification(callbackUrl: $u) { token } }', {
        u: 'https://app.example.com/done\r\nSet-Cookie: a=b',
      }),
    200,
    ['BAD_USER_INPUT'],
  ],
  [
    'NUL in a group name',
    () =>
      op('mutation($n: String!) { createGroup(input: { name: $n }) { id } }', { n: 'a\u0000b' }),
    200,
    ['BAD_USER_INPUT'],
  ],
  [
    'a right-to-left override in a group name',
    () =>
      op('mutation($n: String!) { createGroup(input: { name: $n }) { id } }', {
        n: 'invoice\u202Egnp.exe',
      }),
    200,
    ['BAD_USER_INPUT'],
  ],
  [
    'an isolate in a description',
    () =>
      op('mutation($d: String!) { createGroup(input: { name: "n", description: $d }) { id } }', {
        d: 'x\u2066y',
      }),
    200,
    ['BAD_USER_INPUT'],
  ],
  [
    '2,400 repeated fields (quadratic validation)',
    () => op(`{ ${'groups { total } '.repeat(2400)}}`),
    400,
    ['QUERY_TOO_COMPLEX'],
  ],
  [
    'an unknown enum value inline',
    () =>
      op(
        'mutation { addAssets(groupId: "g", assets: [{ url: "https://e.com/a", type: PDF }]) { failures { code } } }',
      ),
    400,
    ['GRAPHQL_VALIDATION_FAILED'],
  ],
  [
    'an unknown enum value in a variable',
    () =>
      op('query($s: [AssetStatus!]) { assets(filter: { statuses: $s }) { total } }', {
        s: ['DELETED'],
      }),
    400,
    ['BAD_USER_INPUT'],
  ],
  [
    '__proto__ in the body',
    () =>
      json(
        '{"__proto__": {"query": "mutation { deleteGroup(id: \\"x\\") }"}, "query": "{ __typename }"}',
      ),
    200,
    [],
  ],
  [
    '__proto__ in variables',
    () =>
      json(
        '{"query": "query($v: [ID!]) { groups(filter: { ids: $v }) { total } }", "variables": {"__proto__": {"v": ["polluted"]}}}',
      ),
    200,
    [],
  ],
  [
    '__proto__ in an input object',
    () =>
      json(
        '{"query": "mutation($i: CreateGroupInput!) { createGroup(input: $i) { id } }", "variables": {"i": {"name": "x", "__proto__": {"admin": true}}}}',
      ),
    400,
    ['BAD_USER_INPUT'],
  ],
  [
    'a mutation over GET',
    () =>
      raw(
        'GET',
        null,
        { 'apollo-require-preflight': 'true' },
        `/graphql?query=${encodeURIComponent('mutation { deleteGroup(id: "g") }')}`,
      ),
    405,
    ['BAD_REQUEST'],
  ],
  [
    'a GET without the CSRF preflight header',
    () => raw('GET', null, {}, `/graphql?query=${encodeURIComponent('{ __typename }')}`),
    400,
    ['BAD_REQUEST'],
  ],
  [
    'a deep GET query',
    () =>
      raw(
        'GET',
        null,
        { 'apollo-require-preflight': 'true' },
        `/graphql?query=${encodeURIComponent(nested('{a', '}', 500))}`,
      ),
    400,
    ['QUERY_TOO_DEEP'],
  ],
  [
    'an unknown operationName',
    () => json({ query: 'query A { __typename }', operationName: 'B' }),
    400,
    ['OPERATION_RESOLUTION_FAILURE'],
  ],
  ['PUT', () => raw('PUT', '{}', { 'content-type': 'application/json' }), 405, ['BAD_REQUEST']],
  [
    'a NUL and a lone surrogate in a variable',
    () =>
      json(
        '{"query": "mutation($n: String!) { createGroup(input: { name: $n }) { id } }", "variables": {"n": "a\\u0000b\\ud800"}}',
      ),
    200,
    undefined,
  ],
  [
    'a lone surrogate escaped in the query',
    () => json('{"query": "mutation { createGroup(input: { name: \\"\\\\ud800\\" }) { id } }"}'),
    400,
    ['GRAPHQL_PARSE_FAILED'],
  ],
];

describe('hostile requests', () => {
  it.each(CORPUS)(
    '%s: a 4xx or a coded GraphQL error, never a 500',
    async (_, send, status, codes) => {
      const answer = await send();
      expect(answer.status).toBe(status);
      let body: any = null;
      try {
        body = JSON.parse(answer.text);
      } catch {
        // Only the 405/404 plain-text answers are not JSON.
      }
      const seen = errorCodes(body);
      for (const code of seen) {
        expect(ERROR_CODES).toContain(code);
        expect(code).not.toBe('INTERNAL_SERVER_ERROR');
      }
      if (codes !== undefined) expect(seen).toEqual(codes);
    },
  );

  it('still answers afterwards, with nothing logged as an error and no prototype polluted', async () => {
    const answer = await gateway.gql('{ groups { total } }', undefined, KEY);
    expect(answer.status).toBe(200);
    expect(answer.body.data.groups.total).toBeGreaterThanOrEqual(0);
    expect(gateway.logs().filter((l) => l.level >= 50)).toEqual([]);
    expect(({} as Record<string, unknown>)['query']).toBeUndefined();
    expect(({} as Record<string, unknown>)['admin']).toBeUndefined();
  });
});
