/**
 * Preloaded into the gateway process by `attacks.ts` (with `--expose-gc`): a full garbage
 * collection on SIGUSR2, so that memory read from `/metrics` afterwards is what is still held,
 * not garbage the collector has not reached yet. Bench only; never part of the gateway.
 */
process.on('SIGUSR2', () => (globalThis as { gc?: () => void }).gc?.());
