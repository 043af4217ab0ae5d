/**
 * The CPU budget of a document before validation (`selections.ts`), and the per-document
 * analysis cache HTTP and WebSocket share (`documents.ts`, `lru.ts`).
 */
import { getIntrospectionQuery, parse, validate } from 'graphql';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { buildSchema } from '../../src/graphql/schema.js';
import { createDocumentAnalyzer } from '../../src/security/documents.js';
import { checkHttpOperations } from '../../src/security/limits.js';
import { Lru } from '../../src/security/lru.js';
import { countSelections } from '../../src/security/selections.js';

const limits = loadConfig({}).limits;
/** The document of issue 15: 40 kB that cost ~0.4 s of CPU in validation. */
const REPEATED = `{ ${'groups { total } '.repeat(2400)}}`;

describe('countSelections', () => {
  it('counts fields, nested ones and what fragment spreads bring', () => {
    expect(countSelections(parse('{ a b { c d } }'), 100)).toBe(4);
    const withFragment = parse('{ ...F ...F } fragment F on Query { a { b } }');
    // Two spreads of two fields each.
    expect(countSelections(withFragment, 100)).toBe(4);
    // A fragment no operation spreads is still validated, so it counts.
    expect(countSelections(parse('{ a } fragment G on Query { b c }'), 100)).toBe(3);
    expect(countSelections(parse('{ ... on Query { a b } }'), 100)).toBe(2);
  });

  it('stops at the limit, so an exponential fragment bomb costs linear time', () => {
    const bomb = parse(
      [
        'query { ...F40 }',
        'fragment F0 on Query { __typename }',
        ...Array.from(
          { length: 40 },
          (_, i) => `fragment F${i + 1} on Query { ...F${i} ...F${i} }`,
        ),
      ].join('\n'),
    );
    // Expanded, the bomb is 2^40 fields: finishing at all proves the count stops at the limit.
    const started = performance.now();
    expect(countSelections(bomb, 500)).toBe(501);
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('leaves room for the full introspection query (every option) under the default', () => {
    const everything = getIntrospectionQuery({
      descriptions: true,
      specifiedByUrl: true,
      directiveIsRepeatable: true,
      schemaDescription: true,
      inputValueDeprecation: true,
    });
    expect(countSelections(parse(everything), 10_000)).toBeLessThan(limits.maxSelections * 0.8);
  });
});

/** The analyzer's after-validation answer for `query` (maximum cost 50), by variables. */
async function costChecker(query: string) {
  const schema = await buildSchema();
  const analyzer = createDocumentAnalyzer(schema, { ...limits, maxCost: 50 });
  const { document } = analyzer.source(query) as { ok: true; document: never };
  return (variables: Record<string, unknown>) =>
    analyzer.operation(query, { schema, document, variables });
}

describe('the document analyzer', () => {
  it('refuses 2,400 repeated fields as QUERY_TOO_COMPLEX before validation, fast', async () => {
    const schema = await buildSchema();
    // Warm the lexer and parser up (another analyzer: no cache hit below).
    createDocumentAnalyzer(schema, limits).source(REPEATED);
    const analyzer = createDocumentAnalyzer(schema, limits);
    const started = performance.now();
    const analysis = analyzer.source(REPEATED);
    const refusedIn = performance.now() - started;
    // Relative to validating it, on the same (shared, busy) machine.
    const validating = performance.now();
    validate(schema, parse(REPEATED));
    expect(refusedIn).toBeLessThan((performance.now() - validating) / 3);
    expect(analysis.ok).toBe(false);
    expect(!analysis.ok && analysis.error.extensions).toMatchObject({
      code: 'QUERY_TOO_COMPLEX',
      maxSelections: 500,
    });
    expect(checkHttpOperations({ query: REPEATED }, limits, analyzer)?.extensions['code']).toBe(
      'QUERY_TOO_COMPLEX',
    );
  });

  it('analyses each distinct document once', async () => {
    const analyzer = createDocumentAnalyzer(await buildSchema(), limits);
    const query = '{ groups { total } }';
    const first = analyzer.source(query);
    expect(analyzer.source(query)).toBe(first);
    expect(first.ok).toBe(true);
    if (!first.ok) return;
    const errors = analyzer.validate(query, first.document);
    expect(errors).toEqual([]);
    expect(analyzer.validate(query, first.document)).toBe(errors);
  });

  it('keeps syntax errors apart, for Apollo (HTTP) or the socket to report', async () => {
    const analyzer = createDocumentAnalyzer(await buildSchema(), limits);
    const analysis = analyzer.source('{ groups {');
    expect(analysis).toMatchObject({ ok: false, parse: true });
    expect(checkHttpOperations({ query: '{ groups {' }, limits, analyzer)).toBe(null);
  });

  it('keys the cost by the variables it depends on, and only those', async () => {
    const check = await costChecker(
      'query Q($n: Int, $id: ID!) { asset(id: $id) { id } groups(pageSize: $n) { items { id name } } }',
    );
    expect(check({ id: 'a' })).toBe(null);
    const refusal = check({ n: 100, id: 'a' });
    expect(refusal?.extensions['code']).toBe('QUERY_TOO_COMPLEX');
    // Another `$id`, the same `$n`: the kept answer (the very same error), not a new analysis.
    expect(check({ n: 100, id: 'b' })).toBe(refusal);
    expect(check({ n: 2, id: 'b' })).toBe(null);
    expect(check({ n: 100, id: 'c' })).toBe(refusal);
    // Variables that do not coerce are left to execution, and leave nothing behind.
    expect(check({ n: 'many', id: 'a' })).toBe(null);
    expect(check({ n: 100, id: 'd' })).toBe(refusal);
  });

  it('counts a variable in a directive as one the cost depends on', async () => {
    const check = await costChecker(
      'query ($big: Boolean!) { groups(pageSize: 100) @include(if: $big) { items { id } } }',
    );
    expect(check({ big: false })).toBe(null);
    expect(check({ big: true })?.extensions['code']).toBe('QUERY_TOO_COMPLEX');
    expect(check({ big: false })).toBe(null);
  });
});

describe('Lru', () => {
  it('drops the least recently used entries beyond its weight', () => {
    const lru = new Lru<string, number>(10);
    lru.set('a', 1, 4);
    lru.set('b', 2, 4);
    expect(lru.get('a')).toBe(1); // `b` is now the oldest.
    lru.set('c', 3, 4);
    expect(lru.get('b')).toBe(undefined);
    expect(lru.get('a')).toBe(1);
    expect(lru.get('c')).toBe(3);
    lru.set('huge', 4, 11);
    expect(lru.get('huge')).toBe(undefined);
    expect(lru.size).toBe(2);
  });
});
