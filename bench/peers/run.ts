/**
 * avatar-gateway and its peers, side by side (issue 13): direct undici, avatar-gateway,
 * Hive Gateway + omnigraph and openapi-to-graphql + graphql-yoga, each its own process pinned to
 * one core, against one upstream stub; the load generator and the stub on the other core.
 *
 * Per workload and round, every system in turn (the order rotating each round): a closed loop of
 * 32 connections, 4,096 Bearer keys round robin (pass-through: the key is the upstream key), then
 * an open loop at 100 requests/s for p50/p99. Tables give the medians over rounds, upstream calls
 * per request counted at the stub, peak RSS of the server, and req/s as a ratio to ours.
 * Every system's answers are checked against the stub's data once before measuring.
 *
 * Options (env): PEERS_ROUNDS (3), PEERS_SECONDS (5), PEERS_SYSTEMS (comma list of names, or of
 * their first words: `direct,avatar-gateway,hive,openapi-to-graphql`).
 */
import { isDeepStrictEqual } from 'node:util';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import type { StubGroup } from '../stub.js';
import { openLoop } from '../open-loop.js';
import { closedLoop, keyRotation } from './closed-loop.js';
import { canPin, CORES, peakRssMb, pinSelf, startNode, stop } from './processes.js';
import {
  expectedAnswers,
  SYSTEMS,
  WORKLOADS,
  type Running,
  type System,
  type WorkloadName,
} from './systems.js';

const ROUNDS = Number(process.env.PEERS_ROUNDS ?? 3);
const SECONDS = Number(process.env.PEERS_SECONDS ?? 5);
const CONNECTIONS = 32;
const KEYS = 4096;
const FIXED_RATE = 100;
const OURS = 'avatar-gateway';

const wanted = process.env.PEERS_SYSTEMS?.split(',').map((name) => name.trim().toLowerCase());
const systems = SYSTEMS.filter(
  (system) =>
    !wanted ||
    wanted.some(
      (name) =>
        system.name.toLowerCase() === name || system.name.toLowerCase().split(' ')[0] === name,
    ),
);
const workloads = Object.keys(WORKLOADS) as WorkloadName[];

/** One run of one system on one workload. */
interface Sample {
  rps: number;
  errors: number;
  callsPerRequest: number;
  p50: number;
  p99: number;
}

const median = (values: number[]) => {
  const sorted = values.filter((value) => !Number.isNaN(value)).sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};

/** The stub, in its own process on the load generator's core. */
async function startUpstream() {
  const script = fileURLToPath(new URL('./stub-process.js', import.meta.url));
  const child = startNode(script, CORES.load, {}, { ipc: true });
  const ready = await new Promise<{ url: string; groups: StubGroup[] }>((resolve, reject) => {
    child.once('message', (message) => resolve(message as { url: string; groups: StubGroup[] }));
    child.once('exit', (code) => reject(new Error(`the stub exited (${code})`)));
  });
  /** Upstream calls by action since the last time asked. */
  const calls = () =>
    new Promise<Record<string, number>>((resolve) => {
      child.once('message', (message) =>
        resolve((message as { calls: Record<string, number> }).calls),
      );
      child.send('calls');
    });
  return { ...ready, calls, stop: () => stop(child) };
}

async function main() {
  pinSelf();
  const upstream = await startUpstream();
  const expected = expectedAnswers(upstream);
  const nextKey = keyRotation(KEYS);
  const running = new Map<System, Running>();
  const samples = new Map<string, Sample[]>();
  const sampleKey = (system: System, workload: WorkloadName) => `${system.name}\n${workload}`;
  try {
    for (const system of systems) {
      process.stderr.write(`starting ${system.name}…\n`);
      const started = await system.start(upstream, CONNECTIONS);
      running.set(system, started);
      for (const workload of workloads) {
        const answer = await started.send[workload](nextKey());
        if (!isDeepStrictEqual(answer, expected[workload]))
          throw new Error(
            `${system.name} answers ${workload} wrongly: ${JSON.stringify(answer).slice(0, 300)}`,
          );
        // Warm up: JIT, keep-alive connections, caches a real deployment would have warm.
        await closedLoop(() => started.send[workload](nextKey()).then(() => true), CONNECTIONS, 1);
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const workload of workloads) {
        // Rotate the order so that no system always runs first (or right after another).
        const order = systems.map((_, i) => systems[(i + round) % systems.length]!);
        for (const system of order) {
          const send = running.get(system)!.send[workload];
          const request = () => send(nextKey()).then(() => true);
          process.stderr.write(`round ${round + 1}/${ROUNDS} ${workload} ${system.name}\n`);
          await upstream.calls();
          const closed = await closedLoop(request, CONNECTIONS, SECONDS);
          const calls = Object.values(await upstream.calls()).reduce((a, b) => a + b, 0);
          const open = await openLoop(request, FIXED_RATE, SECONDS);
          const list = samples.get(sampleKey(system, workload)) ?? [];
          list.push({
            rps: closed.rps,
            errors: closed.errors + open.errors,
            callsPerRequest: calls / (closed.completed + closed.errors),
            p50: open.p50,
            p99: open.p99,
          });
          samples.set(sampleKey(system, workload), list);
        }
      }
    }
    const rss = new Map(
      systems.map((system) => [system, peakRssMb(running.get(system)?.pid ?? -1)]),
    );
    report(samples, sampleKey, rss);
  } finally {
    for (const started of running.values()) await started.stop();
    await upstream.stop();
  }
}

function report(
  samples: Map<string, Sample[]>,
  sampleKey: (system: System, workload: WorkloadName) => string,
  rss: Map<System, number>,
) {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  console.log(
    `\navatar-gateway and its peers (${os.cpus().length} × ${cpu}, Node ${process.version})`,
  );
  console.log(
    `closed loop: ${CONNECTIONS} connections, ${KEYS} keys round robin, ${SECONDS} s; ` +
      `open loop: ${FIXED_RATE} req/s, ${SECONDS} s; medians of ${ROUNDS} interleaved round(s); ` +
      (canPin
        ? `servers on core ${CORES.server}, load generator and stub on core ${CORES.load}`
        : 'NOT pinned (needs 2 cores and taskset)'),
  );
  const ours = systems.find((system) => system.name === OURS);
  for (const workload of workloads) {
    console.log(`\n${workload}: ${WORKLOADS[workload]}\n`);
    console.log(
      '| system | req/s | p50 ms @100/s | p99 ms @100/s | upstream calls/request | RSS MB | req/s vs ours | errors |',
    );
    console.log('| --- | --- | --- | --- | --- | --- | --- | --- |');
    const oursRps = ours && median(samples.get(sampleKey(ours, workload))!.map((s) => s.rps));
    for (const system of systems) {
      const list = samples.get(sampleKey(system, workload)) ?? [];
      const rps = median(list.map((s) => s.rps));
      const memory = rss.get(system)!;
      const cells = [
        system.name,
        rps.toFixed(0),
        median(list.map((s) => s.p50)).toFixed(2),
        median(list.map((s) => s.p99)).toFixed(2),
        median(list.map((s) => s.callsPerRequest)).toFixed(2),
        Number.isNaN(memory) ? '–' : memory.toFixed(0),
        oursRps ? `${(rps / oursRps).toFixed(2)}×` : '–',
        String(list.reduce((sum, s) => sum + s.errors, 0)),
      ];
      console.log(`| ${cells.join(' | ')} |`);
    }
    for (const system of systems) {
      const note = system.notes?.[workload];
      if (note) console.log(`\n${system.name}: ${note}.`);
    }
  }
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
