#!/usr/bin/env node
// Debian packages some test tiers use as real parts: Chromium (the simulator's H5 page is
// clicked in a real browser), docker-compose (docker-compose.yml is validated, not run) and
// redis-server (the fault tests kill and restart a private one).
// Run before the tests; installs what is missing when it can (root with apt-get), and
// otherwise says exactly what to install.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  { pkg: 'chromium', bin: '/usr/bin/chromium' },
  { pkg: 'docker-compose', bin: '/usr/bin/docker-compose' },
  { pkg: 'redis-server', bin: '/usr/bin/redis-server' },
];
const missing = needed.filter(({ bin }) => !existsSync(bin)).map(({ pkg }) => pkg);
if (missing.length === 0) process.exit(0);

const isRoot = process.getuid?.() === 0;
if (!isRoot || !existsSync('/usr/bin/apt-get')) {
  console.error(
    `The tests need these Debian packages: ${missing.join(' ')}.\n` +
      `Install them with: sudo apt-get update && sudo apt-get install -y ${missing.join(' ')}`,
  );
  process.exit(1);
}
console.log(
  `Installing ${missing.join(' ')} with apt-get (needed by the browser, compose and fault tests)…`,
);
const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
execFileSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
execFileSync('apt-get', ['install', '-y', '-qq', ...missing], { stdio: 'inherit', env });
