/** Every variable `loadConfig` reads is in `.env.example` and in the README. */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';

it('documents every environment variable the config reads', async () => {
  const read = new Set<string>();
  const env = new Proxy({} as Record<string, string | undefined>, {
    get: (_target, name) => {
      if (typeof name === 'string') read.add(name);
      return undefined;
    },
  });
  loadConfig(env);
  expect(read.size).toBeGreaterThan(20);

  const example = await readFile(new URL('../../.env.example', import.meta.url), 'utf8');
  const readme = await readFile(new URL('../../README.md', import.meta.url), 'utf8');
  const declared = new Set([...example.matchAll(/^#?\s*([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]));
  expect([...read].filter((name) => !declared.has(name))).toEqual([]);
  expect([...read].filter((name) => !readme.includes('`' + name + '`'))).toEqual([]);
});
