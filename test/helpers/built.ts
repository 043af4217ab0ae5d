/**
 * The project's own build (`dist/`), run as a user runs it: `build()` brings it up to date once
 * per test file, `runNode()` runs one of its entries as a child process and reports how it
 * ended, and `startNode()` keeps one running until a line of its output appears.
 */
import { execFile, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, rmdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);
/** Held while one test file builds this checkout; older than `STALE_MS`, its holder died. */
const LOCK = path.join(
  tmpdir(),
  `avatar-gateway-build-${createHash('sha256').update(ROOT).digest('hex').slice(0, 12)}`,
);
const STALE_MS = 180_000;

/**
 * `tsc -b tsconfig.build.json`, as `npm run build` does (quick when the build is current). Test
 * files that build at the same time take turns, so none runs a half-written `dist/`.
 */
export async function build(): Promise<void> {
  const deadline = Date.now() + 240_000;
  for (;;) {
    try {
      await mkdir(LOCK);
      break;
    } catch (error) {
      if ((error as { code?: string }).code !== 'EEXIST' || Date.now() > deadline) throw error;
      const held = await stat(LOCK).catch(() => null);
      if (held && Date.now() - held.mtimeMs > STALE_MS) await rmdir(LOCK).catch(() => undefined);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  try {
    await run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
      cwd: ROOT,
    });
  } finally {
    await rmdir(LOCK);
  }
}

export interface Ended {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node <entry> …args` from the project's folder with exactly `env` (plus `PATH`), and
 * resolves when it exits; it is killed after `timeoutMs`.
 */
export function runNode(
  entry: string,
  env: Record<string, string>,
  { args = [], timeoutMs = 20_000, ...options }: RunOptions = {},
): Promise<Ended> {
  const child = spawnNode(entry, env, args, options);
  const output = collect(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.once('exit', (code) => {
      clearTimeout(timer);
      // 'exit' may come before the pipes are drained.
      child.once('close', () => resolve({ code, ...output() }));
    });
  });
}

export interface RunOptions extends Pick<SpawnOptions, 'uid' | 'gid'> {
  args?: string[];
  timeoutMs?: number;
}

export interface Running {
  child: ChildProcess;
  output(): { stdout: string; stderr: string };
  /** Resolves with the exit code. */
  exited: Promise<number | null>;
}

/** Starts `node <entry>` and resolves once its stdout matches `ready` (rejects if it exits). */
export async function startNode(
  entry: string,
  env: Record<string, string>,
  ready: RegExp,
  { args = [], timeoutMs = 20_000 }: RunOptions = {},
): Promise<Running & { match: RegExpExecArray }> {
  const child = spawnNode(entry, env, args, {});
  const output = collect(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const match = ready.exec(output().stdout);
    if (match) return { child, output, exited, match };
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`node ${entry} did not print ${ready}:\n${JSON.stringify(output())}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

function spawnNode(
  entry: string,
  env: Record<string, string>,
  args: string[],
  options: Pick<SpawnOptions, 'uid' | 'gid'>,
): ChildProcess {
  return spawn(process.execPath, [entry, ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...options,
  });
}

function collect(child: ChildProcess): () => { stdout: string; stderr: string } {
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return () => ({ stdout, stderr });
}
