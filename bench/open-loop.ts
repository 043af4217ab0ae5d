/** The open-loop load both latency benchmarks use: a fixed arrival rate, whatever the server does. */

/** Latency and throughput of one run. */
export interface OpenLoopFigures {
  /** Median latency of the successful requests, ms. */
  p50: number;
  /** 99th percentile latency of the successful requests, ms. */
  p99: number;
  /** Successful requests per second achieved. */
  rps: number;
  /** Requests that failed or answered wrong. */
  errors: number;
}

/**
 * Starts a request every 1/`rate` s for `seconds`, without waiting for earlier ones, so a slow
 * server shows as latency rather than as fewer requests (no coordinated omission).
 * `send` resolves true for a correct answer.
 */
export async function openLoop(
  send: () => Promise<boolean>,
  rate: number,
  seconds: number,
): Promise<OpenLoopFigures> {
  const latencies: number[] = [];
  let errors = 0;
  const total = rate * seconds;
  const started = performance.now();
  const pending: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    const t0 = performance.now();
    pending.push(
      send().then(
        (ok) => {
          if (ok) latencies.push(performance.now() - t0);
          else errors++;
        },
        () => void errors++,
      ),
    );
  }
  await Promise.all(pending);
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN;
  return { p50: at(0.5), p99: at(0.99), rps: latencies.length / elapsed, errors };
}
