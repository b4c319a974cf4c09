#!/usr/bin/env -S node --single-threaded-gc
// Launcher: runs the compiled CLI (npm install / npm ci build it through "prepare").
// --single-threaded-gc: each thread collects its own heap. V8's default parallel and concurrent
// collector tasks run on a pool of helper threads that, on a machine whose cores relaxmap's own
// threads already fill, compete with them: on 2 cores a hybrid dnp-e3h round spent 72-82 ms of
// CPU in those helpers and took 88-93 ms, against 33 ms and 52-74 ms with this flag
// (BENCHMARKS.md). src/cluster/launcher.ts passes the same flag to batch jobs.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('relaxmap: the compiled CLI is missing (dist/). Run `npm run build` (npm install does this).\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
