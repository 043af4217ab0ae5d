/**
 * Live status at scale: the gateway's graphql-ws server and status watcher against a counting,
 * in-process upstream (the simulator's state with a controlled clock), with real WebSocket
 * clients running in a child process so that the gateway's own memory is measured alone.
 *
 * Prints:
 * 1. upstream calls per interval for 1,000 subscribers over 100 PROCESSING assets in 10 groups,
 *    with batching off (GetAsset per asset; target ≤ 100) and on (ListAssets per group set;
 *    target ≤ 10), and once every asset is final (target 0);
 * 2. delivery latency from an upstream flip to the client (target p95 ≤ interval + 250 ms);
 * 3. the gateway's RSS with 10,000 concurrent subscriptions (target < 512 MB);
 * 4. after 10,000 subscribe-then-abrupt-disconnect cycles: live subscribers back to 0 and the
 *    heap within 5 % of its start;
 * 5. the apimart dialect (its client and ledger against the simulator's apimart face over HTTP):
 *    upstream task reads per interval for 1,000 subscribers over 100 assets uploaded as 10 review
 *    tasks (target ≤ 10, one per open task), and once every task ended (target 0).
 *
 * Run with `npm run bench:subscriptions` (node --expose-gc). Env: BENCH_INTERVAL_MS (2000);
 * BENCH_ONLY=apimart runs part 5 alone.
 */
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { createClient, type Client } from 'graphql-ws';
import WebSocket from 'ws';
import { loadConfig } from '../src/config/index.js';
import { createServer, type RunningServer } from '../src/server.js';
import { SimulatorState } from '../src/simulator/state.js';
import { createMemoryBroker, createStatusWatcher } from '../src/status/index.js';
import {
  createMemoryVerificationResults,
  createVerificationService,
} from '../src/verification/index.js';
import type { LiveServices } from '../src/graphql/context.js';
import { arkStatusSource } from '../src/upstream/ark/status-source.js';
import type { Upstream } from '../src/upstream/port.js';
import type { StatusSource } from '../src/upstream/status-source.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer as createHttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { openLedger } from '../src/ledger/index.js';
import { createApimartSimulatorHandler } from '../src/simulator/apimart-http.js';
import { apimartStatusSource } from '../src/upstream/apimart/status-source.js';
import { createUpstream } from '../src/upstream/index.js';

const INTERVAL_MS = Number(process.env.BENCH_INTERVAL_MS ?? 2000);
/**
 * The watcher reads an asset less often once it has been `PROCESSING` for `backoffAfterMs`
 * (default 5 intervals): each run here lasts longer than that, so the default would make the
 * figures depend on when in the run the flip falls. They measure the base interval instead.
 */
const BACKOFF_AFTER_MS = 30 * INTERVAL_MS;
const KEY = 'bench-key';
const CALL = { credential: KEY };
const QUERY = `subscription($ids: [ID!], $g: ID) {
  assetStatusChanged(assetIds: $ids, groupId: $g) { asset { id status } previousStatus }
}`;

// ---------------------------------------------------------------------------------------------
// The client side (child process): opens subscriptions on request and reports what it saw.

type ToChild =
  | { cmd: 'subscribe'; url: string; connections: number; perConnection: number; targets: Target[] }
  | { cmd: 'close' }
  | { cmd: 'churn'; url: string; cycles: number; concurrency: number };
type Target = { ids?: string[]; g?: string };
type FromChild =
  | { ready: number }
  | { active: number[] } // receive times (epoch ms) of every ACTIVE event
  | { closed: true }
  | { churned: number; errors: number };

