/**
 * A private `redis-server` (no persistence) on a port of its own, for tests that kill and restart
 * Redis: never the shared one on 6379, which other tests use at the same time. `kill()` is a
 * `SIGKILL` (a crash: no goodbye to clients), `start()` brings a fresh, empty server back on the
 * same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from './prism.js';

const BINARY = process.env.REDIS_SERVER_BIN ?? '/usr/bin/redis-server';

export interface PrivateRedis {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  readonly running: boolean;
  /** Starts the server (again) on the same port; resolves once it accepts connections. */
  start(): Promise<void>;
  /** `kill -9`; resolves once the process is gone. */
  kill(): Promise<void>;
}

/** A private Redis on a free port, not started yet unless `start` is true. */
export async function privateRedis({ start = true } = {}): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | null = null;

  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== null;
    },
    async start() {
      if (child) return;
      const next = spawn(
        BINARY,
        ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      child = next;
      let output = '';
      await new Promise<void>((resolve, reject) => {
        const onData = (chunk: Buffer) => {
          output += chunk.toString();
          if (output.includes('Ready to accept connections')) {
            next.stdout!.off('data', onData);
            next.stdout!.resume();
            resolve();
          }
        };
        next.stdout!.on('data', onData);
        next.stderr!.resume();
        next.once('error', reject);
        next.once('exit', (code) => {
          if (child === next) child = null;
          reject(new Error(`redis-server exited (${code}) before it was ready:\n${output}`));
        });
      });
    },
    async kill() {
      const current = child;
      if (!current) return;
      const exited = once(current, 'exit');
      current.kill('SIGKILL');
      await exited;
      child = null;
    },
  };
  if (start) await redis.start();
  return redis;
}
