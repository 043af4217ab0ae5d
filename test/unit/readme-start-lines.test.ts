/**
 * Every `npm start` command in the README's shell blocks passes the checks the gateway makes
 * before it listens: `loadConfig` on the variables the line sets, then the rule that instances
 * sharing Redis share a PostgreSQL ledger (`assertSharedLedger`). A line pasted from the README
 * must not stop with a configuration error (the "Several instances" lines once set `REDIS_URL`
 * without `DATABASE_URL`, and the gateway refused them).
 */
import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { loadConfig } from '../../src/config/index.js';
import { assertSharedLedger } from '../../src/ledger/index.js';

const README = new URL('../../README.md', import.meta.url);

interface StartLine {
  text: string;
  env: Record<string, string>;
}

/** Commands (continuation lines joined) of `sh` blocks that run `npm start`, with their `VAR=value`s. */
function startLines(markdown: string): StartLine[] {
  const blocks = [...markdown.matchAll(/^```sh\n([\s\S]*?)^```$/gm)].map((match) => match[1]!);
  return blocks
    .flatMap((block) => block.replace(/\\\n\s*/g, ' ').split('\n'))
    .map((line) => line.replace(/\s+#.*$/, '').trim())
    .flatMap((line) => line.split(/\s*&&\s*/))
    .filter((command) => /(^|\s)npm start$/.test(command))
    .map((command) => {
      const env: Record<string, string> = {};
      for (const [, name, value] of command.matchAll(/(?:^|\s)([A-Z][A-Z0-9_]*)=(\S+)(?=\s)/g)) {
        env[name!] = value!;
      }
      return { text: command, env };
    });
}

it('starts every npm start line of the README without a configuration error', async () => {
  const lines = startLines(await readFile(README, 'utf8'));
  // The quick start, and the two instances of "Several instances".
  expect(lines.length).toBeGreaterThanOrEqual(3);
  expect(lines.some((line) => line.env['REDIS_URL'])).toBe(true);
  for (const line of lines) {
    expect(() => assertSharedLedger(loadConfig(line.env)), line.text).not.toThrow();
  }
});