async function clientMain(): Promise<void> {
  let clients: Client[] = [];
  let activeAt: number[] = [];
  const send = (message: FromChild) => process.send!(message);

  process.on('message', async (message: ToChild) => {
    if (message.cmd === 'subscribe') {
      activeAt = [];
      let firstEvents = 0;
      let k = 0;
      for (let c = 0; c < message.connections; c++) {
        const client = createClient({
          url: message.url,
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${KEY}` },
          retryAttempts: 0,
          lazy: false,
        });
        clients.push(client);
        for (let s = 0; s < message.perConnection; s++) {
          const target = message.targets[k++ % message.targets.length]!;
          let first = true;
          client.subscribe(
            { query: QUERY, variables: target },
            {
              next: (result: any) => {
                const event = result.data?.assetStatusChanged;
                if (first) {
                  first = false;
                  if (++firstEvents === message.connections * message.perConnection) {
                    send({ ready: firstEvents });
                  }
                }
                if (event?.asset?.status === 'ACTIVE' && event.previousStatus === 'PROCESSING') {
                  activeAt.push(Date.now());
                }
              },
              error: () => {},
              complete: () => {},
            },
          );
        }
      }
    } else if (message.cmd === 'close') {
      send({ active: activeAt });
      await Promise.all(clients.map((client) => client.dispose()));
      clients = [];
      send({ closed: true });
    } else if (message.cmd === 'churn') {
      let done = 0;
      let errors = 0;
      const one = () =>
        new Promise<void>((resolve) => {
          const socket = new WebSocket(message.url, 'graphql-transport-ws');
          const cut = () => {
            socket.terminate();
            resolve();
          };
          socket.on('error', () => {
            errors++;
            resolve();
          });
          socket.on('open', () =>
            socket.send(
              JSON.stringify({
                type: 'connection_init',
                payload: { authorization: `Bearer ${KEY}` },
              }),
            ),
          );
          socket.on('message', (data) => {
            const parsed = JSON.parse(String(data));
            if (parsed.type === 'connection_ack') {
              socket.send(
                JSON.stringify({
                  id: '1',
                  type: 'subscribe',
                  payload: { query: QUERY, variables: { g: 'group-bench-0' } },
                }),
              );
              // Half drop at once, before the subscription resolves; half after its first event.
              if (done % 2 === 0) cut();
            } else if (parsed.type === 'next') {
              cut();
            }
          });
        });
      const workers = Array.from({ length: message.concurrency }, async () => {
        while (done < message.cycles) {
          done++;
          await one();
        }
      });
      await Promise.all(workers);
      send({ churned: done, errors });
    }
  });
}

// ---------------------------------------------------------------------------------------------
// The gateway side (parent process).

/** Wraps the simulator to count status reads by action. */
function counting(state: SimulatorState) {
  const calls = { GetAsset: 0, ListAssets: 0, other: 0 };
  const upstream = new Proxy(state, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        if (property === 'getAsset') calls.GetAsset++;
        else if (property === 'listAssets') calls.ListAssets++;
        else calls.other++;
        return value.apply(target, args);
      };
    },
  }) as Upstream;
  return { upstream, calls };
}

interface Rig {
  server: RunningServer;
  live: LiveServices & { stop(): Promise<void> };
  clock: { now: number };
  state: SimulatorState;
  calls: { GetAsset: number; ListAssets: number; other: number };
  groups: string[];
  assets: string[];
}

/** The graphql-ws server over `upstream`, with a watcher reading it through `source`. */
async function serveLive(upstream: Upstream, source: StatusSource, batch = true) {
  const broker = createMemoryBroker();
  const watcher = createStatusWatcher({
    upstream,
    source,
    intervalMs: INTERVAL_MS,
    broker,
    batch,
    backoffAfterMs: BACKOFF_AFTER_MS,
  });
  const verifications = createVerificationService({
    upstream,
    intervalMs: INTERVAL_MS,
    tokenTtlMs: 120_000,
    results: createMemoryVerificationResults(),
  });
  const live = {
    watcher,
    verifications,
    stop: async () => {
      await Promise.all([watcher.stop(), verifications.stop()]);
      await broker.close();
    },
  };
  const config = loadConfig({
    PORT: '0',
    LOG_LEVEL: 'silent',
    NODE_ENV: 'production',
    // The upstream is the in-memory state above; production needs it named.
    UPSTREAM_URL: 'simulator',
    RATE_LIMIT_PER_MINUTE: '0',
    // Thousands of simulated clients share one address here: the per-address caps and rate
    // (issue 15) are for real clients, and would refuse the load this measures.
    RATE_LIMIT_PER_IP_PER_MINUTE: '0',
    WS_MAX_CONNECTIONS: '100000',
    WS_MAX_CONNECTIONS_PER_IP: '100000',
    WS_MAX_SUBSCRIPTIONS: '1000000',
    POLL_INTERVAL_MS: String(INTERVAL_MS),
  });
  const server = await createServer(config, { upstream, logger: pino({ level: 'silent' }), live });
  return { server, live };
}

async function startRig(batch: boolean): Promise<Rig> {
  // The upstream's clock starts at the real time, so that assets are created "now": the
  // watcher's back-off counts from an asset's creation time.
  const clock = { now: Date.now() };
  // Assets turn ACTIVE when the clock is moved on 30 minutes: within the simulator's one hour
  // after which it forgets an idle key (and its assets) altogether.
  const state = new SimulatorState({ activationMs: 1_800_000, now: () => clock.now });
  const { upstream, calls } = counting(state);
  const groups: string[] = [];
  const assets: string[] = [];
  for (let g = 0; g < 10; g++) {
    const { id } = await state.createGroup(CALL, { name: `bench group ${g}` });
    groups.push(id);
    for (let a = 0; a < 10; a++) {
      const asset = await state.createAsset(CALL, {
        groupId: id,
        url: `https://cdn.example.com/${g}-${a}.jpg`,
        type: 'IMAGE',
      });
      assets.push(asset.id);
    }
  }
  const { server, live } = await serveLive(upstream, arkStatusSource, batch);
  return { server, live, clock, state, calls, groups, assets };
}

function wsUrl(server: RunningServer): string {
  return server.url.replace(/^http/, 'ws');
}

function ask(child: ChildProcess, message: ToChild): Promise<FromChild> {
  return new Promise((resolve) => {
    child.once('message', (reply: FromChild) => resolve(reply));
    child.send(message);
  });
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const mb = (bytes: number) => `${(bytes / 2 ** 20).toFixed(0)} MB`;
const gc = () => (globalThis as { gc?: () => void }).gc?.();

/** The targets of 1,000 subscribers: half watch a group, half three assets of one group. */
function targets(rig: Pick<Rig, 'groups' | 'assets'>): Target[] {
  return Array.from({ length: 1000 }, (_, i) =>
    i % 2 === 0
      ? { g: rig.groups[i % 10] }
      : { ids: [0, 1, 2].map((k) => rig.assets[(i % 10) * 10 + ((i + k) % 10)]!) },
  );
}

/** Upstream status reads per interval, averaged over `intervals`. */
async function callsPerInterval(rig: Rig, intervals: number) {
  await sleep(INTERVAL_MS); // let the first (subscribe-time) reads settle
  const start = { ...rig.calls };
  await sleep(INTERVAL_MS * intervals);
  return {
    GetAsset: (rig.calls.GetAsset - start.GetAsset) / intervals,
    ListAssets: (rig.calls.ListAssets - start.ListAssets) / intervals,
  };
}

/**
 * Part 5: the apimart client and its ledger against the simulator's apimart face over HTTP,
 * counting `GET /v1/tasks/{id}`; 10 groups of 10 assets, each group uploaded as one review task.
 */
const REVIEW_MS = 3_000_000;

async function apimartRig() {
  // The upstream's clock starts at the real time, so that assets are created "now": the
  // watcher's back-off counts from an asset's creation time.
  const clock = { now: Date.now() };
  // Reviews end after 50 minutes of the controlled clock: under the simulator's one-hour idle
  // limit, after which it forgets a key and its tasks.
  const state = new SimulatorState({ activationMs: REVIEW_MS, now: () => clock.now });
  const handler = createApimartSimulatorHandler(state);
  const reads = { tasks: 0, other: 0 };
  const simulator = createHttpServer((req, res) => {
    if (req.method === 'GET' && req.url?.startsWith('/v1/tasks/')) reads.tasks++;
    else reads.other++;
    if (!handler(req, res)) res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => simulator.listen(0, '127.0.0.1', resolve));
  const dir = await mkdtemp(join(os.tmpdir(), 'bench-apimart-'));
  const ledger = await openLedger({ path: join(dir, 'ledger.sqlite') });
  const upstream = createUpstream({
    dialect: 'apimart',
    baseUrl: `http://127.0.0.1:${(simulator.address() as AddressInfo).port}`,
    ledger: ledger.apimart,
    // Setting up 10 uploads should not wait for the upload pace; the task reads keep theirs.
    rateLimits: { PrivateAvatarAssets: null, CreateGroup: null },
  });
  const groups: string[] = [];
  const assets: string[] = [];
  for (let g = 0; g < 10; g++) {
    const { id } = await upstream.createGroup(CALL, { name: `bench group ${g}` });
    groups.push(id);
    const { ids } = await upstream.createAssets!(
      CALL,
      Array.from({ length: 10 }, (_, a) => ({
        groupId: id,
        url: `https://cdn.example.com/${g}-${a}.jpg`,
        type: 'IMAGE' as const,
      })),
    );
    assets.push(...ids);
  }
  const { server, live } = await serveLive(upstream, apimartStatusSource);
  return {
    server,
    clock,
    reads,
    groups,
    assets,
    async stop() {
      await server.stop();
      await live.stop();
      await upstream.close();
      await ledger.close();
      await new Promise((resolve) => simulator.close(resolve));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Part 5, printed through `say`. */
async function apimartPart(child: ChildProcess, say: (line: string) => void): Promise<void> {
  const rig = await apimartRig();
  await ask(child, {
    cmd: 'subscribe',
    url: wsUrl(rig.server),
    connections: 1000,
    perConnection: 1,
    targets: targets(rig),
  });
  const perInterval = async (intervals: number) => {
    await sleep(INTERVAL_MS);
    const start = rig.reads.tasks;
    await sleep(INTERVAL_MS * intervals);
    return (rig.reads.tasks - start) / intervals;
  };
  const processing = await perInterval(3);
  rig.clock.now += REVIEW_MS; // every review task ends now
  await sleep(INTERVAL_MS * 2 + 500);
  const final = await perInterval(2);
  const { active } = (await ask(child, { cmd: 'close' })) as { active: number[] };
  await new Promise((resolve) => child.once('message', resolve)); // closed
  say(
    `\napimart dialect (by review task, GET /v1/tasks/{id}): 1,000 subscribers, 100 assets in 10 review tasks`,
  );
  say(`  while processing: ${processing.toFixed(1)} task reads per interval (target ≤ 10)`);
  say(`  once all ended:   ${final.toFixed(1)} task reads per interval (target 0)`);
  say(`  ${active.length} ACTIVE events delivered`);
  await rig.stop();
}

async function parentMain(): Promise<void> {
  const child = fork(fileURLToPath(import.meta.url), ['clients'], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const lines: string[] = [];
  const say = (line: string) => {
    lines.push(line);
    console.log(line);
  };
  say(
    `\navatar-gateway bench: live status (${os.cpus().length} × ${os.cpus()[0]?.model.trim()}, Node ${process.version}, interval ${INTERVAL_MS} ms, back-off after ${BACKOFF_AFTER_MS / 1000} s)`,
  );

  if (process.env.BENCH_ONLY === 'apimart') {
    await apimartPart(child, say);
    child.kill();
    return;
  }

  // 1 and 2: calls per interval, unbatched then batched; latency of the flip on the batched run.
  for (const batch of [false, true]) {
    const rig = await startRig(batch);
    await ask(child, {
      cmd: 'subscribe',
      url: wsUrl(rig.server),
      connections: 1000,
      perConnection: 1,
      targets: targets(rig),
    });
    const processing = await callsPerInterval(rig, 3);
    const flippedAt = Date.now();
    rig.clock.now += 1_800_000; // every asset turns ACTIVE upstream now
    await sleep(INTERVAL_MS * 2 + 500);
    const final = await callsPerInterval(rig, 2);
    const { active } = (await ask(child, { cmd: 'close' })) as { active: number[] };
    await new Promise((resolve) => child.once('message', resolve)); // closed
    say(
      `\n${batch ? 'batched by group (ListAssets)' : 'unbatched (GetAsset per asset)'}: 1,000 subscribers, 100 PROCESSING assets in 10 groups`,
    );
    say(
      `  while processing: ${processing.GetAsset.toFixed(1)} GetAsset + ${processing.ListAssets.toFixed(1)} ListAssets per interval (target ≤ ${batch ? 10 : 100})`,
    );
    say(
      `  once all final:   ${final.GetAsset.toFixed(1)} GetAsset + ${final.ListAssets.toFixed(1)} ListAssets per interval (target 0)`,
    );
    if (batch) {
      const latencies = active.map((at) => at - flippedAt).sort((a, b) => a - b);
      const at = (q: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
      say(`\ndelivery latency, upstream flip -> client (${latencies.length} ACTIVE events)`);
      say(
        `  p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${latencies.at(-1)} ms (target p95 ≤ ${INTERVAL_MS + 250} ms)`,
      );
    }
    await rig.server.stop();
    await rig.live.stop();
  }

  // 3: memory with 10,000 concurrent subscriptions (200 connections × 50).
  {
    const rig = await startRig(true);
    gc();
    const before = process.memoryUsage();
    await ask(child, {
      cmd: 'subscribe',
      url: wsUrl(rig.server),
      connections: 200,
      perConnection: 50,
      targets: targets(rig),
    });
    gc();
    const during = process.memoryUsage();
    const stats = rig.live.watcher.stats();
    say(
      `\n10,000 concurrent subscriptions (200 connections × 50): ${stats.subscribers} live in the watcher`,
    );
    say(
      `  gateway RSS ${mb(during.rss)} (target < 512 MB); heap ${mb(before.heapUsed)} -> ${mb(during.heapUsed)}`,
    );
    await ask(child, { cmd: 'close' });
    await new Promise((resolve) => child.once('message', resolve));

    // 4: churn.
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(100);
    }
    const heapStart = process.memoryUsage().heapUsed;
    const churn = (await ask(child, {
      cmd: 'churn',
      url: wsUrl(rig.server),
      cycles: 10_000,
      concurrency: 50,
    })) as { churned: number; errors: number };
    const deadline = Date.now() + 10_000;
    while (rig.live.watcher.stats().subscribers > 0 && Date.now() < deadline) await sleep(50);
    for (let i = 0; i < 3; i++) {
      gc();
      await sleep(100);
    }
    const heapEnd = process.memoryUsage().heapUsed;
    const left = rig.live.watcher.stats();
    const growth = ((heapEnd - heapStart) / heapStart) * 100;
    say(
      `\n${churn.churned} subscribe-then-abrupt-disconnect cycles (${churn.errors} socket errors)`,
    );
    say(
      `  live subscribers after: ${left.subscribers}, watched assets: ${left.watchedAssets} (target 0)`,
    );
    say(
      `  heap ${mb(heapStart)} -> ${mb(heapEnd)} (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} %, target within 5 %)`,
    );
    await rig.server.stop();
    await rig.live.stop();
  }
  // 5: the apimart dialect.
  await apimartPart(child, say);
  child.kill();
}

if (process.argv[2] === 'clients') {
  void clientMain();
} else {
  parentMain().catch((error) => {
    console.error(error);
    process.exit(1);
  });
}
