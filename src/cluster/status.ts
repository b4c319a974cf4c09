/**
 * Progress of a sweep directory written by `relaxmap slurm` (or of one run directory),
 * read from the files alone: no scheduler is asked, so it works on any machine that sees
 * the directory. Per shard: chunks done (checkpoint files, or shard.json once complete),
 * whether a run holds it (its lock), and the last error its log or error file records.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { UsageError } from '../spec/errors.js';
import { chunkOf, shardChunks, type RunPlan } from '../sweep/plan.js';
import { readRunLock, type LockView } from './lock-view.js';
import { LOGS_DIR, readSweepManifest, shardDir } from './sweep-manifest.js';

export type ShardState = 'complete' | 'running' | 'stopped' | 'pending';

export interface ShardStatus {
  readonly index: number | null;
  readonly dir: string;
  /** complete: results written; running: a live run holds it; stopped: started, no live run (interrupted, killed, failed); pending: not started. */
  readonly state: ShardState;
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly pointsDone: number;
  readonly pointsTotal: number;
  readonly lock: LockView | null;
  readonly lastError: string | null;
  /** Points per second of the run holding it (since it started), when running. */
  readonly rate: number | null;
}

export interface SweepStatus {
  readonly dir: string;
  readonly kind: 'sweep' | 'run';
  readonly shards: readonly ShardStatus[];
  readonly chunksDone: number;
  readonly chunksTotal: number;
  readonly pointsDone: number;
  readonly pointsTotal: number;
  readonly running: number;
  /** The merged (or, for a run directory, the final) outputs exist. */
  readonly merged: boolean;
  readonly complete: boolean;
  /** Seconds to go at the rate of the runs now running; null when none runs. */
  readonly etaSeconds: number | null;
  readonly jobs: { readonly array: string; readonly merge: string | null } | null;
}

const CHUNK_FILE = /^chunk-(\d+)\.f64$/;

