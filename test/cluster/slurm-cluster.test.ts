/**
 * relaxmap on a real SLURM scheduler: a private munged + slurmctld + slurmd on localhost
 * (test/helpers/slurm.ts). `relaxmap slurm --submit` as a user types it, with the installed
 * command line (bin/relaxmap.js, dist/); the merged directory is compared with a local
 * `relaxmap run` of the same spec: points.csv byte for byte, the NetCDF files with xarray's
 * identical(). Then the same with one array task cancelled mid-run and requeued, and
 * `relaxmap status` checked against the checkpoint files during and after.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, builtCli, ensureBuilt } from '../helpers/built-cli.js';
import { expectSameRun } from '../helpers/compare-runs.js';
import { foreignPaths } from '../helpers/script-paths.js';
import { slurmUnavailable, startCluster, type Cluster } from '../helpers/slurm.js';

// An electron and two protons over 2 models x 64 T x 16 B0 x 8 tau_c = 16,384 points, about
// 5 s on one core (eigen-decompositions of a 64-dimensional Liouville space, reduced to 8),
// in 64 chunks of 256 (the default chunking), 16 per shard: several seconds of computing per
// task, little to write.
const SPEC = `version: 1
name: slurm-three-spin
spins:
  - { id: e, isotope: e }
  - { id: h, isotope: 1H }
  - { id: g, isotope: 1H }
parameters: { T: 4, B0: 6.7, tau_c: 1e-9, tau_e: 1e-11, r_eh: 4.5e-10, r_eg: 6e-10 }
relaxation:
  - { type: dipolar, spins: [e, h], distance_m: r_eh, tau_c: tau_c }
  - { type: dipolar, spins: [e, g], distance_m: r_eg, tau_c: tau_c }
  - { type: random_field, spins: [e], rms_hz: 5e8, tau_c: tau_e }
thermalization: [rodin-abergel, bengs-levitt]
initial: saturated
observables:
  Ez: Iz(e)
  Hz: Iz(h) + Iz(g)
time: { log: [1e-9, 1e3], points: 9 }
sweep:
  T: { log: [1, 100], points: 64 }
  B0: { lin: [3.4, 14.1], points: 16 }
  tau_c: { log: [1e-10, 1e-8], points: 8 }
outputs: [rates, eigenrates, steady_state, trajectories]
`;
const POINTS = 16384;
const CHUNK = 256;
const SHARDS = 4;
const CHUNKS = 64;
const PER_SHARD = CHUNKS / SHARDS;

interface StatusJson {
  complete: boolean;
  merged: boolean;
  chunksDone: number;
  chunksTotal: number;
  pointsDone: number;
  pointsTotal: number;
  running: number;
  shards: Array<{ index: number; state: string; chunksDone: number; chunksTotal: number; pointsDone: number; pointsTotal: number; lastError: string | null }>;
}

const sleep = (ms: number): Promise<void> => new Promise((ok) => setTimeout(ok, ms));

/** Checkpoint files per shard, counted here independently of relaxmap status. */
function chunkCounts(dir: string): number[] {
  return Array.from({ length: SHARDS }, (_, i) => {
    const d = join(dir, 'shards', String(i), 'chunks');
    return existsSync(d) ? readdirSync(d).filter((f) => /^chunk-\d+\.f64$/.test(f)).length : 0;
  });
}

/** relaxmap status --json, bracketed by two independent counts (chunks only ever appear). */
async function statusBracketed(dir: string): Promise<{ code: number | null; st: StatusJson; before: number[]; after: number[] }> {
  const before = chunkCounts(dir);
  const r = await builtCli(['status', dir, '--json']);
  const after = chunkCounts(dir);
  expect(r.stderr).toBe('');
  const st = JSON.parse(r.stdout) as StatusJson;
  expect(st.chunksTotal).toBe(CHUNKS);
  expect(st.pointsTotal).toBe(POINTS);
  expect(st.shards.map((s) => s.chunksTotal)).toEqual([PER_SHARD, PER_SHARD, PER_SHARD, PER_SHARD]);
  st.shards.forEach((s, i) => {
    expect(s.chunksDone).toBeGreaterThanOrEqual(before[i] as number);
    expect(s.chunksDone).toBeLessThanOrEqual(after[i] as number);
    expect(s.pointsDone).toBe(s.chunksDone * CHUNK);
    if (s.state === 'complete') expect(s.chunksDone).toBe(PER_SHARD);
  });
  expect(st.chunksDone).toBe(st.shards.reduce((a, s) => a + s.chunksDone, 0));
  expect(r.code).toBe(st.complete ? 0 : 3);
  return { code: r.code, st, before, after };
}

