#!/usr/bin/env node
// Builds the web console with Vite (`npm run build:console` runs codegen first) unless `dist/console` was built from the
// same sources: a digest of `console/`, `schema.graphql` and the lock file is kept beside the
// build. The browser tests call it first (test/browser/global-setup.ts), so that `npm test` on a
// fresh clone, or after a change to the console, tests the console as it is now.
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

export function sourceDigest() {
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

/** Builds unless up to date (or always with `force`); `true` when it built. */
export function buildConsole({ force = false } = {}) {
  const digest = sourceDigest();
  const built = existsSync(stamp) && readFileSync(stamp, 'utf8') === digest;
  if (!force && built && existsSync(join(root, 'dist/console/index.html'))) return false;
  // A production bundle whoever calls (vitest sets NODE_ENV=test, which Vite would follow).
  execFileSync(
    'npx',
    ['vite', 'build', '--config', 'console/vite.config.ts', '--logLevel', 'warn'],
    {
      cwd: root,
      stdio: 'inherit',
      env: { ...process.env, NODE_ENV: 'production' },
    },
  );
  writeFileSync(stamp, digest);
  return true;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const force = process.argv.includes('--force');
  console.log(buildConsole({ force }) ? 'console built' : 'console up to date');
}
