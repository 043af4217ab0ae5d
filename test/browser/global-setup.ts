/**
 * vitest global setup: the browser tests drive the built console (`dist/console`), so build it
 * when its sources changed since the last build (a no-op otherwise, a few seconds when not).
 */
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export default function setup(): void {
  const script = fileURLToPath(new URL('../../scripts/build-console.mjs', import.meta.url));
  execFileSync(process.execPath, [script], { stdio: 'inherit' });
}
