/**
 * `src/upstream/ark/wire.d.ts` holds the types of the Ark calls (tags `groups`, `assets` and
 * `real-person` of `mocks/openapi.yaml`, and only the components they reach), generated and
 * committed; the client's requests and results are typed by it. This fails when the two drift
 * apart: run `npm run gen:wire`, which runs this file with `UPDATE_WIRE=1` to write it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  DIALECT_TAGS,
  WIRE_FILES,
  generateWire,
  pathsTagged,
  readContract,
} from '../helpers/wire.js';

describe('Ark wire types', () => {
  it('match what openapi-typescript generates from the Ark part of the contract', async () => {
    const generated = await generateWire('ark');
    if (process.env.UPDATE_WIRE === '1') writeFileSync(WIRE_FILES.ark, generated);
    const committed = readFileSync(WIRE_FILES.ark, 'utf8');
    expect(committed === generated, 'wire.d.ts is stale: run `npm run gen:wire`').toBe(true);
  });

  it('hold every Ark operation and none of apimart’s', async () => {
    const generated = await generateWire('ark');
    expect(generated).toContain('createAssetGroup');
    expect(generated).toContain('exchangeBytedToken');
    expect(generated).toContain('"/v1/private-avatar/groups/list"');
    expect(generated).not.toMatch(/apimart/i);
    expect(generated).not.toContain('/v1/seedance2/');
    expect(generated).not.toContain('/v1/tasks/');
  });

  it('leave no path of the contract out of both dialects, nor in both', () => {
    const contract = readContract();
    const ark = Object.keys(pathsTagged(contract, DIALECT_TAGS.ark));
    const apimart = Object.keys(pathsTagged(contract, DIALECT_TAGS.apimart));
    expect(ark.filter((path) => apimart.includes(path))).toEqual([]);
    expect([...ark, ...apimart].sort()).toEqual(
      Object.keys(contract.paths as Record<string, unknown>).sort(),
    );
  });
});
