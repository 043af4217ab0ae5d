/**
 * The README's architecture section is the newcomer's map of src/ (issue 9): its tree names every
 * top-level file and folder of src/, and every path the section names exists. A file added,
 * moved or renamed without the map fails here.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = path.join(root, 'src');

function section(title: string): string {
  const lines = readFileSync(path.join(root, 'README.md'), 'utf8').split('\n');
  const start = lines.findIndex((line) => line === `## ${title}`);
  if (start < 0) throw new Error(`README has no "## ${title}" section`);
  const end = lines.findIndex((line, index) => index > start && /^## /.test(line));
  return lines.slice(start + 1, end < 0 ? undefined : end).join('\n');
}

const architecture = section('Architecture');
const tree = /^```text\nsrc\/\n([\s\S]*?)^```$/m.exec(architecture)?.[1] ?? '';

describe('README, "Architecture"', () => {
  it('draws src/ as a tree', () => {
    expect(tree.split('\n').length).toBeGreaterThan(15);
  });

  it('names every top-level file and folder of src/ in its tree', () => {
    const drawn = new Set([...tree.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1]));
    const entries = readdirSync(src, { withFileTypes: true }).map((e) =>
      e.isDirectory() ? `${e.name}/` : e.name,
    );
    expect(entries.filter((entry) => !drawn.has(entry))).toEqual([]);
    // …and nothing that is gone.
    expect([...drawn].filter((name) => !entries.includes(name!))).toEqual([]);
  });

  it('names only paths that exist (under src/, or from the repository root)', () => {
    const named = [...architecture.matchAll(/`([\w.-]+(?:\/[\w.-]+)+\.(?:ts|cjs))`/g)].map(
      (m) => m[1]!,
    );
    expect(named.length).toBeGreaterThan(20);
    const missing = named.filter(
      (name) => !existsSync(path.join(src, name)) && !existsSync(path.join(root, name)),
    );
    expect(missing).toEqual([]);
  });
});
