/**
 * The operators' ledger tool: `npm run ledger -- <command>`. Resources created outside the
 * gateway (or before the ledger) belong to nobody until assigned here.
 *
 * Reads `DATABASE_URL`, `LEDGER_PATH` and `LEDGER_SCHEMA` like the gateway. Exit codes: 0 done,
 * 1 the store failed, 2 bad usage.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { LedgerConfigError, isLedgerUnavailable } from './errors.js';
import { loadDotEnv } from '../util/dotenv.js';
import { ledgerEnv, openLedger } from './index.js';
import type {
  AssetType,
  AvatarKind,
  Ledger,
  LedgerEntry,
  ListFilter,
  ResourceKind,
} from './ledger.js';

const USAGE = `Usage: npm run ledger -- <command> [options]

Commands:
  list [--tenant T] [--kind group|asset]
      Owned resources, one per line: kind, id, tenant, created at (tab-separated).
  assign <id> <tenant> --kind group|asset [--avatar-kind VIRTUAL|REAL] [--group-id G]
         [--type IMAGE|VIDEO|AUDIO] [--name N]
      Gives a resource to a tenant (resources created outside the gateway belong to nobody).
      Prints the previous owner, if any.
  export [--tenant T] [--kind group|asset] [--out FILE]
      Every owned resource as JSON lines, to FILE or standard output.
  forget <id> --kind group|asset
      Drops a resource deleted upstream behind the gateway's back from its owner's lists and
      total (forgetting a group forgets its assets). Prints who owned it.

Options:
  -h, --help   Show this help.

Environment:
  DATABASE_URL   postgres://… to use PostgreSQL; unset for the SQLite file.
  LEDGER_PATH    The SQLite file (default ./data/avatar-gateway.sqlite).
  LEDGER_SCHEMA  PostgreSQL schema holding the ledger (default: the connection's).

Tenants are as the gateway names them: a gateway token's name, jwt: and a JWT's tenant claim, or in
pass-through mode key: and a hash of the upstream key (README, "Tenants and the ledger").
`;

class UsageError extends Error {}

const KINDS: readonly ResourceKind[] = ['group', 'asset'];
const AVATAR_KINDS: readonly AvatarKind[] = ['VIRTUAL', 'REAL'];
const ASSET_TYPES: readonly AssetType[] = ['IMAGE', 'VIDEO', 'AUDIO'];

/** Runs one command; resolves to the exit code. */
export async function main(
  argv: string[],
  io: { env: NodeJS.ProcessEnv; stdout: Writable; stderr: Writable },
): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        help: { type: 'boolean', short: 'h' },
        tenant: { type: 'string' },
        kind: { type: 'string' },
        'avatar-kind': { type: 'string' },
        'group-id': { type: 'string' },
        type: { type: 'string' },
        name: { type: 'string' },
        out: { type: 'string' },
      },
    });
  } catch (error) {
    io.stderr.write(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    (values.help || command === 'help' ? io.stdout : io.stderr).write(USAGE);
    return values.help || command === 'help' ? 0 : 2;
  }

  let ledger: Ledger | undefined;
  try {
    const run = commandFor(command, rest, values, io);
    ledger = await openLedger(ledgerEnv(io.env));
    await run(ledger);
    return 0;
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (error instanceof LedgerConfigError || isLedgerUnavailable(error)) {
      io.stderr.write(`ledger: ${error.message}\n`);
      return 1;
    }
    throw error;
  } finally {
    await ledger?.close();
  }
}

type Values = Record<string, string | boolean | undefined>;

