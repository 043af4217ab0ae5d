/**
 * Status from tasks: the status watcher over the apimart client and its ledger, against the
 * simulator's apimart face over HTTP with a controlled clock. Many subscribers over the assets of
 * a few review tasks cost at most one `GET /v1/tasks/{id}` per open task and interval; every
 * asset of a task flips in the same poll; an ended task costs no read at all; a failing task read
 * makes the assets STALE, and they RECOVER.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, expect, it } from 'vitest';
import { openLedger } from '../../src/ledger/index.js';
import { createApimartSimulatorHandler } from '../../src/simulator/apimart-http.js';
import { SimulatorState } from '../../src/simulator/state.js';
import { createStatusWatcher } from '../../src/status/index.js';
import { apimartStatusSource } from '../../src/upstream/apimart/status-source.js';
import { createUpstream } from '../../src/upstream/index.js';
import { EventLog, TickLog } from '../helpers/status-harness.js';

const KEY = 'apimart-status-key';
const CALL = { credential: KEY };
const REVIEW_MS = 60_000;
const cleanups: Array<() => Promise<unknown>> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const clock = { now: Date.parse('2026-12-01T06:00:00Z') };
  const state = new SimulatorState({ activationMs: REVIEW_MS, now: () => clock.now });
  const handler = createApimartSimulatorHandler(state);
  const taskReads: string[] = [];
  let failTaskReads = false;
  const server = createServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/v1/tasks/')) {
      taskReads.push(req.url);
      if (failTaskReads) {
        res.writeHead(400, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ error: { code: 'x', message: 'no', type: 'invalid_request_error' } }),
        );
        return;
      }
    }
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => server.close(resolve)));
  const dir = await mkdtemp(join(tmpdir(), 'apimart-status-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const ledger = await openLedger({ path: join(dir, 'ledger.sqlite') });
  cleanups.push(() => ledger.close());
  const upstream = createUpstream({
    dialect: 'apimart',
    baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    ledger: ledger.apimart,
    rateLimits: { PrivateAvatarAssets: null, CreateGroup: null, GetTask: null },
    // Within one interval, under the test's interval: a tick's list and sweep share a read even
    // on a loaded machine, and the next tick reads again.
    taskReuseMs: 80,
  });
  cleanups.push(() => upstream.close());
  const ticks = new TickLog();
  const watcher = createStatusWatcher({
    upstream,
    source: apimartStatusSource,
    intervalMs: 100,
    maxIntervalMs: 200,
    staleAfterMs: 250,
    // The test's interval is 20 times shorter than the default: the budget is 20 times larger.
    rateLimits: { GetTask: 100 },
    onTick: ticks.onTick,
  });
  cleanups.push(() => watcher.stop());
  return {
    clock,
    upstream,
    watcher,
    ticks,
    taskReads,
    failReads: (fail: boolean) => (failTaskReads = fail),
  };
}

it('reads each open review task at most once per interval, whatever the subscribers', async () => {
  const { clock, upstream, watcher, ticks, taskReads } = await setup();
  const groups: string[] = [];
  const assets: string[] = [];
  for (let g = 0; g < 3; g++) {
    const { id } = await upstream.createGroup(CALL, { name: `g${g}` });
    groups.push(id);
    const { ids } = await upstream.createAssets!(
      CALL,
      Array.from({ length: 5 }, (_, a) => ({
        groupId: id,
        url: `https://cdn.example.com/${g}-${a}${a === 4 ? '-fail-face' : ''}.jpg`,
        type: 'IMAGE' as const,
      })),
    );
    assets.push(...ids);
  }
  // 60 subscribers: each group twice, and every asset alone on three more.
  const logs: EventLog[] = [];
  for (const groupId of groups) {
    for (let i = 0; i < 2; i++)
      logs.push(new EventLog(await watcher.watch({ credential: KEY, groupId })));
  }
  for (let i = 0; i < 3; i++) {
    for (const id of assets)
      logs.push(new EventLog(await watcher.watch({ credential: KEY, assetIds: [id] })));
  }

  await ticks.next(2);
  const before = taskReads.length;
  const polled = await ticks.next(5);
  const perTick = (taskReads.length - before) / polled.length;
  expect(perTick).toBeGreaterThan(0);
  expect(perTick).toBeLessThanOrEqual(3);

  clock.now += REVIEW_MS; // every review ends now
  // Every subscriber hears of its assets' end.
  for (const log of logs) {
    await log.until((events) =>
      events.some((e) => e.kind === 'status' && e.asset.status !== 'PROCESSING'),
    );
  }
  // A group's watchers saw all five assets end, four ACTIVE and the fail-face one FAILED.
  const group = logs[0]!;
  await group.until(
    (events) =>
      events.filter((e) => e.kind === 'status' && e.asset.status !== 'PROCESSING').length === 5,
  );
  const finals = group.events.flatMap((e) =>
    e.kind === 'status' && e.asset.status !== 'PROCESSING'
      ? [[e.asset.status, e.asset.failure?.code ?? null]]
      : [],
  );
  expect(finals.filter(([status]) => status === 'ACTIVE')).toHaveLength(4);
  expect(finals.filter(([status]) => status === 'FAILED')).toEqual([['FAILED', 'task_failed']]);
  // An ACTIVE event carries apimart's own `asset://` reference, not one made of the provisional id.
  const uris = group.events.flatMap((e) =>
    e.kind === 'status' && e.asset.status === 'ACTIVE' ? [e.asset.uri] : [],
  );
  expect(uris).toHaveLength(4);
  for (const uri of uris) expect(uri).toMatch(/^asset:\/\/asset-/);

  // Ended tasks are answered from the ledger: no more task reads.
  await ticks.next(2);
  const ended = taskReads.length;
  await ticks.next(4);
  expect(taskReads.length).toBe(ended);
});

it('marks the assets of a task STALE while its reads fail, and RECOVERED after', async () => {
  const { upstream, watcher, failReads } = await setup();
  const { id } = await upstream.createGroup(CALL, { name: 'g' });
  const { ids } = await upstream.createAssets!(CALL, [
    { groupId: id, url: 'https://cdn.example.com/a.jpg', type: 'IMAGE' },
  ]);
  const log = new EventLog(await watcher.watch({ credential: KEY, assetIds: ids }));
  failReads(true);
  await log.until((events) => events.some((e) => e.kind === 'stale'), 'STALE', 5000);
  failReads(false);
  await log.until((events) => events.some((e) => e.kind === 'recovered'), 'RECOVERED', 5000);
});
