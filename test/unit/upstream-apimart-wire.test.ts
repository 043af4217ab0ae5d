/**
 * `src/upstream/apimart/wire.d.ts` holds the types of apimart's calls (tag `apimart` of
 * `mocks/openapi.yaml`, and only the components they reach), generated and committed like the
 * Ark ones. This fails when the two drift apart: run `npm run gen:wire:apimart`, which runs this
 * file with `UPDATE_WIRE=1` to write it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { WIRE_FILES, generateWire } from '../helpers/wire.js';

const generate = () => generateWire('apimart');
const WIRE = WIRE_FILES.apimart;

describe('apimart wire types', () => {
  it('match what openapi-typescript generates from the apimart part of the contract', async () => {
    const generated = await generate();
    if (process.env.UPDATE_WIRE === '1') writeFileSync(WIRE, generated);
    const committed = readFileSync(WIRE, 'utf8');
    expect(committed === generated, 'wire.d.ts is stale: run `npm run gen:wire:apimart`').toBe(
      true,
    );
  });

  it('hold every apimart operation and none of the Ark ones', async () => {
    const generated = await generate();
    expect(generated).toContain('apimartGetTask');
    expect(generated).toContain('apimartSubmitAssets');
    expect(generated).toContain('ApimartTaskResponse');
    expect(generated).not.toContain('createAssetGroup');
    expect(generated).not.toContain('/v1/private-avatar/groups/list');
  });
});
