/**
 * The wire types of each upstream dialect, generated from its part of `mocks/openapi.yaml`: the
 * paths whose operations carry one of the dialect's tags, and only the components they reach.
 * `src/upstream/<dialect>/wire.d.ts` is this, committed; test/unit/upstream-wire.test.ts and
 * test/unit/upstream-apimart-wire.test.ts fail on drift and, with `UPDATE_WIRE=1`
 * (`npm run gen:wire`, `npm run gen:wire:apimart`), write it.
 */
import { readFileSync } from 'node:fs';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';
import { parse } from 'yaml';

export const CONTRACT = new URL('../../mocks/openapi.yaml', import.meta.url);

/** The contract's tags of each dialect's operations. */
export const DIALECT_TAGS = {
  ark: ['groups', 'assets', 'real-person'],
  apimart: ['apimart'],
} as const satisfies Record<string, readonly string[]>;

export type Dialect = keyof typeof DIALECT_TAGS;

export const WIRE_FILES: Readonly<Record<Dialect, URL>> = {
  ark: new URL('../../src/upstream/ark/wire.d.ts', import.meta.url),
  apimart: new URL('../../src/upstream/apimart/wire.d.ts', import.meta.url),
};

type Node = Record<string, unknown>;

export function readContract(): Node {
  return parse(readFileSync(CONTRACT, 'utf8')) as Node;
}

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

/** The paths of `contract` with an operation tagged with one of `tags`. */
export function pathsTagged(contract: Node, tags: readonly string[]): Record<string, Node> {
  return Object.fromEntries(
    Object.entries(contract.paths as Record<string, Node>).filter(([, item]) =>
      Object.values(item).some((operation) =>
        (operation as { tags?: string[] } | undefined)?.tags?.some((tag) => tags.includes(tag)),
      ),
    ),
  );
}

/** The contract cut down to `dialect`'s paths and the components they reach. */
export function dialectContract(contract: Node, dialect: Dialect): Node {
  const paths = pathsTagged(contract, DIALECT_TAGS[dialect]);
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

/** `wire.d.ts` of `dialect`, as openapi-typescript's CLI would write it. */
export async function generateWire(dialect: Dialect): Promise<string> {
  const ast = await openapiTS(dialectContract(readContract(), dialect) as never, {
    defaultNonNullable: false,
    silent: true,
  });
  return COMMENT_HEADER + astToString(ast);
}
