/**
 * Start-up as an operator meets it, running the build (`node dist/index.js`, and the standalone
 * simulator's `dist/simulator/main.js`) as a child process: production never falls back to the
 * in-memory simulator, and every failure the operator can fix (a bad variable, a port in use, an
 * address not of this machine, a port this user may not open) is one line on stderr naming the
 * variable, exit code 1, no stack.
 */
import { rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { build, runNode, startNode, type Ended, type RunOptions } from '../helpers/built.js';

const GATEWAY = 'dist/index.js';
const SIMULATOR = 'dist/simulator/main.js';
/** TEST-NET-1 (RFC 5737): never an address of this machine. */
const FOREIGN_ADDRESS = '192.0.2.1';
/** Where an unprivileged user may not listen; as root, the child runs as `nobody`. */
const PRIVILEGED_PORT = '80';
const UNPRIVILEGED: RunOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};

/** Under /tmp, which any user may write; removed afterwards. */
const NOBODYS_DIR = join(tmpdir(), `startup-failures-${process.pid}`);
const NOBODYS_LEDGER = join(NOBODYS_DIR, 'ledger.sqlite');

let occupied: Server;
let busyPort: string;

beforeAll(async () => {
  await build();
  occupied = createServer();
  await new Promise<void>((resolve) => occupied.listen(0, '127.0.0.1', resolve));
  busyPort = String((occupied.address() as { port: number }).port);
}, 240_000);

afterAll(async () => {
  await rm(NOBODYS_DIR, { recursive: true, force: true });
  await new Promise<void>((resolve) => occupied?.close(() => resolve()));
});

/** The process failed as the operator should see it: one line matching `line`, exit code 1. */
function expectOneLine(ended: Ended, line: RegExp): void {
  expect(ended.code).toBe(1);
  expect(ended.stderr.trimEnd().split('\n')).toEqual([expect.stringMatching(line)]);
  expect(ended.stderr).not.toMatch(/^\s+at /m);
  expect(ended.stdout).toBe('');
}

describe('in production', () => {
  it('refuses to start without UPSTREAM_URL instead of serving the simulator', async () => {
    const ended = await runNode(GATEWAY, { NODE_ENV: 'production', PORT: '0' });
    expectOneLine(ended, /^Invalid environment variable UPSTREAM_URL: .*"simulator"/);
  });

  it('refuses it with the Docker image defaults too', async () => {
    const ended = await runNode(GATEWAY, { NODE_ENV: 'production', HOST: '0.0.0.0', PORT: '0' });
    expectOneLine(ended, /UPSTREAM_URL/);
  });

  it('serves the simulator when asked for by name', async () => {
    const started = await startNode(
      GATEWAY,
      { NODE_ENV: 'production', UPSTREAM_URL: 'simulator', PORT: '0', LOG_LEVEL: 'info' },
      /avatar-gateway ready at (http:\/\/\S+)\/graphql/,
    );
    try {
      const page = await fetch(`${started.match[1]}/simulator/h5/verify?token=unknown`);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    } finally {
      started.child.kill('SIGTERM');
      expect(await started.exited).toBe(0);
    }
  });
});

describe('the gateway, when told to stop', () => {
  const start = () =>
    startNode(
      GATEWAY,
      { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'info', SHUTDOWN_DELAY_MS: '1500' },
      /avatar-gateway ready at (http:\/\/\S+)\/graphql/,
    );
  const healthy = (base: string) =>
    fetch(`${base}/healthz`).then(
      (response) => response.ok,
      () => false,
    );

  it('drains once however many SIGTERMs arrive', async () => {
    const started = await start();
    const base = started.match[1]!;
    started.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    started.child.kill('SIGTERM');
    await new Promise((resolve) => setTimeout(resolve, 300));
    // Still serving through SHUTDOWN_DELAY_MS: the second signal did not cut it short.
    expect(await healthy(base)).toBe(true);
    expect(await started.exited).toBe(0);
    const { stdout } = started.output();
    expect(stdout.match(/"msg":"shutting down"/g)).toHaveLength(1);
    expect(stdout).toContain('"msg":"already shutting down"');
  });

  it('leaves at once on a second Ctrl-C (SIGINT)', async () => {
    const started = await start();
    started.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 300));
    const at = Date.now();
    started.child.kill('SIGINT');
    expect(await started.exited).toBe(130);
    expect(Date.now() - at).toBeLessThan(1000);
  });
});

