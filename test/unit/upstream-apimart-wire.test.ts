/**
 * `src/upstream/apimart/wire.d.ts` holds the types of apimart's calls (tag `apimart` of
 * `mocks/openapi.yaml`, and only the components they reach), generated and committed like the
 * Ark ones. This fails when the two drift apart: run `npm run gen:wire:apimart`, which runs this
 * file with `UPDATE_WIRE=1` to write it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

const CONTRACT = new URL('../../mocks/openapi.yaml', import.meta.url);
const WIRE = new URL('../../src/upstream/apimart/wire.d.ts', import.meta.url);

type Node = Record<string, unknown>;

/** The `#/components/<kind>/<name>` refs anywhere inside `value`. */
function refsIn(value: unknown, found: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) value.forEach((item) => refsIn(item, found));
  else if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key === '$ref' && typeof child === 'string') found.add(child);
      else refsIn(child, found);
    }
  }
  return found;
}

/** The contract cut down to the apimart-tagged paths and the components they reach. */
export function apimartContract(contract: Node): Node {
  const paths = Object.fromEntries(
    Object.entries(contract.paths as Record<string, Node>).filter(([, item]) =>
      Object.values(item).some((operation) =>
        (operation as { tags?: string[] } | undefined)?.tags?.includes('apimart'),
      ),
    ),
  );
  const components = contract.components as Record<string, Record<string, unknown>>;
  const kept: Record<string, Record<string, unknown>> = {
    securitySchemes: components.securitySchemes ?? {},
  };
  const pending = [...refsIn(paths)];
  const seen = new Set<string>();
  while (pending.length > 0) {
    const ref = pending.pop()!;
    if (seen.has(ref)) continue;
    seen.add(ref);
    const [, , kind, name] = ref.split('/') as [string, string, string, string];
    const target = components[kind]?.[name];
    if (target === undefined) throw new Error(`${ref} is not in the contract`);
    (kept[kind] ??= {})[name] = target;
    pending.push(...refsIn(target));
  }
  return { ...contract, tags: undefined, paths, components: kept };
}

async function generate(): Promise<string> {
  const contract = parse(readFileSync(CONTRACT, 'utf8')) as Node;
  // The same options as `gen:wire` (and the header its CLI prepends).
  const ast = await openapiTS(apimartContract(contract) as never, {
    defaultNonNullable: false,
    silent: true,
  });
  return COMMENT_HEADER + astToString(ast);
}

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
