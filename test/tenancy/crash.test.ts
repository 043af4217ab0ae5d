/**
 * `kill -9` of a gateway (a child process, built with tsc as `npm start` runs it) in the middle
 * of a burst of `createGroup`: every group whose id the client received has an owner in the
 * ledger — on SQLite and on PostgreSQL.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type OpenLedgerOptions } from '../../src/ledger/index.js';
import { pgLedgerEnv } from '../helpers/test-ledger.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const TOKEN = 'alice-token-0123456789';

let dir: string;
let entry: string;
const pg = pgLedgerEnv();

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'tenancy-crash-'));
  const out = join(dir, 'dist');
  await run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    ...['-p', join(root, 'tsconfig.build.json'), '--outDir', out],
    ...['--tsBuildInfoFile', join(out, '.tsbuildinfo')],
  ]);
  // The build finds its packages, module type and contract as it would inside the project.
  await writeFile(join(dir, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(root, 'node_modules'), join(dir, 'node_modules'));
  await symlink(join(root, 'mocks'), join(dir, 'mocks'));
  entry = join(out, 'index.js');
}, 180_000);

afterAll(async () => {
  await pg.drop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Starts the built gateway; resolves with its URL once it logged that it is ready. */
async function startChild(
  env: Record<string, string>,
): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [entry], {
    cwd: dir,
    env: {
      PATH: process.env.PATH ?? '',
      PORT: '0',
      HOST: '127.0.0.1',
      UPSTREAM_API_KEY: 'sk-shared-upstream-0123456789',
      GATEWAY_TOKENS: `alice:${TOKEN}`,
      RATE_LIMIT_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const url = await new Promise<string>((resolveUrl, reject) => {
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      output += chunk;
      const match = /"url":"(http:[^"]+)"/.exec(output);
      if (match) resolveUrl(match[1]!);
    });
    child.once('exit', (code) => reject(new Error(`gateway exited (${code}): ${output}`)));
  });
  return { child, url };
}

describe('kill -9 during a burst of createGroup', () => {
  it.each([
    ['sqlite', () => ({ LEDGER_PATH: join(dir, 'crash.sqlite') })],
    ['postgres', () => pg.env],
  ] as const)('leaves no group the client saw without an owner (%s)', async (store, where) => {
    const env: Record<string, string> = where();
    const { child, url } = await startChild(env);
    const seen: string[] = [];
    const exited = once(child, 'exit');
    // Four clients in a loop until the kill; answers cut off by it are not "seen".
    const burst = async () => {
      while (child.exitCode === null && child.signalCode === null) {
        const response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
          body: JSON.stringify({
            query: 'mutation { createGroup(input: { name: "Burst" }) { id } }',
          }),
        }).catch(() => null);
        const body = (await response?.json().catch(() => null)) as any;
        const id = body?.data?.createGroup?.id as string | undefined;
        if (id) seen.push(id);
        if (seen.length >= 40) child.kill('SIGKILL');
      }
    };
    await Promise.all([burst(), burst(), burst(), burst()]);
    const [code, signal] = (await exited) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });
    expect(seen.length).toBeGreaterThanOrEqual(40);

    const open: OpenLedgerOptions =
      store === 'sqlite'
        ? { path: env.LEDGER_PATH! }
        : { databaseUrl: env.DATABASE_URL!, schema: env.LEDGER_SCHEMA! };
    const ledger = await openLedger(open);
    try {
      expect(await ledger.filterOwned('alice', 'group', seen)).toEqual(seen);
    } finally {
      await ledger.close();
    }
  });
});
