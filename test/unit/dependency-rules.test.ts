/**
 * The layering rules of `.dependency-cruiser.cjs` (run on src/ by `npm run check`) fire on the
 * imports they forbid: a small tree that breaks each rule once is cruised with the real CLI,
 * and each breach must be reported under its rule, and nothing else.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const CLI = path.join(root, 'node_modules/dependency-cruiser/bin/dependency-cruise.mjs');
const run = promisify(execFile);

/** Every file of the fixture: path → source. Each breach names the rule it breaks. */
const FILES: Record<string, string> = {
  'src/upstream/port.ts': 'export type Id = string;\n',
  // port-is-the-bottom
  'src/upstream/errors.ts': "import { hash } from '../util/hash.js';\nexport const h = hash;\n",
  'src/util/hash.ts': 'export const hash = 1;\n',
  // http-engine-knows-no-dialect
  'src/upstream/http/transport.ts':
    "import { ark } from '../ark/dialect.js';\nexport const t = ark;\n",
  'src/upstream/ark/dialect.ts': 'export const ark = 1;\n',
  // engine-knows-no-graphql
  'src/upstream/leaky.ts':
    "import { GraphQLError } from 'graphql';\nexport const e = GraphQLError;\n",
  // upstream-knows-no-status
  'src/upstream/upward.ts': "import { poll } from '../status/poll.js';\nexport const p = poll;\n",
  // no-circular
  'src/status/poll.ts': "import { tick } from './tick.js';\nexport const poll = () => tick;\n",
  'src/status/tick.ts': "import { poll } from './poll.js';\nexport const tick = () => poll;\n",
  // resolvers-know-no-http
  'src/resolvers/thing.resolver.ts':
    "import { request } from 'node:http';\nexport const r = request;\n",
  // schema-knows-no-resolvers
  'src/schema/thing.type.ts':
    "import { r } from '../resolvers/thing.resolver.js';\nexport const t = r;\n",
  // dialects-stay-behind-the-factory
  'src/subscriptions/live.ts':
    "import { ark } from '../upstream/ark/dialect.js';\nexport const l = ark;\n",
  // allowed: the factory and the composition root know the dialects
  'src/upstream/index.ts': "import { ark } from './ark/dialect.js';\nexport const u = ark;\n",
  'src/app.ts': "import { ark } from './upstream/ark/dialect.js';\nexport const a = ark;\n",
  // allowed: resolvers use the port, status uses the port
  'src/resolvers/fine.resolver.ts':
    "import type { Id } from '../upstream/port.js';\nexport type X = Id;\n",
  'src/status/fine.ts': "import type { Id } from '../upstream/port.js';\nexport type Y = Id;\n",
};

let dir: string;

interface Violation {
  rule: { name: string };
  from: string;
  to: string;
}

async function cruise(): Promise<Violation[]> {
  // depcruise exits non-zero when it finds violations; the JSON report is on stdout either way.
  const result = await run(
    process.execPath,
    [CLI, 'src', '--config', path.join(root, '.dependency-cruiser.cjs'), '--output-type', 'json'],
    { cwd: dir, maxBuffer: 16 * 1024 * 1024 },
  ).catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
  return (JSON.parse(result.stdout) as { summary: { violations: Violation[] } }).summary.violations;
}

beforeAll(async () => {
  // Inside the project, so that `graphql` resolves to the project's node_modules.
  dir = await mkdtemp(path.join(root, '.depcruise-fixture-'));
  await writeFile(
    path.join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
      include: ['src'],
    }),
  );
  for (const [file, source] of Object.entries(FILES)) {
    await mkdir(path.dirname(path.join(dir, file)), { recursive: true });
    await writeFile(path.join(dir, file), source);
  }
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the dependency rules', () => {
  it('report each forbidden import under its rule, and nothing allowed', async () => {
    const found = (await cruise())
      .map((v) => `${v.rule.name}: ${v.from} -> ${v.to.replace(/^.*node_modules\//, '')}`)
      .sort();

    expect(found).toHaveLength(8);
    expect(found.slice(0, 3)).toEqual([
      'dialects-stay-behind-the-factory: src/subscriptions/live.ts -> src/upstream/ark/dialect.ts',
      'engine-knows-no-graphql: src/upstream/leaky.ts -> graphql/index.js',
      'http-engine-knows-no-dialect: src/upstream/http/transport.ts -> src/upstream/ark/dialect.ts',
    ]);
    // One cycle, reported once, from either of its two files.
    expect(found[3]).toMatch(
      /^no-circular: src\/status\/(poll|tick)\.ts -> src\/status\/(tick|poll)\.ts$/,
    );
    expect(found.slice(4)).toEqual([
      'port-is-the-bottom: src/upstream/errors.ts -> src/util/hash.ts',
      'resolvers-know-no-http: src/resolvers/thing.resolver.ts -> http',
      'schema-knows-no-resolvers: src/schema/thing.type.ts -> src/resolvers/thing.resolver.ts',
      'upstream-knows-no-status: src/upstream/upward.ts -> src/status/poll.ts',
    ]);
  });
});
