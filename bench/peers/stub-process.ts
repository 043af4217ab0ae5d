/**
 * The shared upstream stub as a process of its own, so it can be pinned to a core: sends
 * `{ url, groups }` once listening, and answers a `calls` message with the counts
 * by action since the last one.
 */
import { startStub } from '../stub.js';

const stub = await startStub({ groups: 50, assetsPerGroup: 2 });
process.on('message', (message) => {
  if (message !== 'calls') return;
  process.send?.({ calls: Object.fromEntries(stub.calls) });
  stub.calls.clear();
});
process.on('disconnect', () => void stub.stop());
process.send?.({ url: stub.url, groups: stub.groups });