describe('the gateway, when it cannot start', () => {
  it('names PORT when the port is in use, once, without a stack', async () => {
    const ended = await runNode(GATEWAY, { PORT: busyPort, HOST: '127.0.0.1' });
    expectOneLine(
      ended,
      new RegExp(`^PORT ${busyPort} is already in use .*set PORT to a free port`),
    );
  });

  it('names PORT when the port is in use in front of a real upstream too', async () => {
    const ended = await runNode(GATEWAY, {
      PORT: busyPort,
      HOST: '127.0.0.1',
      UPSTREAM_URL: 'http://127.0.0.1:9',
    });
    expectOneLine(ended, /^PORT \d+ is already in use/);
  });

  it('names HOST for an address that is not of this machine', async () => {
    const ended = await runNode(GATEWAY, { PORT: '0', HOST: FOREIGN_ADDRESS });
    expectOneLine(ended, new RegExp(`^HOST ${FOREIGN_ADDRESS} is not an address of this machine`));
  });

  it('names HOST for a name that does not resolve', async () => {
    const ended = await runNode(GATEWAY, {
      PORT: '0',
      HOST: 'no-such-host.invalid',
      UPSTREAM_URL: 'http://127.0.0.1:9',
    });
    expectOneLine(ended, /^HOST no-such-host\.invalid does not resolve/);
  });

  it('names PORT for a port this user may not listen on', async () => {
    const ended = await runNode(
      GATEWAY,
      // A ledger this user may write (the checkout's ./data is not its own).
      { PORT: PRIVILEGED_PORT, UPSTREAM_URL: 'http://127.0.0.1:9', LEDGER_PATH: NOBODYS_LEDGER },
      UNPRIVILEGED,
    );
    expectOneLine(ended, /^PORT 80 may not be listened on by this user .*1024/);
  });

  it.each([
    ['PORT', { PORT: 'eighty' }],
    ['UPSTREAM_URL', { UPSTREAM_URL: 'ftp://example.com' }],
    ['GATEWAY_TOKENS', { GATEWAY_TOKENS: 'short' }],
    ['REDIS_URL', { REDIS_URL: 'http://redis' }],
  ])('names %s for a bad value', async (variable, env) => {
    const ended = await runNode(GATEWAY, env);
    expectOneLine(ended, new RegExp(`^Invalid environment variable ${variable}: `));
  });
});

describe('the standalone simulator, when it cannot start', () => {
  it('names SIMULATOR_PORT when the port is in use', async () => {
    const ended = await runNode(SIMULATOR, { SIMULATOR_PORT: busyPort });
    expectOneLine(ended, new RegExp(`^SIMULATOR_PORT ${busyPort} is already in use`));
  });

  it('names SIMULATOR_HOST for an address that is not of this machine', async () => {
    const ended = await runNode(SIMULATOR, {}, { args: ['--host', FOREIGN_ADDRESS] });
    expectOneLine(ended, /^SIMULATOR_HOST 192\.0\.2\.1 is not an address of this machine/);
  });

  it('names the variable of a bad value, and shows the usage for an unknown flag', async () => {
    expectOneLine(
      await runNode(SIMULATOR, { SIMULATOR_PORT: '70000' }),
      /^Invalid environment variable SIMULATOR_PORT: /,
    );
    const unknown = await runNode(SIMULATOR, {}, { args: ['--prot', '1'] });
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/--prot/);
    expect(unknown.stderr).toMatch(/usage: npm run simulator -- \[--port <port>\]/);
  });
});
