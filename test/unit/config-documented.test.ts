/**
 * Every variable `loadConfig` reads is in `.env.example` and in the README, and both show what
 * `src/config/fields.ts` declares. Regenerate them with `npm run config:docs`
 * (`UPDATE_CONFIG_DOCS=1 npx vitest run test/unit/config-documented.test.ts`).
 */
import { readFile, writeFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { renderEnvExample, renderReadmeTable, withReadmeTable } from '../../src/config/docs.js';
import { TOPICS } from '../../src/config/fields.js';
import { loadConfig, loadSimulatorConfig } from '../../src/config/index.js';

const ENV_EXAMPLE = new URL('../../.env.example', import.meta.url);
const README = new URL('../../README.md', import.meta.url);
const UPDATE = process.env.UPDATE_CONFIG_DOCS === '1';
const HOW = 'run `npm run config:docs` and commit the result';

/**
 * Every variable name the gateway's `loadConfig` or the standalone simulator's
 * `loadSimulatorConfig` looks up in an empty environment.
 */
function variablesRead(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  loadSimulatorConfig(env);
  return read;
}

it('documents every environment variable the config reads', async () => {
  const read = variablesRead();
  expect(read.size).toBeGreaterThan(20);

  const example = await readFile(ENV_EXAMPLE, 'utf8');
  const readme = await readFile(README, 'utf8');
  const declared = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  expect([...read].filter((name) => !declared.has(name))).toEqual([]);
  expect([...read].filter((name) => !readme.includes('`' + name + '`'))).toEqual([]);
});

describe('the docs rendered from fields.ts', () => {
  it('declare exactly the variables the loaders read, each once', () => {
    const declared = TOPICS.flatMap((topic) => Object.values(topic.fields).map((f) => f.env));
    expect(new Set(declared).size).toBe(declared.length);
    expect(new Set(declared)).toEqual(variablesRead());
  });

  it('show the defaults loadConfig uses', () => {
    const example = renderEnvExample();
    const fromExample = Object.fromEntries(
      [...example.matchAll(/^([A-Z][A-Z0-9_]+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]),
    );
    // Loading the example as written gives the same config as an empty environment.
    expect(loadConfig(fromExample)).toEqual(loadConfig({}));
    expect(fromExample['PORT']).toBe('4000');
  });

  it('match the committed .env.example', async () => {
    const rendered = renderEnvExample();
    if (UPDATE) await writeFile(ENV_EXAMPLE, rendered);
    expect(await readFile(ENV_EXAMPLE, 'utf8'), `.env.example is out of date: ${HOW}`).toBe(
      rendered,
    );
  });

  it("match the README's configuration table", async () => {
    const readme = await readFile(README, 'utf8');
    const expected = withReadmeTable(readme, renderReadmeTable());
    if (UPDATE) await writeFile(README, expected);
    expect(
      await readFile(README, 'utf8'),
      `README's configuration table is out of date: ${HOW}`,
    ).toBe(expected);
  });
});
