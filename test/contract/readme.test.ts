/**
 * The README's "Mock the upstream for a frontend" curl examples, pasted into bash against a real
 * Prism, print what the README shows after them. A contract change that breaks a documented
 * example fails here instead of in a frontend developer's terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startPrism, type PrismServer } from '../helpers/prism.js';

const root = fileURLToPath(new URL('../..', import.meta.url));
const SECTION = 'Mock the upstream for a frontend';
/** The address the README's examples use, and `npm run mock` serves on. */
const README_URL = 'http://127.0.0.1:4010';
/** The section has four curl examples today; fewer means the parsing below broke. */
const MIN_EXAMPLES = 4;

interface Block {
  lang: string;
  code: string;
}

/** Fenced blocks of the `## <title>` section (its `###` subsections included). */
function sectionBlocks(markdown: string, title: string): Block[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => line.trim() === `## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = lines.findIndex((line, index) => index > start && /^## /.test(line));
  const section = lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
  return [...section.matchAll(/^```(\w*)\n([\s\S]*?)^```$/gm)].map((match) => ({
    lang: match[1]!,
    code: match[2]!,
  }));
}

interface Example {
  command: string;
  shown: Block;
}

function curlExamples(blocks: Block[]): Example[] {
  return blocks.flatMap((block, index) => {
    if (block.lang !== 'sh' || !/\bcurl\b/.test(block.code)) return [];
    const shown = blocks[index + 1];
    if (!shown || (shown.lang !== 'json' && shown.lang !== 'text')) {
      throw new Error(`a curl example is not followed by a json or text block:\n${block.code}`);
    }
    return [{ command: block.code, shown }];
  });
}

function bash(script: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', script], { timeout: 15_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `Name: value` lines compare case-insensitively (HTTP header names are); the rest exactly. */
const HEADER_LINE = /^[A-Za-z0-9-]+:\s/;

const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
const examples = curlExamples(sectionBlocks(readme, SECTION));

let prism: PrismServer;

beforeAll(async () => {
  prism = await startPrism({ mode: 'mock' });
});

afterAll(async () => {
  await prism?.stop();
});

describe(`README, "${SECTION}"`, () => {
  it(`has at least ${MIN_EXAMPLES} curl examples, each against ${README_URL}`, () => {
    expect(examples.length).toBeGreaterThanOrEqual(MIN_EXAMPLES);
    for (const { command } of examples) expect(command).toContain(README_URL);
  });

  it(`matches npm run mock, which serves on ${README_URL}`, () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    const { hostname, port } = new URL(README_URL);
    expect(pkg.scripts.mock).toContain(`--host ${hostname}`);
    expect(pkg.scripts.mock).toContain(`--port ${port}`);
  });

  const firstLine = (command: string) => command.split('\n')[0]!.replace(/\s*\\$/, '');
  it.each(examples.map((example) => [firstLine(example.command), example] as const))(
    'prints what it shows: %s',
    async (_first, { command, shown }) => {
      const { code, stdout, stderr } = await bash(command.replaceAll(README_URL, prism.url));
      expect(code, stderr).toBe(0);

      if (shown.lang === 'json') {
        expect(JSON.parse(stdout)).toEqual(JSON.parse(shown.code));
        return;
      }
      const printed = stdout.split('\n').map((line) => line.replace(/\r$/, '').trim());
      const expected = shown.code
        .split('\n')
        .map((line) => line.trim())
        .filter(Boolean);
      expect(expected.length).toBeGreaterThan(0);
      for (const line of expected) {
        const match = HEADER_LINE.test(line)
          ? printed.some((out) => out.toLowerCase() === line.toLowerCase())
          : printed.includes(line);
        expect(match, `"${line}" in:\n${stdout}`).toBe(true);
      }
    },
  );
});
