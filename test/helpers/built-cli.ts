/**
 * The installed command line: bin/relaxmap.js running dist/ (what npm ci builds through the
 * prepare script, and what batch jobs call). `ensureBuilt` rebuilds dist/ when a source file
 * is newer, so a checkout never tests a stale build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, type CliResult } from './cli.js';

export const BIN = join(ROOT, 'bin', 'relaxmap.js');

function newestSource(dir: string): number {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|js|json)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

export function ensureBuilt(): void {
  const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'workers')), statSync(join(ROOT, 'package.json')).mtimeMs);
  if (existsSync(main) && statSync(main).mtimeMs >= sources) return;
  const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
}

export function builtCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr })));
}
