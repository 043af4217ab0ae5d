/**
 * Starts the real Prism binary from node_modules on a free loopback port and stops it after.
 *
 * `mock` serves mocks/openapi.yaml; `proxy` forwards to `upstream` and validates both directions
 * (with `errors: true`, a violation becomes an error answer). Every `[VALIDATOR]` warning or
 * error line Prism prints is collected in `violations`, so a test can assert there were none.
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
  /**
   * `[VALIDATOR]` warning and error lines printed since start (or since the last
   * `clearViolations`); Prism's `success` lines for valid requests are not violations.
   */
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
/** `[VALIDATOR] ✖  error     Violation: ...`: the level is the word after the symbol. */
const VALIDATOR_LEVEL = /\[VALIDATOR\]\s+\S+\s+(\w+)/;

/** True for a `[VALIDATOR]` line at level warning or error. */
export function isViolationLine(line: string): boolean {
  const level = VALIDATOR_LEVEL.exec(line)?.[1];
  return level !== undefined && level !== 'success' && level !== 'info' && level !== 'debug';
}

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
    // Output arrives in arbitrary chunks; only complete lines are inspected, per stream.
    const follow = (stream: NodeJS.ReadableStream) => {
      let partial = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => {
        output.push(chunk);
        if (output.length > 200) output.shift();
        const lines = (partial + chunk).split('\n');
        partial = lines.pop() ?? '';
        for (const raw of lines) {
          const line = raw.replace(STRIP_ANSI, '');
          if (isViolationLine(line)) violations.push(line.trim());
          if (line.includes('Prism is listening')) {
            clearTimeout(timer);
            resolve();
          }
        }
      });
    };
    follow(child.stdout!);
    follow(child.stderr!);
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
