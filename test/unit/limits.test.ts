import { buildSchema, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import {
  checkHttpOperations,
  checkOperation,
  checkSource,
  checkVariables,
  MAX_VARIABLES_NESTING,
  sourceNestingLimit,
} from '../../src/security/limits.js';

const limits = loadConfig({}).limits;

const schema = buildSchema(`
  type Query {
    groups(pageSize: Int = 10): GroupPage!
    group(id: ID!): Group
    node(first: Int): [Group!]!
  }
  type Mutation { createGroup(name: String!): Group! }
  type GroupPage { total: Int!, items: [Group!]! }
  type Group { id: ID!, name: String!, parent: Group, assets(pageSize: Int = 10): AssetPage! }
  type AssetPage { total: Int!, items: [Asset!]! }
  type Asset { id: ID!, group: Group }
`);

function check(query: string, variables: Record<string, unknown> = {}, operationName?: string) {
  const document = parse(query);
  expect(validate(schema, document)).toEqual([]);
  return checkOperation(
    { schema, document, variables, operationName: operationName ?? null },
    limits,
  );
}

describe('checkSource (before parsing)', () => {
  it('lets ordinary queries through', () => {
    expect(checkSource('query($v: [ID!]) { groups(filter: { ids: $v }) { total } }', limits)).toBe(
      null,
    );
  });

  it('refuses bracket nesting that would exhaust the parser, whatever the brackets', () => {
    const max = sourceNestingLimit(limits.maxDepth);
    for (const [open, close] of [
      ['{a', '}'],
      ['[', ']'],
      ['(a:', ')'],
    ] as const) {
      const deep = `{ f(x: ${open.repeat(5000)}1${close.repeat(5000)}) }`;
      expect(checkSource(deep, limits)?.extensions.code).toBe('QUERY_TOO_DEEP');
    }
    expect(checkSource(`${'{a'.repeat(max)}${'}'.repeat(max)}`, limits)).toBe(null);
    expect(checkSource(`${'{a'.repeat(max + 1)}${'}'.repeat(max + 1)}`, limits)).not.toBe(null);
  });

  it('leaves syntax errors and brackets inside strings to the parser', () => {
    expect(
      checkSource('{ a(x: "{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{{") }', limits),
    ).toBe(null);
    expect(checkSource('{ a(x: "unterminated }', limits)).toBe(null);
  });
});

describe('checkHttpOperations', () => {
  it('refuses any batch by default, and batches over the limit when configured', () => {
    expect(checkHttpOperations([{ query: '{a}' }], limits)?.extensions.code).toBe(
      'BATCH_TOO_LARGE',
    );
    const five = { ...limits, maxBatch: 5 };
    expect(checkHttpOperations(Array(5).fill({ query: '{a}' }), five)).toBe(null);
    expect(checkHttpOperations(Array(6).fill({ query: '{a}' }), five)?.extensions).toMatchObject({
      code: 'BATCH_TOO_LARGE',
      maxBatch: 5,
    });
  });

  it('checks the source of each operation, and ignores what Apollo will refuse itself', () => {
    expect(checkHttpOperations({ query: '{a'.repeat(100) }, limits)?.extensions.code).toBe(
      'QUERY_TOO_DEEP',
    );
    for (const body of [undefined, null, 42, 'text', { query: 42 }, {}]) {
      expect(checkHttpOperations(body, limits)).toBe(null);
    }
  });
});

describe('checkVariables', () => {
  it('caps each string, each list and the nesting, naming the path', () => {
    expect(checkVariables({ a: { b: ['x'.repeat(2049)] } }, limits)?.extensions).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      field: 'variables.a.b[0]',
    });
    expect(checkVariables({ ids: Array(1001).fill('g') }, limits)?.extensions).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      field: 'variables.ids',
    });
    let deep: unknown = 1;
    for (let i = 0; i < 10_000; i++) deep = [deep];
    expect(checkVariables({ deep }, limits)?.message).toContain(
      `nested more than ${MAX_VARIABLES_NESTING} levels`,
    );
    expect(checkVariables({ s: 'x'.repeat(2048), ids: Array(1000).fill('g') }, limits)).toBe(null);
  });

  it('caps the total size', () => {
    const many = Object.fromEntries(
      Array.from({ length: 40 }, (_, i) => [`v${i}`, 'x'.repeat(2000)]),
    );
    expect(checkVariables(many, limits)?.extensions).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      field: 'variables',
    });
  });

  it('treats __proto__ as an ordinary key', () => {
    const variables = JSON.parse('{"__proto__": {"polluted": "x"}, "ok": 1}') as object;
    expect(checkVariables(variables, limits)).toBe(null);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('checkOperation', () => {
  it('counts field depth through fragments, and skips introspection', () => {
    const nested = (n: number) =>
      `${'{ group(id: "g") '.repeat(1)}${'{ parent '.repeat(n - 2)}{ id }${' }'.repeat(n - 2)} }`;
    expect(check(nested(10))).toBe(null);
    expect(check(nested(11))?.extensions).toMatchObject({ code: 'QUERY_TOO_DEEP', maxDepth: 10 });
    const viaFragments = `
      { group(id: "g") { ...A } }
      fragment A on Group { parent { parent { parent { ...B } } } }
      fragment B on Group { parent { parent { parent { parent { parent { parent { id } } } } } } }
    `;
    expect(check(viaFragments)?.extensions.code).toBe('QUERY_TOO_DEEP');
    const introspection = `{ __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }`;
    expect(check(introspection)).toBe(null);
  });

  it('counts aliases', () => {
    const aliases = (n: number) =>
      `{ ${Array.from({ length: n }, (_, i) => `a${i}: __typename`).join(' ')} }`;
    expect(check(aliases(30))).toBe(null);
    expect(check(aliases(31))?.extensions).toMatchObject({
      code: 'TOO_MANY_ALIASES',
      maxAliases: 30,
    });
  });

  it('caps strings and lists written into the document', () => {
    expect(check(`{ group(id: "${'x'.repeat(2049)}") { id } }`)?.extensions).toMatchObject({
      code: 'INPUT_TOO_LARGE',
      field: 'query',
    });
  });

  it('weighs paged fields by pageSize or first, defaults and variables included', () => {
    expect(check('{ groups { items { id assets { items { id } } } } }')).toBe(null);
    expect(check('{ groups(pageSize: 100) { items { id name } } }')).toBe(null);
    const nestedPages =
      'query($n: Int) { groups(pageSize: $n) { items { assets(pageSize: $n) { items { group { id } } } } } }';
    expect(check(nestedPages, { n: 5 })).toBe(null);
    expect(check(nestedPages, { n: 100 })?.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      maxCost: 1000,
      cost: 1 + 100 * (1 + 1 + 100 * (1 + 1)),
    });
    expect(check('{ node(first: 2000) { parent { id } } }')?.extensions.code).toBe(
      'QUERY_TOO_COMPLEX',
    );
  });

  it('adds 10 per mutation field', () => {
    const mutations = (n: number) =>
      `mutation { ${Array.from({ length: n }, (_, i) => `m${i}: createGroup(name: "x") { id }`).join(' ')} }`;
    expect(check(mutations(30))).toBe(null);
    expect(
      checkOperation({ schema, document: parse(mutations(30)) }, { ...limits, maxCost: 300 })
        ?.extensions.code,
    ).toBe('QUERY_TOO_COMPLEX');
  });

  it('picks the named operation', () => {
    const two =
      'query Small { group(id: "g") { id } } query Big { groups(pageSize: 100) { items { assets(pageSize: 100) { items { id } } } } }';
    expect(check(two, {}, 'Small')).toBe(null);
    expect(check(two, {}, 'Big')?.extensions.code).toBe('QUERY_TOO_COMPLEX');
  });
});
