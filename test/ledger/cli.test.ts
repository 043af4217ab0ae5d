/**
 * The ledger in child processes, built from `src/ledger` with tsc as `npm run ledger` runs it:
 * - the operators' CLI against a temp SQLite file: exit codes and output;
 * - a read-only ledger file or directory is a clear start-up error (as root, the child runs
 *   without the capability to ignore file permissions, through `setpriv`);
 * - `kill -9` in the middle of a burst of writes loses nothing the writer had acknowledged.
 */
import { execFile } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openLedger, type OpenLedgerOptions } from '../../src/ledger/index.js';
import { PG_URL, dropSchema } from './stores.js';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');

let dir: string;
let cli: string;
let burst: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ledger-cli-'));
  const out = join(dir, 'build');
  await run(process.execPath, [
    join(root, 'node_modules/typescript/bin/tsc'),
    ...['--outDir', out, '--rootDir', join(root, 'src'), '--module', 'nodenext'],
    ...['--moduleResolution', 'nodenext', '--target', 'es2022', '--strict', '--skipLibCheck'],
    ...['--esModuleInterop', '--types', 'node', join(root, 'src/ledger/cli.ts')],
  ]);
  // The build resolves its packages and its module type as it would inside the project.
  await writeFile(join(out, 'package.json'), '{ "type": "module" }\n');
  await symlink(join(root, 'node_modules'), join(out, 'node_modules'));
  cli = join(out, 'ledger/cli.js');
  // Records groups one at a time, printing each id once its transaction has committed.
  await writeFile(
    join(out, 'burst.js'),
    `import { ledgerEnv, openLedger } from './ledger/index.js';
const ledger = await openLedger(ledgerEnv(process.env));
for (let i = 0; ; i++) {
  await ledger.recordGroup('burst', { id: 'burst-' + i, kind: 'VIRTUAL' });
  process.stdout.write('burst-' + i + '\\n');
}
`,
  );
  burst = join(out, 'burst.js');
});

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with `env` (plus PATH); as root, optionally without the power to override modes. */
async function ledgerCli(
  args: string[],
  env: Record<string, string>,
  options: { obeyFileModes?: boolean } = {},
): Promise<Outcome> {
  const dropRoot = options.obeyFileModes && process.getuid?.() === 0;
  const [command, argv] = dropRoot
    ? ['setpriv', ['--bounding-set=-dac_override,-dac_read_search', process.execPath, cli, ...args]]
    : [process.execPath, [cli, ...args]];
  try {
    const { stdout, stderr } = await run(command, argv, {
      env: { PATH: process.env.PATH ?? '', ...env },
      timeout: 15_000,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: unknown; stdout?: string; stderr?: string };
    if (typeof e.code !== 'number') throw error;
    return { code: e.code, stdout: e.stdout ?? '', stderr: e.stderr ?? '' };
  }
}

describe('npm run ledger', () => {
  it('explains itself with --help', async () => {
    const { code, stdout } = await ledgerCli(['--help'], {});
    expect(code).toBe(0);
    expect(stdout).toMatch(/^Usage: npm run ledger -- <command>/);
    for (const word of [
      'list',
      'assign <id> <tenant> --kind group|asset',
      'export',
      'LEDGER_PATH',
    ]) {
      expect(stdout).toContain(word);
    }
  });

  it('refuses bad usage with exit code 2 and the usage', async () => {
    const path = join(dir, 'usage.sqlite');
    for (const args of [
      [],
      ['frobnicate'],
      ['assign', 'g1'],
      ['assign', 'g1', 't'],
      ['list', '--kind', 'x'],
      ['forget'],
      ['forget', 'g1'],
    ]) {
      const { code, stderr } = await ledgerCli(args, { LEDGER_PATH: path });
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toContain('Usage: npm run ledger');
    }
  });

  it('assigns, lists and exports what the gateway recorded', async () => {
    const path = join(dir, 'ops', 'ledger.sqlite');
    const ledger = await openLedger({ path, now: () => Date.UTC(2026, 11, 1) });
    await ledger.recordGroup('alice', { id: 'g-alice', kind: 'VIRTUAL', name: 'Studio' });
    await ledger.recordAssets('alice', 'g-alice', [
      { id: 'a-1', url: 'https://x.test/a.png', type: 'IMAGE' },
    ]);
    await ledger.close();
    const env = { LEDGER_PATH: path };

    const assigned = await ledgerCli(
      ['assign', 'g-upstream', 'bob', '--kind', 'group', '--avatar-kind', 'REAL'],
      env,
    );
    expect(assigned).toMatchObject({
      code: 0,
      stdout: 'group g-upstream assigned to bob (it belonged to nobody)\n',
    });
    const moved = await ledgerCli(['assign', 'a-1', 'bob', '--kind', 'asset'], env);
    expect(moved.stdout).toBe('asset a-1 assigned to bob (it belonged to alice)\n');

    const listed = await ledgerCli(['list', '--tenant', 'bob'], env);
    expect(listed.code).toBe(0);
    expect(
      listed.stdout
        .trim()
        .split('\n')
        .map((line) => line.split('\t').slice(0, 3)),
    ).toEqual([
      ['asset', 'a-1', 'bob'],
      ['group', 'g-upstream', 'bob'],
    ]);
    const groupsOnly = await ledgerCli(['list', '--kind', 'group'], env);
    expect(groupsOnly.stdout).toContain('group\tg-alice\talice\t2026-12-01T00:00:00.000Z\n');
    expect(groupsOnly.stdout).not.toContain('a-1');

    const out = join(dir, 'export.jsonl');
    expect((await ledgerCli(['export', '--out', out], env)).code).toBe(0);
    const lines = (await readFile(out, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown);
    expect(lines).toEqual([
      expect.objectContaining({
        kind: 'asset',
        id: 'a-1',
        tenant: 'bob',
        groupId: 'g-alice',
        url: 'https://x.test/a.png',
      }),
      expect.objectContaining({ kind: 'group', id: 'g-alice', tenant: 'alice', name: 'Studio' }),
      expect.objectContaining({
        kind: 'group',
        id: 'g-upstream',
        tenant: 'bob',
        avatarKind: 'REAL',
      }),
    ]);
    const toStdout = await ledgerCli(['export', '--tenant', 'alice'], env);
    expect(toStdout.stdout.trim().split('\n')).toHaveLength(1);

    // A group deleted upstream behind the gateway's back: forgotten with its assets.
    const forgot = await ledgerCli(['forget', 'g-alice', '--kind', 'group'], env);
    expect(forgot).toMatchObject({
      code: 0,
      stdout: 'group g-alice forgotten (it belonged to alice)\n',
    });
    const left = await ledgerCli(['list'], env);
    expect(left.stdout).not.toContain('g-alice');
    expect(left.stdout).not.toContain('a-1');
    expect(left.stdout).toContain('g-upstream');
    expect((await ledgerCli(['forget', 'g-alice', '--kind', 'group'], env)).stdout).toBe(
      'group g-alice was not in the ledger\n',
    );
  });

  it('says which variable to fix when PostgreSQL cannot be reached', async () => {
    const { code, stderr } = await ledgerCli(['list'], {
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/test',
    });
    expect(code).toBe(1);
    expect(stderr).toMatch(/^ledger: The ledger's PostgreSQL \(DATABASE_URL\) is unavailable/);
  });
});

describe('a SQLite ledger that cannot be written', () => {
  it('is a clear start-up error naming LEDGER_PATH when the file is read-only', async () => {
    const folder = join(dir, 'read-only-file');
    const path = join(folder, 'ledger.sqlite');
    await (await openLedger({ path })).close();
    await chmod(path, 0o444);

    const { code, stderr } = await ledgerCli(
      ['list'],
      { LEDGER_PATH: path },
      { obeyFileModes: true },
    );
    expect(code).toBe(1);
    expect(stderr).toContain(`ledger: LEDGER_PATH: the ledger file must be writable (${path})`);
    expect(stderr).toMatch(/readonly database/);
  });

  it('is a clear start-up error naming LEDGER_PATH when its directory cannot be created', async () => {
    const locked = join(dir, 'locked');
    await mkdir(locked, { mode: 0o555 });
    const path = join(locked, 'data', 'ledger.sqlite');

    const { code, stderr } = await ledgerCli(
      ['list'],
      { LEDGER_PATH: path },
      { obeyFileModes: true },
    );
    expect(code).toBe(1);
    expect(stderr).toContain(
      `LEDGER_PATH: cannot create the directory of the ledger file (${path})`,
    );
    expect(stderr).toContain('EACCES');
  });
});

describe('kill -9 during a burst of writes', () => {
  const schema = `ledger_burst_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
  afterAll(() => dropSchema(schema));

  it.each([
    [
      'sqlite',
      () => ({
        env: { LEDGER_PATH: join(dir, 'burst.sqlite') },
        open: { path: join(dir, 'burst.sqlite') },
      }),
    ],
    [
      'postgres',
      () => ({
        env: { DATABASE_URL: PG_URL, LEDGER_SCHEMA: schema },
        open: { databaseUrl: PG_URL, schema },
      }),
    ],
  ] as const)('keeps every group the %s writer acknowledged', async (_store, where) => {
    const { env, open } = where() as { env: Record<string, string>; open: OpenLedgerOptions };
    const writer = spawn(process.execPath, [burst], {
      env: { PATH: process.env.PATH ?? '', ...env },
    });
    const acknowledged: string[] = [];
    let partial = '';
    writer.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (partial + chunk).split('\n');
      partial = lines.pop() ?? '';
      acknowledged.push(...lines);
      if (acknowledged.length >= 200) writer.kill('SIGKILL');
    });
    const [code, signal] = (await once(writer, 'exit')) as [number | null, string | null];
    expect({ code, signal }).toEqual({ code: null, signal: 'SIGKILL' });

    const ledger = await openLedger(open);
    try {
      expect(await ledger.filterOwned('burst', 'group', acknowledged)).toEqual(acknowledged);
      // Only the write in flight at the kill may have committed without being acknowledged.
      const all = await ledger.list({ tenant: 'burst' });
      expect(all.length).toBeGreaterThanOrEqual(acknowledged.length);
      expect(all.length).toBeLessThanOrEqual(acknowledged.length + 1);
    } finally {
      await ledger.close();
    }
  });
});
