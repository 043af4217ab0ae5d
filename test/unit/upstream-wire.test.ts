/**
 * `src/upstream/ark/wire.d.ts` is generated from the contract and committed; the client's requests
 * and results are typed by it. This fails when the two drift apart: run `npm run gen:wire`.
 */
import { readFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';

const CONTRACT = new URL('../../mocks/openapi.yaml', import.meta.url);
const WIRE = new URL('../../src/upstream/ark/wire.d.ts', import.meta.url);

describe('wire types', () => {
  it('match what openapi-typescript generates from mocks/openapi.yaml (npm run gen:wire)', async () => {
    // The same options as the `gen:wire` script (the CLI prepends the same header).
    const generated =
      COMMENT_HEADER +
      astToString(await openapiTS(CONTRACT, { defaultNonNullable: false, silent: true }));
    const committed = readFileSync(WIRE, 'utf8');
    expect(committed === generated, 'wire.d.ts is stale: run `npm run gen:wire`').toBe(true);
  });
});