/** Checks the arguments before anything opens the store; returns the work to do. */
function commandFor(
  command: string,
  args: string[],
  values: Values,
  io: { stdout: Writable },
): (ledger: Ledger) => Promise<void> {
  const filter: ListFilter = {
    ...(typeof values.tenant === 'string' ? { tenant: values.tenant } : {}),
    ...(values.kind !== undefined ? { kind: oneOf(values.kind, KINDS, '--kind') } : {}),
  };
  switch (command) {
    case 'list':
      noExtra(args);
      return async (ledger) => {
        for await (const e of entries(ledger, filter)) {
          io.stdout.write(`${e.kind}\t${e.id}\t${e.tenant}\t${e.createdAt.toISOString()}\n`);
        }
      };
    case 'export': {
      noExtra(args);
      const out = typeof values.out === 'string' ? values.out : null;
      return async (ledger) => {
        const sink = out ? createWriteStream(out) : io.stdout;
        for await (const e of entries(ledger, filter)) {
          if (!sink.write(`${JSON.stringify(e)}\n`)) await once(sink, 'drain');
        }
        if (out) {
          sink.end();
          await once(sink, 'finish');
        }
      };
    }
    case 'assign': {
      const [id, tenant, ...extra] = args;
      if (!id || !tenant) throw new UsageError('assign needs <id> and <tenant>.');
      noExtra(extra);
      if (values.kind === undefined) throw new UsageError('assign needs --kind group|asset.');
      const kind = oneOf(values.kind, KINDS, '--kind');
      const details = {
        ...(values['avatar-kind'] !== undefined
          ? { avatarKind: oneOf(values['avatar-kind'], AVATAR_KINDS, '--avatar-kind') }
          : {}),
        ...(typeof values['group-id'] === 'string' ? { groupId: values['group-id'] } : {}),
        ...(values.type !== undefined
          ? { assetType: oneOf(values.type, ASSET_TYPES, '--type') }
          : {}),
        ...(typeof values.name === 'string' ? { name: values.name } : {}),
      };
      return async (ledger) => {
        const previous = await ledger.assign(kind, id, tenant, details);
        io.stdout.write(
          previous === null
            ? `${kind} ${id} assigned to ${tenant} (it belonged to nobody)\n`
            : `${kind} ${id} assigned to ${tenant} (it belonged to ${previous})\n`,
        );
      };
    }
    case 'forget': {
      const [id, ...extra] = args;
      if (!id) throw new UsageError('forget needs <id>.');
      noExtra(extra);
      if (values.kind === undefined) throw new UsageError('forget needs --kind group|asset.');
      const kind = oneOf(values.kind, KINDS, '--kind');
      return async (ledger) => {
        const owner = await ledger.ownerOf(kind, id);
        await ledger.forget(kind, id);
        io.stdout.write(
          owner === null
            ? `${kind} ${id} was not in the ledger\n`
            : `${kind} ${id} forgotten (it belonged to ${owner})\n`,
        );
      };
    }
    default:
      throw new UsageError(`Unknown command "${command}".`);
  }
}

/** Every matching entry, read a page at a time. */
async function* entries(ledger: Ledger, filter: ListFilter): AsyncGenerator<LedgerEntry> {
  let after: { kind: ResourceKind; id: string } | undefined;
  for (;;) {
    const page = await ledger.list(filter, { limit: 500, ...(after ? { after } : {}) });
    yield* page;
    const last = page.at(-1);
    if (page.length < 500 || !last) return;
    after = { kind: last.kind, id: last.id };
  }
}

function oneOf<T extends string>(value: unknown, allowed: readonly T[], flag: string): T {
  if (typeof value === 'string' && (allowed as readonly string[]).includes(value))
    return value as T;
  throw new UsageError(`${flag} must be one of ${allowed.join(', ')}.`);
}

function noExtra(args: string[]): void {
  if (args.length > 0) throw new UsageError(`Unexpected argument "${args[0]}".`);
}

// Run only as a program, never when imported (tests import `main`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  loadDotEnv();
  main(process.argv.slice(2), {
    env: process.env,
    stdout: process.stdout,
    stderr: process.stderr,
  }).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(error);
      process.exitCode = 1;
    },
  );
}
