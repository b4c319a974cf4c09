/**
 * The GPU benchmark that bench/gpu/run-device.sh runs on a machine with a GPU: the standard
 * benchmark (bench-pair-map, 65,536 points x 128 times) and the realistic-system benchmark
 * (dnp-e3h: electron + three 1H, r = 28, steady state and 61 log-spaced times; 512 points
 * at the standard size, and 16x that for the GPU's sake), each on the fused WebGPU path
 * and on that machine's float64 worker pool, alternating, within a time budget. The
 * results of the two paths are compared (grid means), and the last stdout line is one
 * JSON object. Runs through the same job / plan / backend / chunk path as relaxmap run.
 *
 *   node dist/bench/gpu/device-bench.js [--budget SECONDS] [--rounds N]
 *   npx tsx bench/gpu/device-bench.ts --budget 60          (anywhere; SwiftShader is slow)
 */
import { availableParallelism, cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createJob } from '../../src/engine/create-job.js';
import type { Job } from '../../src/engine/job.js';
import { selectBackend, type BackendChoice } from '../../src/engine/select-backend.js';
import { loadTfjs } from '../../src/engine/tfjs/load-tfjs.js';
import { dispatchChunks } from '../../src/sweep/executor.js';
import { makePlan, shardChunks } from '../../src/sweep/plan.js';
import { pairMapSpec, STANDARD } from '../../src/bench/pair-map.js';

const arg = (name: string, dflt: string): string => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
};
const budgetS = Number(arg('--budget', '360'));
const rounds = Number(arg('--rounds', '2'));
/** --smoke: tiny grids, one round (bench/gpu/prepare.sh traces the modules a run loads with it; CI-free check anywhere). */
const smoke = process.argv.includes('--smoke');
const t00 = performance.now();
const elapsed = (): number => (performance.now() - t00) / 1000;
const say = (s: string): void => {
  process.stderr.write(`device-bench: ${s}\n`);
};

// the second standard benchmark's spec (bench/baseline/dnp-e3h.yaml), from source or from dist/
const here = dirname(fileURLToPath(import.meta.url));
const repo = here.includes(`${join('dist', 'bench')}`) ? join(here, '..', '..', '..') : join(here, '..', '..');
const e3h = readFileSync(join(repo, 'bench', 'baseline', 'dnp-e3h.yaml'), 'utf8');
const e3hLarge = e3h.replace('T: { log: [1, 100], points: 32 }', 'T: { log: [1, 100], points: 128 }').replace('B0: { lin: [3.4, 14.1], points: 8 }', 'B0: { lin: [3.4, 14.1], points: 32 }');

interface Run {
  readonly backend: string;
  readonly points: number;
  readonly seconds: number;
  readonly points_per_s: number;
  /** Grid means of every rate, steady state and last trajectory value (to compare the paths). */
  readonly means: number[];
  readonly precision: { checked: number; recomputed: number; max_error: number };
  readonly device?: { dispatches: number; readbacks: number; batches: number; kernels: string[]; host_s: number; device_s: number } | undefined;
}

async function runSpec(text: string, source: string, backend: BackendChoice, threads: number): Promise<Run> {
  const t0 = performance.now();
  const job: Job = createJob({ text, source, overrides: [] });
  const plan = makePlan(job, { memoryBytes: 8e9 });
  const sel = await selectBackend(job, plan.points, {
    backend,
    workers: threads,
    ...(backend === 'tfjs' ? { tfjs: 'webgpu' } : {}),
    chunking: { chunkSize: plan.chunkSize, bytesPerPoint: plan.bytesPerPoint, memoryBytes: 8e9 },
  });
  const be = sel.backend;
  const sums = new Float64Array(3 * job.nObs);
  try {
    await dispatchChunks(be, plan, shardChunks(plan), be.lanes ?? threads + 1, (_id, r) => {
      const { count, nObs, nTimes } = r.shape;
      for (let p = 0; p < count; p++) {
        for (let o = 0; o < nObs; o++) {
          sums[o] = (sums[o] as number) + (r.rates[p * nObs + o] as number);
          if (job.want.modes) sums[nObs + o] = (sums[nObs + o] as number) + (r.steady[p * nObs + o] as number);
          if (nTimes > 0) sums[2 * nObs + o] = (sums[2 * nObs + o] as number) + (r.trajectories[(p * nObs + o) * nTimes + nTimes - 1] as number);
        }
      }
    });
  } finally {
    await be.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const st = be.stats();
  const d = st.device;
  return {
    backend: be.name,
    points: plan.points,
    seconds,
    points_per_s: plan.points / seconds,
    means: Array.from(sums, (s) => s / plan.points),
    precision: { checked: st.precisionChecked, recomputed: st.precisionRecomputed, max_error: st.precisionMaxError },
    device: d
      ? {
          dispatches: d.device_dispatches,
          readbacks: d.device_readbacks,
          batches: d.device_batches,
          kernels: d.kernels,
          host_s: d.chunk_times.reduce((s, c) => s + c.host_s, 0),
          device_s: d.chunk_times.reduce((s, c) => s + c.device_s / Math.max(1, d.chunk_times.filter((x) => x.batch === c.batch).length), 0),
        }
      : undefined,
  };
}

const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length === 0 ? NaN : (s[Math.floor(s.length / 2)] as number);
};
const relMax = (a: number[], b: number[]): number => Math.max(0, ...a.map((x, k) => Math.abs(x - (b[k] as number)) / Math.max(Math.abs(b[k] as number), 1e-300)));

