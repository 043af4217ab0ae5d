/**
 * Starts the real Prism binary from node_modules on a free loopback port and stops it after.
 *
 * `mock` serves mocks/openapi.yaml; `proxy` forwards to `upstream` and validates both directions
 * (with `errors: true`, a violation becomes an error answer). Every `[VALIDATOR]` line Prism
 * prints is collected in `violations`, so a test can assert there were none.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const root = fileURLToPath(new URL('../..', import.meta.url));
export const CONTRACT_PATH = path.join(root, 'mocks/openapi.yaml');
const PRISM_BIN = path.join(root, 'node_modules/@stoplight/prism-cli/dist/index.js');

export interface PrismOptions {
  mode?: 'mock' | 'proxy';
  /** Required for `proxy`: the server Prism forwards to. */
  upstream?: string;
  /** Turn violations into error answers. @default false */
  errors?: boolean;
  contract?: string;
}

export interface PrismServer {
  url: string;
  /** `[VALIDATOR]` lines printed since start (or since the last `clearViolations`). */
  violations: string[];
  clearViolations(): void;
  stop(): Promise<void>;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const STRIP_ANSI = /\u001b\[[0-9;]*m/g;

export async function startPrism(options: PrismOptions = {}): Promise<PrismServer> {
  const mode = options.mode ?? 'mock';
  if (mode === 'proxy' && !options.upstream) throw new Error('startPrism: proxy needs upstream');
  const port = await freePort();
  const args = [PRISM_BIN, mode, options.contract ?? CONTRACT_PATH];
  if (mode === 'proxy') args.push(options.upstream!);
  args.push('--host', '127.0.0.1', '--port', String(port));
  if (options.errors) args.push('--errors');

  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
  });
  const violations: string[] = [];
  const output: string[] = [];

  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`Prism did not start in 30 s:\n${output.join('')}`)),
      30_000,
    );
    const onData = (chunk: Buffer) => {
      const text = chunk.toString('utf8').replace(STRIP_ANSI, '');
      output.push(text);
      if (output.length > 200) output.shift();
      for (const line of text.split('\n')) {
        if (line.includes('[VALIDATOR]')) violations.push(line.trim());
      }
      if (text.includes('Prism is listening')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`Prism exited with ${code}:\n${output.join('')}`));
    });
  });
  await ready;

  return {
    url: `http://127.0.0.1:${port}`,
    violations,
    clearViolations: () => void violations.splice(0),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
