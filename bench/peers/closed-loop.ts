/** The closed-loop load: a fixed number of clients, each sending its next request on an answer. */

/** Throughput of one closed-loop run. */
export interface ClosedLoopFigures {
  /** Correct answers per second. */
  rps: number;
  /** Correct answers. */
  completed: number;
  /** Requests that failed or answered wrong. */
  errors: number;
}

/**
 * Runs `connections` loops for `seconds`, each awaiting `send` before the next request.
 * `send` rejects (or resolves false) on a wrong answer.
 */
export async function closedLoop(
  send: () => Promise<boolean>,
  connections: number,
  seconds: number,
): Promise<ClosedLoopFigures> {
  let completed = 0;
  let errors = 0;
  const started = performance.now();
  const end = started + seconds * 1000;
  const client = async () => {
    while (performance.now() < end) {
      const ok = await send().catch(() => false);
      if (ok) completed++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  const elapsed = (performance.now() - started) / 1000;
  return { rps: completed / elapsed, completed, errors };
}

/** `Bearer` keys `bench-key-0000`… handed out round robin, one per request. */
export function keyRotation(count: number): () => string {
  const keys = Array.from(
    { length: count },
    (_, i) => `Bearer bench-key-${String(i).padStart(4, '0')}`,
  );
  let next = 0;
  return () => keys[next++ % count]!;
}
