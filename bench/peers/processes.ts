/** Child processes of the benchmark: pinned to a core, waited on until they answer, measured. */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { request } from 'undici';

/** The cores the benchmark pins to: the load generator and stub, and the server under test. */
export const CORES = { load: 0, server: 1 } as const;

/** Pinning needs two cores and `taskset`; without them everything runs unpinned. */
export const canPin =
  os.availableParallelism() >= 2 &&
  (() => {
    try {
      execFileSync('taskset', ['-V'], { stdio: 'ignore' });
      return true;
    } catch {
      return false;
    }
  })();

/** Pins this process (the load generator) to its core. */
export function pinSelf(): void {
  if (canPin)
    execFileSync('taskset', ['-cp', String(CORES.load), String(process.pid)], { stdio: 'ignore' });
}

/** Starts `node script` on `core`, with only PATH and `env` in its environment. */
export function startNode(
  script: string,
  core: number,
  env: Record<string, string>,
  options: { ipc?: boolean; cwd?: string } = {},
): ChildProcess {
  const node = [process.execPath, script];
  const [command, ...args] = canPin ? ['taskset', '-c', String(core), ...node] : node;
  return spawn(command!, args, {
    cwd: options.cwd,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'inherit', 'inherit', ...(options.ipc ? ['ipc' as const] : [])],
  });
}

/** A free TCP port on 127.0.0.1 (the server under test is told which one to use). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
    probe.on('error', reject);
  });
}

/** Resolves once `url` answers a `{ __typename }` query with 200; rejects if `child` exits first. */
export async function waitForGraphQL(url: string, child: ChildProcess, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${url}: the server exited (${child.exitCode})`);
    const answered = await request(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer ready' },
      body: JSON.stringify({ query: '{ __typename }' }),
    }).then(
      async (response) => (await response.body.text(), response.statusCode === 200),
      () => false,
    );
    if (answered) return;
    await sleep(200);
  }
  throw new Error(`${url}: no answer within ${timeoutMs} ms`);
}

/** Peak resident set size of a Linux process so far (VmHWM), MB; NaN elsewhere. */
export function peakRssMb(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Number(kb) / 1024 : NaN;
  } catch {
    return NaN;
  }
}

/** Stops a child and waits for it to exit. */
export async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000).then(() => child.kill('SIGKILL'))]);
}
