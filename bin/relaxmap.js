#!/usr/bin/env node
// Launcher: runs the compiled CLI (npm install / npm ci build it through "prepare").
import { existsSync } from 'node:fs';

const entry = new URL('../dist/src/cli/main.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write('relaxmap: the compiled CLI is missing (dist/). Run `npm run build` (npm install does this).\n');
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv);
