/**
 * Shards computed on different "nodes" (other memory budgets, worker counts, backends and
 * SLURM allocations) merge into exactly the unsharded run: the chunk plan depends on the
 * spec and --chunk-size alone. A budget too small for the default number of chunks in flight
 * used to shrink the chunks, so such a shard planned differently and merge refused it.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJob } from '../../src/engine/create-job.js';
import { runSweep } from '../../src/sweep/executor.js';
import { mergeShards } from '../../src/sweep/merge.js';
import { admit } from '../../src/sweep/admission.js';
import { makePlan, planKey } from '../../src/sweep/plan.js';
import { expectSameRun } from '../helpers/compare-runs.js';
import { pairSweepSpec } from '../helpers/pair-sweep-spec.js';

const SPEC = pairSweepSpec({ name: 'nodes', randomField: true, timePoints: 17, T: { log: [0.02, 300], points: 32 }, B0: { lin: [1, 20], points: 32 } });

let dir: string;
let spec: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'relaxmap-nodes-'));
  spec = join(dir, 'nodes.yaml');
  writeFileSync(spec, SPEC);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Run with these SLURM variables in the environment, as a task of that allocation would. */
async function withEnv<T>(vars: Record<string, string>, f: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  try {
    return await f();
  } finally {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

describe('shards from different nodes', () => {
  it('the chunk plan ignores the memory budget (1 kB to 2 GB give one plan key)', () => {
    const job = createJob({ text: SPEC, source: spec, overrides: [] });
    const keys = [1e3 * 8 * 3 * 17, 1e6, 64e6, 2e9].map((m) => planKey(makePlan(job, { memoryBytes: m })));
    expect(new Set(keys).size).toBe(1);
    expect(makePlan(job, { memoryBytes: 1e6 }).chunkCount).toBe(8);
  });

  it('inline with room for one chunk in flight, 2 pool workers, and a 1-CPU 4-MB SLURM allocation merge into the unsharded run', async () => {
    const quiet = { specPath: spec, quiet: true } as const;
    const job = createJob({ text: SPEC, source: spec, overrides: [] });
    const chunkBytes = makePlan(job, { memoryBytes: 2e9 }).chunkBytes;
    // the coefficient tables, one copy per thread (main thread and 2 workers by default here)
    const tables = 3 * admit(job, { memoryBytes: 2e9, threads: 2 }).tableBytes;
    const reference = join(dir, 'reference');
    await runSweep({ ...quiet, outDir: reference });
    const shards = [0, 1, 2].map((i) => join(dir, `node${i}`));
    // a budget below one chunk (twice its size while checkpointed) is refused, naming --memory
    await expect(runSweep({ ...quiet, outDir: shards[0] as string, shard: { index: 0, count: 3 }, workers: 2, memoryBytes: chunkBytes + tables })).rejects.toThrow(/--memory .* holds no chunk of 256 points .*raise --memory to at least/);
    // node 0: in-thread, room for one chunk (the old planner shrank chunks to fit 3 in flight)
    await runSweep({ ...quiet, outDir: shards[0] as string, shard: { index: 0, count: 3 }, backend: 'inline', workers: 2, memoryBytes: 2.5 * chunkBytes + tables });
    // node 1: a pool of 2 workers, 4 GB
    await runSweep({ ...quiet, outDir: shards[1] as string, shard: { index: 1, count: 3 }, backend: 'workers', workers: 2, memoryBytes: 4e9 });
    // node 2: defaults inside a SLURM job of 1 CPU and 4 MB per CPU (a budget of 1 MB)
    const s2 = await withEnv({ SLURM_JOB_ID: '7', SLURM_CPUS_PER_TASK: '1', SLURM_MEM_PER_CPU: '4' }, () => runSweep({ ...quiet, outDir: shards[2] as string, shard: { index: 2, count: 3 } }));
    expect(s2.backend).toBe('inline');
    const keys = shards.map((s) => (JSON.parse(readFileSync(join(s, 'shard.json'), 'utf8')) as { key: string }).key);
    expect(new Set(keys).size).toBe(1);
    const merged = join(dir, 'merged');
    const r = await mergeShards(shards, merged);
    expect(r.points).toBe(2 * 32 * 32);
    await expectSameRun(merged, reference);
  }, 120_000);
});
