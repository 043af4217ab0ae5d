/**
 * `npm start` as a service manager runs it: it builds only when the build is stale, the process
 * that receives SIGTERM (npm's) lets the gateway drain and exit instead of orphaning it, and a
 * `.env` file in the project's folder is read.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../helpers/prism.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const ENV_FILE = path.join(ROOT, '.env');
const ENV_BACKUP = path.join(ROOT, '.env.npm-start-test-backup');
const BUILD_INFO = path.join(ROOT, 'dist/.tsbuildinfo');

interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

/**
 * `npm start` with `env` (no `PORT` unless given), resolved once the gateway logs that it is
 * ready.
 */
async function npmStart(
  env: Record<string, string>,
  timeoutMs = 150_000,
  script = 'start',
): Promise<Started> {
  const { PORT: _inherited, ...inherited } = process.env;
  const child = spawn('npm', ['run', script, '--silent'], {
    cwd: ROOT,
    env: { ...inherited, LOG_LEVEL: 'info', NODE_ENV: 'development', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    // A group of its own, so that whatever it leaves behind can be stopped after the test.
    detached: true,
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + timeoutMs;
  while (!output.includes('avatar-gateway ready at')) {
    if (child.exitCode !== null) throw new Error(`npm start exited early:\n${output}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`npm start was not ready in ${timeoutMs} ms:\n${output}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return { child, output: () => output, exited };
}

async function healthy(port: number): Promise<boolean> {
  try {
    return (await fetch(`http://127.0.0.1:${port}/healthz`)).ok;
  } catch {
    return false;
  }
}

beforeAll(async () => {
  // A developer's own .env is set aside for the test and put back after.
  if (existsSync(ENV_FILE)) await rename(ENV_FILE, ENV_BACKUP);
});

afterAll(async () => {
  await rm(ENV_FILE, { force: true });
  if (existsSync(ENV_BACKUP)) await rename(ENV_BACKUP, ENV_FILE);
});

describe('npm start', () => {
  it('drains and exits when npm itself gets SIGTERM, leaving no gateway behind', async () => {
    const port = await freePort();
    const started = await npmStart({ PORT: String(port), HOST: '127.0.0.1' });
    expect(await healthy(port)).toBe(true);

    started.child.kill('SIGTERM');
    const code = await started.exited;

    expect(code).toBe(0);
    expect(started.output()).toContain('shutting down');
    expect(await healthy(port)).toBe(false);
  }, 200_000);

  it('npm run dev also stops, children and all, when npm itself gets SIGTERM', async () => {
    const port = await freePort();
    const started = await npmStart({ PORT: String(port), HOST: '127.0.0.1' }, 150_000, 'dev');
    try {
      expect(await healthy(port)).toBe(true);
      started.child.kill('SIGTERM');
      await started.exited;
      // The gateway under `node --watch` drains and exits, instead of running on, orphaned.
      const deadline = Date.now() + 10_000;
      while ((await healthy(port)) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(started.output()).toContain('shutting down');
      expect(await healthy(port)).toBe(false);
    } finally {
      // Whatever is left of the group (the gateway and tsc --watch, if orphaned).
      try {
        process.kill(-started.child.pid!, 'SIGKILL');
      } catch {
        // Nothing left: the group is gone.
      }
    }
  }, 200_000);

  it('runs the simulator in the apimart dialect with UPSTREAM_DIALECT=apimart', async () => {
    const port = await freePort();
    const started = await npmStart({
      PORT: String(port),
      HOST: '127.0.0.1',
      UPSTREAM_DIALECT: 'apimart',
    });
    try {
      const ask = async (query: string, variables = {}) => {
        const response = await fetch(`http://127.0.0.1:${port}/graphql`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer start-key' },
          body: JSON.stringify({ query, variables }),
        });
        return (await response.json()) as { data: any };
      };
      const { data } = await ask(`mutation { createGroup(input: { name: "g" }) { id } }`);
      const added = await ask(
        `mutation($g: ID!) { addAssets(groupId: $g, assets: [{ url: "https://cdn.example.com/a.jpg", type: IMAGE }]) { assets { id status uri } } }`,
        { g: data.createGroup.id },
      );
      // apimart's review task: a provisional id, no `asset://` reference yet.
      expect(added.data.addAssets.assets).toEqual([
        { id: expect.stringMatching(/^task_\w+-0$/), status: 'PROCESSING', uri: null },
      ]);
      expect(started.output()).toContain('"dialect":"apimart"');
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
    }
  }, 200_000);

  it('does not rebuild a current build, and reads PORT from .env', async () => {
    // The first test built (or found) a current build.
    const before = await stat(BUILD_INFO);
    const port = await freePort();
    await writeFile(ENV_FILE, `# written by test/integration/npm-start.test.ts\nPORT=${port}\n`);
    const started = await npmStart({ HOST: '127.0.0.1' }, 60_000);
    try {
      expect(await healthy(port)).toBe(true);
      expect((await stat(BUILD_INFO)).mtimeMs).toBe(before.mtimeMs);
      expect(await readFile(ENV_FILE, 'utf8')).toContain(`PORT=${port}`);
    } finally {
      started.child.kill('SIGTERM');
      await started.exited;
    }
  }, 120_000);
});