/** The ids of checkpoint files in a chunks directory (complete files only: they are renamed into place). */
function chunkFiles(dir: string): Array<{ id: number; mtimeMs: number }> {
  if (!existsSync(dir)) return [];
  const out: Array<{ id: number; mtimeMs: number }> = [];
  for (const f of readdirSync(dir)) {
    const m = CHUNK_FILE.exec(f);
    if (!m) continue;
    try {
      out.push({ id: Number(m[1]), mtimeMs: statSync(join(dir, f)).mtimeMs });
    } catch {
      // renamed away meanwhile (the run finished): counted from shard.json next time
    }
  }
  return out;
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

/** Lines that say why a task stopped: relaxmap's own messages and the scheduler's. */
const ERROR_LINE = /relaxmap: (error|.*interrupted)|^relaxmap: .*(refused|missing|expected|differs)|slurmstepd.*(CANCELLED|TIME LIMIT|PREEMPTION|NODE FAILURE)|oom[-_ ]kill|Out Of Memory|Killed/i;

function lastErrorOf(paths: readonly string[]): string | null {
  for (const p of paths) {
    let text: string;
    try {
      text = readFileSync(p, 'utf8');
    } catch {
      continue;
    }
    const lines = text.split('\n').filter((l) => ERROR_LINE.test(l));
    const last = lines[lines.length - 1];
    if (last !== undefined) return last.trim().slice(0, 500);
  }
  return null;
}

function countPoints(plan: RunPlan, ids: Iterable<number>): number {
  let n = 0;
  for (const id of ids) n += chunkOf(plan, id).count;
  return n;
}

/** Status of one run or shard directory whose chunks are `ids` of `plan`. */
function runStatus(dir: string, index: number | null, plan: RunPlan, ids: readonly number[], logs: readonly string[], now: number): ShardStatus {
  const total = { chunksTotal: ids.length, pointsTotal: countPoints(plan, ids) };
  const finished = existsSync(join(dir, 'shard.json')) || (index === null && existsSync(join(dir, 'run.json')));
  if (finished) {
    return { index, dir, state: 'complete', chunksDone: ids.length, pointsDone: total.pointsTotal, ...total, lock: null, lastError: null, rate: null };
  }
  const state = join(dir, '.relaxmap');
  const mine = new Set(ids);
  const files = [...chunkFiles(join(dir, 'chunks')), ...chunkFiles(join(state, 'chunks'))].filter((f) => mine.has(f.id));
  const done = new Set(files.map((f) => f.id));
  const pointsDone = countPoints(plan, done);
  const lock = readRunLock(dir);
  const started = existsSync(state) || files.length > 0;
  const running = lock?.live === true;
  let rate: number | null = null;
  if (running && lock.startedMs !== null) {
    const since = files.filter((f) => f.mtimeMs >= (lock.startedMs as number));
    const seconds = (now - lock.startedMs) / 1000;
    rate = seconds > 0 ? countPoints(plan, since.map((f) => f.id)) / seconds : null;
  }
  return {
    index,
    dir,
    state: running ? 'running' : started ? 'stopped' : 'pending',
    chunksDone: done.size,
    pointsDone,
    ...total,
    lock,
    lastError: running ? null : lastErrorOf([join(state, 'error.log'), ...logs]),
    rate,
  };
}

function summarize(dir: string, kind: 'sweep' | 'run', shards: ShardStatus[], merged: boolean, jobs: SweepStatus['jobs']): SweepStatus {
  const sum = (f: (s: ShardStatus) => number): number => shards.reduce((a, s) => a + f(s), 0);
  const pointsDone = sum((s) => s.pointsDone);
  const pointsTotal = sum((s) => s.pointsTotal);
  const rate = sum((s) => s.rate ?? 0);
  const running = shards.filter((s) => s.state === 'running').length;
  const allDone = shards.every((s) => s.state === 'complete');
  return {
    dir,
    kind,
    shards,
    chunksDone: sum((s) => s.chunksDone),
    chunksTotal: sum((s) => s.chunksTotal),
    pointsDone,
    pointsTotal,
    running,
    merged,
    complete: allDone && merged,
    etaSeconds: running > 0 && rate > 0 ? (pointsTotal - pointsDone) / rate : null,
    jobs,
  };
}

/** Status of DIR: a sweep of `relaxmap slurm` (DIR/sweep.json), or a single run directory. */
export function sweepStatus(dirArg: string, now: number = Date.now()): SweepStatus {
  const dir = resolve(dirArg);
  if (!existsSync(dir)) throw new UsageError(`${dirArg}: no such directory`);
  const manifest = readSweepManifest(dir);
  if (manifest) {
    const plan = manifest.plan;
    const shards = Array.from({ length: manifest.shards }, (_, i) =>
      runStatus(shardDir(dir, i), i, plan, shardChunks(plan, { index: i, count: manifest.shards }), [join(dir, LOGS_DIR, `shard-${i}.out`)], now),
    );
    return summarize(dir, 'sweep', shards, existsSync(join(dir, 'run.json')), manifest.jobs ? { array: manifest.jobs.array, merge: manifest.jobs.merge } : null);
  }
  const stored = readJson<{ plan: RunPlan; shard: { index: number; count: number } | null }>(join(dir, '.relaxmap', 'plan.json'));
  const finalInfo = readJson<{ chunks?: { count?: number }; grid?: { points?: number }; shard?: { index: number; count: number } | null }>(join(dir, existsSync(join(dir, 'shard.json')) ? 'shard.json' : 'run.json'));
  if (stored) {
    const ids = shardChunks(stored.plan, stored.shard ?? undefined);
    const s = runStatus(dir, stored.shard?.index ?? null, stored.plan, ids, [], now);
    return summarize(dir, 'run', [s], false, null);
  }
  if (finalInfo) {
    const full = readJson<{ plan?: RunPlan; chunk_ids?: number[] }>(join(dir, 'shard.json'));
    const chunks = full?.chunk_ids?.length ?? finalInfo.chunks?.count ?? 0;
    const points = full?.plan && full.chunk_ids ? countPoints(full.plan, full.chunk_ids) : (finalInfo.grid?.points ?? 0);
    const s: ShardStatus = { index: finalInfo.shard?.index ?? null, dir, state: 'complete', chunksDone: chunks, chunksTotal: chunks, pointsDone: points, pointsTotal: points, lock: null, lastError: null, rate: null };
    return summarize(dir, 'run', [s], true, null);
  }
  throw new UsageError(`${dirArg}: neither a sweep of relaxmap slurm (no sweep.json) nor a run directory (no run.json, shard.json or .relaxmap/plan.json)`);
}

function duration(s: number): string {
  if (s < 90) return `${Math.round(s)} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** The table `relaxmap status` prints. */
export function formatStatus(st: SweepStatus, now: number = Date.now()): string {
  const pct = (a: number, b: number): string => (b > 0 ? `${((100 * a) / b).toFixed(1)}%` : '100%');
  const rows = st.shards.map((s) => {
    const who = s.lock ? `${s.lock.host ?? '?'} pid ${s.lock.pid ?? '?'}${s.lock.heartbeatMs !== null ? `, heartbeat ${duration(Math.max(0, now - s.lock.heartbeatMs) / 1000)} ago` : ''}` : '';
    return [String(s.index ?? '-'), s.state, `${s.chunksDone}/${s.chunksTotal}`, `${s.pointsDone}/${s.pointsTotal}`, s.state === 'running' ? who : (s.lastError ?? '')];
  });
  const head = ['shard', 'state', 'chunks', 'points', 'run / last error'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const line = (r: readonly string[]): string =>
    r
      .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  const out = [`${st.kind === 'sweep' ? 'sweep' : 'run'} ${st.dir}${st.jobs ? ` (array job ${st.jobs.array}${st.jobs.merge ? `, merge job ${st.jobs.merge}` : ''})` : ''}`, line(head), ...rows.map(line)];
  const shardsDone = st.shards.filter((s) => s.state === 'complete').length;
  out.push(
    `total: ${st.chunksDone}/${st.chunksTotal} chunks, ${st.pointsDone}/${st.pointsTotal} points (${pct(st.pointsDone, st.pointsTotal)}); shards ${shardsDone}/${st.shards.length} complete, ${st.running} running${st.etaSeconds !== null ? `; ETA ${duration(st.etaSeconds)} at the current rate` : ''}`,
  );
  if (st.kind === 'sweep') {
    if (st.merged) out.push('merged: yes (surfaces.nc, points.csv, run.json in the directory)');
    else if (shardsDone === st.shards.length) out.push('merged: not yet (the merge job runs once the array has ended)');
    else if (st.running === 0 && st.shards.some((s) => s.state === 'stopped')) {
      out.push('merged: no; stopped shards with no run holding them: unless their tasks are queued again (squeue), resubmit the array (finished shards exit at once), then the merge');
    }
    else out.push('merged: not yet');
  }
  return `${out.join('\n')}\n`;
}