const threads = availableParallelism();
const out: Record<string, unknown> = {
  host: { cores: threads, cpu: cpus()[0]?.model ?? '?', memory_gb: Math.round(totalmem() / 1e9), node: process.version },
};
let adapter;
try {
  const l = await loadTfjs('webgpu', { strict: true });
  adapter = l.adapter;
  out.adapter = adapter ?? null;
  say(`WebGPU: ${l.reason}`);
} catch (e) {
  out.adapter = null;
  out.error = `no WebGPU: ${e instanceof Error ? e.message : String(e)}`;
  say(String(out.error));
}

const benches: Array<{ name: string; text: string }> = smoke
  ? [
      { name: 'pair-map', text: pairMapSpec({ nT: 4, nB0: 4, nTau: 2, nKappa: 2, nTime: 16 }) },
      { name: 'dnp-e3h', text: e3h.replace('T: { log: [1, 100], points: 32 }', 'T: { log: [1, 100], points: 2 }').replace('B0: { lin: [3.4, 14.1], points: 8 }', 'B0: { lin: [3.4, 14.1], points: 2 }') },
    ]
  : [
      { name: 'pair-map', text: pairMapSpec(STANDARD) },
      { name: 'dnp-e3h', text: e3h },
      { name: 'dnp-e3h-x16', text: e3hLarge },
    ];
const results: Record<string, unknown> = {};
for (const b of benches) {
  const gpu: Run[] = [];
  const cpu: Run[] = [];
  for (let r = 0; r < (smoke ? 1 : rounds); r++) {
    for (const kind of adapter ? (['tfjs', 'workers'] as const) : (['workers'] as const)) {
      // leave room for the round's other half and the JSON line
      if (elapsed() > budgetS) break;
      try {
        const run = await runSpec(b.text, b.name, kind, threads);
        (kind === 'tfjs' ? gpu : cpu).push(run);
        say(`${b.name} round ${r + 1} ${run.backend}: ${run.points} points in ${run.seconds.toFixed(2)} s = ${Math.round(run.points_per_s)} points/s`);
      } catch (e) {
        say(`${b.name} ${kind} failed: ${e instanceof Error ? e.message : String(e)}`);
        results[`${b.name}_${kind}_error`] = e instanceof Error ? e.message : String(e);
      }
    }
  }
  const g = median(gpu.map((x) => x.points_per_s));
  const c = median(cpu.map((x) => x.points_per_s));
  results[b.name] = {
    points: (gpu[0] ?? cpu[0])?.points ?? 0,
    gpu_points_per_s: gpu.length ? g : null,
    cpu_pool_points_per_s: cpu.length ? c : null,
    gpu_over_cpu: gpu.length && cpu.length ? g / c : null,
    gpu_runs: gpu.map((x) => ({ seconds: x.seconds, precision: x.precision, device: x.device })),
    cpu_runs: cpu.map((x) => ({ seconds: x.seconds })),
    // the float32 path against float64: grid means of rates, steady states and the last time
    means_max_rel_diff: gpu[0] && cpu[0] ? relMax(gpu[0].means, cpu[0].means) : null,
  };
}
out.results = results;
out.smoke = smoke;
out.seconds = elapsed();
process.stdout.write(`${JSON.stringify(out)}\n`);
process.exit(0);