/** Submit with the installed CLI; the job ids from its output. */
async function submit(cluster: Cluster, spec: string, dir: string): Promise<{ array: string; merge: string }> {
  const r = await builtCli(['slurm', spec, '--shards', String(SHARDS), '--out', dir, '--cpus-per-task', '1', '--time', '00:10:00', '--submit'], cluster.env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const m = /submitted array job (\d+) \(tasks 0-3\) and merge job (\d+)/.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  expect(r.stdout).toContain(`progress: relaxmap status ${dir}`);
  return { array: m?.[1] as string, merge: m?.[2] as string };
}

function expectMergeCompleted(cluster: Cluster, merge: string): void {
  const job = cluster.show(merge);
  expect(job.get('JobState')).toBe('COMPLETED');
  expect(job.get('ExitCode')).toBe('0:0');
}

const unavailable = slurmUnavailable();

describe.skipIf(unavailable !== undefined)(`relaxmap on a local SLURM cluster${unavailable ? ` (skipped: ${unavailable})` : ''}`, () => {
  let cluster: Cluster;
  let tmp: string;
  let spec: string;
  let reference: string;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'relaxmap-slurm-test-'));
    spec = join(tmp, 'sweep.yaml');
    writeFileSync(spec, SPEC);
    reference = join(tmp, 'local');
    ensureBuilt();
    // the local reference run and the daemons' start-up overlap
    const [local, c] = await Promise.all([builtCli(['run', spec, '--out', reference, '--quiet']), startCluster()]);
    cluster = c;
    expect(local.stderr).toBe('');
    expect(local.code).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await cluster?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }, 60_000);

  it('(a) relaxmap slurm --submit: 4 array tasks and the merge job reproduce the local run; status during and after', async () => {
    const dir = join(tmp, 'a');
    const t0 = Date.now();
    const jobs = await submit(cluster, spec, dir);

    // the scripts: valid bash, the installed relaxmap by absolute path, no other path of this machine
    for (const f of ['relaxmap-array.sbatch', 'relaxmap-merge.sbatch']) {
      const text = readFileSync(join(dir, f), 'utf8');
      expect(spawnSync('bash', ['-n', join(dir, f)]).status).toBe(0);
      const [node, bin] = [realpathSync(process.execPath), realpathSync(BIN)];
      expect(text).toContain(`exec ${node} ${bin} `);
      // no absolute path after the #! line but the sweep directory, node and the launcher
      expect(foreignPaths(text, dir, [node, bin])).toEqual([]);
    }
    expect(readFileSync(join(dir, 'relaxmap-array.sbatch'), 'utf8')).toContain(`run ${dir}/spec.yaml --out ${dir}/shards/"$SLURM_ARRAY_TASK_ID" --shard slurm --resume`);
    expect(readFileSync(join(dir, 'spec.yaml'), 'utf8')).toBe(SPEC);
    const sweep = JSON.parse(readFileSync(join(dir, 'sweep.json'), 'utf8')) as { shards: number; plan_key: string; spec_sha256: string; relaxmap_version: string; jobs: { array: string; merge: string } };
    expect(sweep.shards).toBe(SHARDS);
    expect(sweep.jobs).toMatchObject({ array: jobs.array, merge: jobs.merge });

    // during: once a shard is complete while another is not
    let during = false;
    while (!during) {
      const counts = chunkCounts(dir);
      if (counts.some((c) => c === PER_SHARD) && counts.some((c) => c < PER_SHARD)) {
        const { st } = await statusBracketed(dir);
        expect(st.merged).toBe(false);
        expect(st.running).toBeLessThanOrEqual(cluster.cpus);
        during = true;
      } else if (!cluster.queue().some((j) => j.id.startsWith(`${jobs.array}_`))) {
        break; // the array already ended (a very fast machine): nothing to see "during"
      } else await sleep(50);
    }
    expect(during).toBe(true);

    await cluster.waitGone([jobs.array, jobs.merge], 120_000);
    expectMergeCompleted(cluster, jobs.merge);
    const after = await statusBracketed(dir);
    expect(after.code).toBe(0);
    expect(after.st).toMatchObject({ complete: true, merged: true, chunksDone: CHUNKS, running: 0 });
    expect(after.st.shards.map((s) => s.state)).toEqual(['complete', 'complete', 'complete', 'complete']);
    const text = await builtCli(['status', dir]);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`total: ${CHUNKS}/${CHUNKS} chunks, ${POINTS}/${POINTS} points (100.0%); shards 4/4 complete, 0 running`);

    // each task ran on its 1-CPU allocation (in-thread), the local run on every core: same results
    for (let i = 0; i < SHARDS; i++) {
      const shard = JSON.parse(readFileSync(join(dir, 'shards', String(i), 'shard.json'), 'utf8')) as { backend: { name: string }; shard: { index: number; count: number } };
      expect(shard.shard).toEqual({ index: i, count: SHARDS });
      expect(shard.backend.name).toBe('inline');
      expect(readFileSync(join(dir, 'logs', `shard-${i}.out`), 'utf8')).toContain(`relaxmap: ${POINTS / SHARDS} points in`);
    }
    await expectSameRun(dir, reference);
    process.stderr.write(`slurm (a): submit to merged in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  }, 150_000);

  it('(b) one array task cancelled mid-run, then requeued: it resumes and the merge is still identical', async () => {
    const dir = join(tmp, 'b');
    const t0 = Date.now();
    const jobs = await submit(cluster, spec, dir);
    const task = `${jobs.array}_0`;
    // cancel task 0 once it has checkpointed some chunks but not all
    for (;;) {
      const c = chunkCounts(dir)[0] as number;
      if (c >= 3) break;
      if (Date.now() - t0 > 90_000) throw new Error('task 0 checkpointed nothing');
      await sleep(20);
    }
    cluster.cmd('scancel', [task]);
    // wait until the task has ended (SIGTERM: it stops between points and exits)
    for (;;) {
      const state = cluster.show(task).get('JobState');
      if (state === 'CANCELLED' && !cluster.queue().some((j) => j.id === task)) break;
      if (Date.now() - t0 > 90_000) throw new Error(`task 0 did not end: ${state}`);
      await sleep(50);
    }
    const kept = chunkCounts(dir)[0] as number;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(PER_SHARD);
    // status while it is stopped: exact counts for shard 0, not running, why it stopped
    const stopped = await statusBracketed(dir);
    expect(stopped.code).toBe(3);
    expect(stopped.st.shards[0]).toMatchObject({ state: 'stopped', chunksDone: kept, pointsDone: kept * CHUNK });
    expect(stopped.st.shards[0]?.lastError ?? '').toMatch(/CANCELLED|interrupted/);

    cluster.cmd('scontrol', ['requeue', task]);
    // a requeued job waits for its begin time (about 2 min by default): start it now
    cluster.cmd('scontrol', ['update', `JobId=${task}`, 'StartTime=now']);
    await cluster.waitGone([jobs.array, jobs.merge], 120_000);
    expectMergeCompleted(cluster, jobs.merge);
    expect(cluster.show(task).get('Restarts')).toBe('1');

    const shard0 = JSON.parse(readFileSync(join(dir, 'shards', '0', 'shard.json'), 'utf8')) as { chunks: { resumed: number; computed: number } };
    expect(shard0.chunks).toMatchObject({ resumed: kept, computed: PER_SHARD - kept });
    // --open-mode=append: both attempts in one log
    const log = readFileSync(join(dir, 'logs', 'shard-0.out'), 'utf8');
    expect(log).toMatch(/CANCELLED/);
    expect(log).toMatch(new RegExp(`${kept} chunks from checkpoints`));
    const after = await statusBracketed(dir);
    expect(after.st).toMatchObject({ complete: true, merged: true, chunksDone: CHUNKS });
    await expectSameRun(dir, reference);
    process.stderr.write(`slurm (b): submit, cancel, requeue to merged in ${((Date.now() - t0) / 1000).toFixed(1)} s; task 0 kept ${kept}/${PER_SHARD} chunks\n`);
  }, 150_000);
});
