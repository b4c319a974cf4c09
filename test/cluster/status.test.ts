/**
 * relaxmap status on a sweep directory in every state a shard can be in: complete (a real
 * shard run), stopped (checkpoints, a dead run's lock, the scheduler's message in its log),
 * running (a live lock, here or on another host within its lease), pending. Counts, rate and
 * ETA are checked against numbers computed here from the files this test wrote.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slurmCommand } from '../../src/cli/commands/slurm.js';
import { statusCommand } from '../../src/cli/commands/status.js';
import { formatStatus, sweepStatus } from '../../src/cluster/status.js';
import { reportError } from '../../src/cli/exit-codes.js';
import { runSweep } from '../../src/sweep/executor.js';
import { mergeShards } from '../../src/sweep/merge.js';
import { NeedsResumeError } from '../../src/sweep/run-errors.js';
import { ensureBuilt } from '../helpers/built-cli.js';
import { pairSweepSpec } from '../helpers/pair-sweep-spec.js';

const SPEC = pairSweepSpec({ name: 'status', timePoints: 5, T: { log: [1, 300], points: 40 }, B0: { lin: [1, 20], points: 20 } });
// 800 points in 16 chunks of 50: shard i of 4 holds chunks i, i+4, i+8, i+12
const sink = (): NodeJS.WritableStream & { text: string } => {
  const s = { text: '', write: (c: string) => ((s.text += c), true) };
  return s as unknown as NodeJS.WritableStream & { text: string };
};

let tmp: string;
let dir: string;
const NOW = Date.now();

function lock(shard: number, holder: Record<string, unknown>): void {
  mkdirSync(join(dir, 'shards', String(shard), '.relaxmap'), { recursive: true });
  writeFileSync(join(dir, 'shards', String(shard), '.relaxmap', 'lock'), JSON.stringify(holder));
}
function chunks(shard: number, ids: readonly number[]): void {
  const d = join(dir, 'shards', String(shard), 'chunks');
  mkdirSync(d, { recursive: true });
  for (const id of ids) writeFileSync(join(d, `chunk-${String(id).padStart(6, '0')}.f64`), '');
  // a checkpoint being written is not a finished chunk
  writeFileSync(join(d, `chunk-${String(ids[0] ?? 0).padStart(6, '0')}.f64.123.abc.tmp`), '');
}

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'relaxmap-status-'));
  writeFileSync(join(tmp, 'status.yaml'), SPEC);
  dir = join(tmp, 'sweep');
  ensureBuilt();
  await slurmCommand(join(tmp, 'status.yaml'), { shards: '4', out: dir, chunkSize: '50' }, sink());
  // shard 0: really computed
  await runSweep({ specPath: join(dir, 'spec.yaml'), outDir: join(dir, 'shards', '0'), shard: { index: 0, count: 4 }, chunkSize: 50, quiet: true });
  // shard 1: stopped after 3 of its 4 chunks; the dead run's lock is left behind
  chunks(1, [1, 5, 9]);
  lock(1, { pid: 2 ** 22 + 17, host: hostname(), started: new Date(NOW - 60_000).toISOString() });
  mkdirSync(join(dir, 'logs'), { recursive: true });
  writeFileSync(
    join(dir, 'logs', 'shard-1.out'),
    ['relaxmap: 800 points in 16 chunks of 50, shard 1/4: 4 chunks', 'slurmstepd: error: *** JOB 12 ON rmnode CANCELLED AT 2026-01-01T00:00:00 ***', 'relaxmap: 150/200 points (75.0%)', ''].join('\n'),
  );
  // shard 2: running here for 10 s with 2 chunks done (a live process of this host: the test runner)
  chunks(2, [2, 6]);
  lock(2, { pid: process.ppid, host: hostname(), started: new Date(NOW - 10_000).toISOString() });
  // shard 3: not started
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('relaxmap status', () => {
  it('counts per shard and overall, running from the lock, the last error from the log, ETA from the rate', () => {
    const st = sweepStatus(dir, NOW);
    expect(st.shards.map((s) => [s.state, s.chunksDone, s.chunksTotal, s.pointsDone, s.pointsTotal])).toEqual([
      ['complete', 4, 4, 200, 200],
      ['stopped', 3, 4, 150, 200],
      ['running', 2, 4, 100, 200],
      ['pending', 0, 4, 0, 200],
    ]);
    expect(st).toMatchObject({ chunksDone: 9, chunksTotal: 16, pointsDone: 450, pointsTotal: 800, running: 1, merged: false, complete: false });
    expect(st.shards[1]?.lastError).toBe('slurmstepd: error: *** JOB 12 ON rmnode CANCELLED AT 2026-01-01T00:00:00 ***');
    expect(st.shards[2]?.lastError).toBeNull();
    // 100 points in the 10 s since the running shard started: 350 to go at 10 points/s
    expect(st.shards[2]?.rate).toBeCloseTo(10, 6);
    expect(st.etaSeconds).toBeCloseTo(35, 6);
    const text = formatStatus(st, NOW);
    expect(text).toMatch(/^2 +running +2\/4 +100\/200 +\S+ pid \d+/m);
    expect(text).toContain('total: 9/16 chunks, 450/800 points (56.3%); shards 1/4 complete, 1 running; ETA 35 s at the current rate');
  });

  it('the merge job on this state: a shard incomplete, exit 3 ("needs resume"), nothing written', async () => {
    const dirs = [0, 1, 2, 3].map((i) => join(dir, 'shards', String(i))).filter((d) => existsSync(d));
    const err = await mergeShards(dirs, dir).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NeedsResumeError);
    expect((err as Error).message).toMatch(/shards\/1: shard incomplete \(no shard.json\).*resubmit the array/);
    expect(reportError(err, sink())).toBe(3);
    // only shard 0 given: the chunks of shards 1-3 are missing, also "needs resume"
    const missing = await mergeShards([dirs[0] as string], dir).catch((e: unknown) => e);
    expect((missing as Error).message).toMatch(/12 of 16 chunks are missing .*shards 1, 2, 3 of 4 not given/);
    expect(reportError(missing, sink())).toBe(3);
    expect(existsSync(join(dir, 'surfaces.nc'))).toBe(false);
  });

  it('a lock from another host is live while its heartbeat is within the lease', () => {
    lock(2, { pid: 1, host: 'compute-17', started: new Date(NOW - 10_000).toISOString(), heartbeat: new Date(NOW - 5_000).toISOString() });
    expect(sweepStatus(dir, NOW).shards[2]?.state).toBe('running');
    lock(2, { pid: 1, host: 'compute-17', started: new Date(NOW - 900_000).toISOString(), heartbeat: new Date(NOW - 600_000).toISOString() });
    const st = sweepStatus(dir, NOW);
    expect(st.shards[2]?.state).toBe('stopped');
    expect(st.running).toBe(0);
    expect(st.etaSeconds).toBeNull();
    expect(formatStatus(st, NOW)).toMatch(/resubmit the array \(finished shards exit at once\)/);
  });

  it('exit 3 until every shard is complete and merged, then 0; --json; a single run directory', async () => {
    const out = sink();
    expect(statusCommand(dir, { json: true }, out)).toBe(3);
    expect((JSON.parse(out.text) as { chunksTotal: number }).chunksTotal).toBe(16);
    for (const i of [1, 2, 3]) {
      rmSync(join(dir, 'shards', String(i)), { recursive: true, force: true });
      await runSweep({ specPath: join(dir, 'spec.yaml'), outDir: join(dir, 'shards', String(i)), shard: { index: i, count: 4 }, chunkSize: 50, quiet: true });
    }
    const done = sweepStatus(dir);
    expect(done.shards.map((s) => s.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
    expect(done.complete).toBe(false);
    expect(formatStatus(done)).toContain('merged: not yet (the merge job runs once the array has ended)');
    writeFileSync(join(dir, 'run.json'), '{}');
    expect(statusCommand(dir, {}, sink())).toBe(0);
    unlinkSync(join(dir, 'run.json'));
    // a plain run directory: complete when its outputs are written
    const run = join(tmp, 'run');
    await runSweep({ specPath: join(tmp, 'status.yaml'), outDir: run, quiet: true });
    const o = sink();
    expect(statusCommand(run, {}, o)).toBe(0);
    expect(o.text).toContain('total: 4/4 chunks, 800/800 points (100.0%)');
    expect(() => sweepStatus(join(tmp, 'status.yaml', '..', 'nothing'))).toThrow(/no such directory/);
    mkdirSync(join(tmp, 'empty'));
    expect(() => sweepStatus(join(tmp, 'empty'))).toThrow(/neither a sweep of relaxmap slurm/);
  }, 60_000);
});
