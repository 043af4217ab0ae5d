#!/usr/bin/env node
// Builds the web console (`console/` -> `dist/console/`) when its sources changed since the last
// build: a digest of `console/`, `schema.graphql` and the lock file is kept beside the build.
// `npm run build` (so `npm start`) and the browser tests (test/browser/global-setup.ts) call it,
// so that a fresh clone, or a change to the console, is built once and then left alone.
// When stale it first runs codegen (the committed `console/src/gql/` follows the documents),
// then Vite. `--force` builds anyway.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const stamp = join(root, 'dist/console/.source-digest');

function* files(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    // Pictures for the README (console/screenshot.png) are not build inputs.
    else if (!entry.name.endsWith('.png')) yield path;
  }
}

function sourceDigest() {
  const hash = createHash('sha256');
  const inputs = [
    ...files(join(root, 'console')),
    join(root, 'schema.graphql'),
    join(root, 'package-lock.json'),
  ];
  for (const file of inputs.sort()) {
    hash.update(relative(root, file)).update('\0').update(readFileSync(file)).update('\0');
  }
  return hash.digest('hex');
}

function run(command, args) {
  // A production bundle whoever calls (vitest sets NODE_ENV=test, which Vite would follow).
  execFileSync(command, args, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, NODE_ENV: 'production' },
  });
}

/** Builds unless up to date (or always with `force`); `true` when it built. */
export function buildConsole({ force = false } = {}) {
  const current =
    existsSync(stamp) &&
    existsSync(join(root, 'dist/console/index.html')) &&
    readFileSync(stamp, 'utf8') === sourceDigest();
  if (current && !force) return false;
  run('npx', ['graphql-codegen', '--config', 'console/codegen.ts', '--silent']);
  run('npx', ['vite', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn']);
  // After codegen, which may have rewritten console/src/gql/.
  writeFileSync(stamp, sourceDigest());
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  if (buildConsole({ force: process.argv.includes('--force') })) console.log('console built');
}
