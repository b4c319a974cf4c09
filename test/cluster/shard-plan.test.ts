/**
 * relaxmap plan --shards N [--cpus C] [--walltime T]: per-shard points and time, the warning
 * when shards outnumber chunks, the shard count a wall time asks for. The arithmetic is
 * checked on a plan with round numbers, then once through the command line.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { proposeShards, shardPlan, TASK_STARTUP_S } from '../../src/cluster/shard-plan.js';
import type { RunPlan } from '../../src/sweep/plan.js';
import { builtCli, ensureBuilt } from '../helpers/built-cli.js';

// 2 variants x 32 chunks of 1024 points (the last of each variant 512): 64 chunks, 64,512 points
const plan = { points: 2 * (31 * 1024 + 512), variants: 2, pointsPerVariant: 31 * 1024 + 512, chunkSize: 1024, chunksPerVariant: 32, chunkCount: 64 } as unknown as RunPlan;
const PER_POINT = 1e-4;

describe('shard plan', () => {
  it('points, chunks and time of the longest shard', () => {
    const sp = shardPlan(plan, 4, PER_POINT, 1);
    // shard 3 holds chunks 3, 7, ..., 31 (the short last chunk of variant 0) and 35, ..., 63
    expect(sp).toMatchObject({ shards: 4, chunks: { min: 16, max: 16 }, points: { min: 15360, max: 16384 }, empty: 0 });
    expect(sp.seconds).toBeCloseTo(TASK_STARTUP_S + 16384 * PER_POINT, 12);
    expect(shardPlan(plan, 4, PER_POINT, 4).seconds).toBeCloseTo(TASK_STARTUP_S + 0.5 + (16384 * PER_POINT) / 4, 12);
    expect(shardPlan(plan, 100, PER_POINT, 1)).toMatchObject({ chunks: { min: 0, max: 1 }, empty: 36 });
  });

  it('the fewest shards that fit half the wall time', () => {
    // 20 s: half is 10 s, one shard takes 2 + 6.45 s
    expect(proposeShards(plan, 20, PER_POINT, 1)).toMatchObject({ shards: 1, fits: true });
    // 10 s: 5 s per shard leaves 3 s of compute: 3 shards of at most 22 chunks (2 + 2.25 s)
    const p = proposeShards(plan, 10, PER_POINT, 1);
    expect(p).toMatchObject({ shards: 3, fits: true });
    expect(p.plan.chunks.max).toBe(22);
    expect(p.plan.seconds).toBeLessThanOrEqual(5);
    expect(shardPlan(plan, 2, PER_POINT, 1).seconds).toBeGreaterThan(5);
    // 4 s: even one chunk per shard (2 + 0.1 s) exceeds 2 s
    expect(proposeShards(plan, 4, PER_POINT, 1)).toMatchObject({ shards: 64, fits: false });
  });
});

describe('relaxmap plan --shards', () => {
  const dir = mkdtempSync(join(tmpdir(), 'relaxmap-shardplan-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('prints the shards, warns when they outnumber the chunks, proposes N for --walltime', async () => {
    ensureBuilt();
    const spec = join(dir, 's.yaml');
    writeFileSync(
      spec,
      `version: 1
spins:
  - { id: a, isotope: 1H }
  - { id: b, isotope: 1H }
parameters: { T: 300, B0: 9.4, tau_c: 8e-12 }
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }
thermalization: rodin-abergel
initial: singlet(a,b)
observables: { Mz: Iz(a) + Iz(b) }
time: { stop: 60, points: 5 }
sweep:
  T: { log: [1, 300], points: 40 }
  B0: { lin: [1, 20], points: 20 }
outputs: [rates]
`,
    );
    const r = await builtCli(['plan', spec, '--shards', '6', '--cpus', '2', '--walltime', '01:00:00', '--backend', 'inline']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/shards: 6 shards of 0-256 points \(0-1 chunks\), about \d+(\.\d)? s each on 2 CPUs/);
    expect(r.stdout).toMatch(/warning: 6 shards but only 4 chunks: 2 shards would have nothing to do/);
    expect(r.stdout).toMatch(/--walltime 01:00:00: use 1 shard \(1 shard of 800 points \(4 chunks\)/);
    const j = await builtCli(['plan', spec, '--shards', '2', '--json', '--backend', 'inline']);
    const info = JSON.parse(j.stdout) as { shards: { requested: { shards: number; points: { max: number } }; cpus: number; warnings: string[] } };
    expect(info.shards).toMatchObject({ cpus: 1, requested: { shards: 2, points: { max: 512 } }, warnings: [] });
  }, 60_000);
});
