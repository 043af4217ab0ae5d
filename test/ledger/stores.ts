/**
 * The two real stores the ledger suite runs against: a SQLite file in a temp directory, and
 * PostgreSQL (127.0.0.1:5432, database `test`) in a schema of its own, dropped afterwards.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type Server, type Socket, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openLedger, type Ledger, type OpenLedgerOptions } from '../../src/ledger/index.js';

/** The test PostgreSQL; `LEDGER_TEST_DATABASE_URL` points elsewhere. */
export const PG_URL =
  process.env.LEDGER_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export type StoreName = 'sqlite' | 'postgres';

export interface StoreFixture {
  /** Opens a ledger on this run's store (every handle shares the same data). */
  open(options?: Omit<OpenLedgerOptions, 'databaseUrl' | 'path' | 'schema'>): Promise<Ledger>;
  /** The options `open` passes, for tests that open in their own way. */
  readonly location: OpenLedgerOptions;
  /** Closes every handle opened (afterEach). */
  closeAll(): Promise<void>;
  /** Removes the store (afterAll). */
  destroy(): Promise<void>;
}

export async function createStoreFixture(store: StoreName): Promise<StoreFixture> {
  const opened: Ledger[] = [];
  let location: OpenLedgerOptions;
  let destroy: () => Promise<void>;
  if (store === 'sqlite') {
    const dir = await mkdtemp(join(tmpdir(), 'ledger-test-'));
    location = { path: join(dir, 'nested', 'ledger.sqlite') };
    destroy = () => rm(dir, { recursive: true, force: true });
  } else {
    const schema = `ledger_test_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    location = { databaseUrl: PG_URL, schema };
    destroy = () => dropSchema(schema);
  }
  return {
    location,
    async open(options = {}) {
      const ledger = await openLedger({ ...location, ...options });
      opened.push(ledger);
      return ledger;
    },
    async closeAll() {
      await Promise.all(opened.splice(0).map((l) => l.close()));
    },
    destroy: () => destroy(),
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists ${schema} cascade`);
  } finally {
    await client.end();
  }
}

/**
 * A TCP relay to PostgreSQL that a test can cut and restore on the same port, to play a
 * database that goes down and comes back.
 */
export interface PgRelay {
  url: string;
  cut(): Promise<void>;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startPgRelay(): Promise<PgRelay> {
  const target = new URL(PG_URL);
  const sockets = new Set<Socket>();
  let server: Server;
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server = createServer((client) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const s of [client, upstream]) {
          sockets.add(s);
          s.on('close', () => sockets.delete(s));
          s.on('error', () => s.destroy());
        }
        client.pipe(upstream).pipe(client);
        client.on('close', () => upstream.destroy());
        upstream.on('close', () => client.destroy());
      });
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        const address = server.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  const port = await listen(0);
  const cut = async () => {
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    });
  };
  const url = new URL(PG_URL);
  url.host = `127.0.0.1:${port}`;
  return {
    url: url.href,
    cut,
    restore: async () => {
      await listen(port);
    },
    close: async () => {
      if (server.listening) await cut();
    },
  };
}
