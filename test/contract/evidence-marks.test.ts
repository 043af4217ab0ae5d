/**
 * Issue 16's promise to people who mock against the contract: every place that tolerates what a
 * deployment was seen to send says so (**Tolerated variant**, with its source), every guess says
 * it has **no public source**, and the upstream facts a client must work around (no asset-type
 * filter, the second paging style) are written on both lists. mocks/CHANGELOG.md lists the
 * places; this pins them, so a rewrite of a description cannot drop the warning silently.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { CONTRACT_PATH } from '../helpers/prism.js';

interface Described {
  description?: string;
  parameters?: Array<{ $ref?: string }>;
  properties?: Record<string, Described>;
}

const doc = parse(readFileSync(CONTRACT_PATH, 'utf8')) as {
  paths: Record<string, Record<string, Described>>;
  components: Record<string, Record<string, Described>>;
};
const { schemas, headers, parameters, responses } = doc.components;
const op = (path: string, method: string) => doc.paths[path]![method]!;

const LIST_GROUPS = op('/v1/private-avatar/groups/list', 'post');
const LIST_ASSETS = op('/v1/private-avatar/assets/list', 'post');
const EXCHANGE = op('/v1/real-avatar/groups/from-token', 'post');

/** Whitespace folded, so that a phrase may wrap across lines of the YAML block. */
const text = (node: Described | undefined) => (node?.description ?? '').replace(/\s+/g, ' ');

describe('each tolerated variant says so, with the evidence', () => {
  it.each([
    ['② ListAssetGroups (TotalCount, no count)', LIST_GROUPS, ['A1', 'S3']],
    ['⑦ ListAssets (no count)', LIST_ASSETS, ['S3']],
    ['Timestamp (Unix seconds)', schemas!.Timestamp, ['S3']],
    ['model on the GETs', parameters!.ModelQueryOnGet, ['S4']],
    ['Retry-After', headers!['Retry-After'], ['S5']],
    ['the generic gateway body', schemas!.GatewayErrorBody, ['S5']],
  ])('%s', (_where, node, sources) => {
    expect(text(node)).toMatch(/tolerated variant/i);
    for (const source of sources) expect(text(node)).toMatch(new RegExp(`\\b${source}\\b`));
  });

  it('the GETs ③ ⑧ take the optional model; the DELETEs ⑤ ⑩ keep it required', () => {
    for (const path of ['/v1/private-avatar/groups/{id}', '/v1/private-avatar/assets/{id}']) {
      expect(op(path, 'get').parameters).toEqual([
        { $ref: '#/components/parameters/ModelQueryOnGet' },
      ]);
      expect(op(path, 'delete').parameters).toEqual([
        { $ref: '#/components/parameters/ModelQuery' },
      ]);
    }
  });
});

describe('each guess says it has no public source', () => {
  it.each([
    ['⑫ codes and pending shape', EXCHANGE],
    ['⑫ unknown token', responses!.TokenNotFound],
    ['⑫ expired, used, failed', responses!.TokenBadRequest],
    ['LastInferenceTime', schemas!.Asset!.properties!.LastInferenceTime],
    ['Lng', schemas!.CreateRealPersonSessionRequest!.properties!.Lng],
  ])('%s', (_where, node) => {
    expect(text(node)).toMatch(/no public source/i);
  });
});

describe('what the upstream lists lack, written on both', () => {
  it('⑦ has no asset-type filter upstream', () => {
    expect(text(LIST_ASSETS)).toMatch(/no asset-type filter/);
  });

  it.each([
    ['②', LIST_GROUPS],
    ['⑦', LIST_ASSETS],
  ])('%s also pages with MaxResults/NextToken upstream', (_list, node) => {
    expect(text(node)).toContain('`MaxResults`/`NextToken`');
  });
});
