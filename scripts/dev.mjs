#!/usr/bin/env node
// `npm run dev`: the gateway restarted on every change. tsc rebuilds `dist/` incrementally in
// watch mode (tsc, not esbuild, because type-graphql needs decorator metadata), and Node's own
// `--watch` restarts the server when the files it loaded change. Two processes, so this script
// only starts them after a first build and passes SIGINT/SIGTERM on to both.
import { spawn, spawnSync } from 'node:child_process';

const tsc = ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'];
if (spawnSync(process.execPath, tsc, { stdio: 'inherit' }).status !== 0) process.exit(1);

const children = [
  spawn(process.execPath, [...tsc, '--watch', '--preserveWatchOutput'], { stdio: 'inherit' }),
  spawn(process.execPath, ['--watch', 'dist/index.js'], {
    stdio: 'inherit',
  }),
];
// Each child is told to stop once: a second SIGTERM would kill the gateway before it drained.
let stopping = false;
const stopAll = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill(signal);
};
let running = children.length;
for (const child of children) {
  child.on('exit', () => {
    if (--running === 0) process.exit(0);
    // One gone means the session is over: stop the other too.
    stopAll('SIGTERM');
  });
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stopAll(signal));
