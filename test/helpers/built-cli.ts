/**
 * The installed command line: bin/relaxmap.js running dist/ (what npm ci builds through the
 * prepare script, and what batch jobs call). `ensureBuilt` rebuilds dist/ when a source file
 * is newer, so a checkout never tests a stale build.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

function fresh(): boolean {
  const main = join(ROOT, 'dist', 'src', 'cli', 'main.js');
  const sources = Math.max(newestSource(join(ROOT, 'src')), newestSource(join(ROOT, 'workers')), statSync(join(ROOT, 'package.json')).mtimeMs);
  return existsSync(main) && statSync(main).mtimeMs >= sources;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Build dist/ when a source is newer; test files running in parallel build it once (a lock directory). */
export function ensureBuilt(): void {
  if (fresh()) return;
  const lock = join(ROOT, '.tmp', 'build.lock');
  mkdirSync(join(ROOT, '.tmp'), { recursive: true });
  const t0 = Date.now();
  for (;;) {
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, 'pid'), String(process.pid));
      break;
    } catch {
      let holder = 0;
      try {
        holder = Number(readFileSync(join(lock, 'pid'), 'utf8'));
      } catch {
        // being created
      }
      if (holder > 0 && !alive(holder)) rmSync(lock, { recursive: true, force: true });
      else if (Date.now() - t0 > 180_000) throw new Error(`${lock}: another build did not finish in 3 min`);
      else spawnSync('sleep', ['0.2']);
    }
  }
  try {
    if (fresh()) return;
    const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`npm run build failed: ${r.stdout}${r.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function builtCli(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<CliResult> {
  const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: { ...env, NO_COLOR: '1' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((ok) => child.on('close', (code, signal) => ok({ code, signal, stdout, stderr })));
}
