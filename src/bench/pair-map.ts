import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineBackend } from '../engine/backend.js';
import { createJob } from '../engine/create-job.js';
import type { Job } from '../engine/job.js';
import { selectBackend, type BackendChoice } from '../engine/select-backend.js';
import { dispatchChunks } from '../sweep/executor.js';
import { makePlan, shardChunks } from '../sweep/plan.js';

/**
 * The standard benchmark ("pair-map", ../shared/bench/README.md): the seed's 1H pair over
 * T (log 0.01..300 K) x B0 (0.5..28.2 T) x tau_c (log 1e-12..1e-9 s) x kappa (-0.5..0.9),
 * <Mz>(t) from a singlet at NTIME equally spaced times over 0..60 s plus projection rates,
 * evaluated through the same job / plan / backend / chunk path as `relaxmap run` (results
 * reduced to means in memory instead of written to disk), side by side with the numpy
 * baseline.
 */
export interface GridSize {
  readonly nT: number;
  readonly nB0: number;
  readonly nTau: number;
  readonly nKappa: number;
  readonly nTime: number;
}

export const STANDARD: GridSize = { nT: 64, nB0: 64, nTau: 4, nKappa: 4, nTime: 128 };

export function pairMapSpec(g: GridSize, ratesOnly = false): string {
  return `version: 1
name: bench-pair-map
spins:
  - { id: a, isotope: 1H }
  - { id: b, isotope: 1H }
parameters: { T: 300, B0: 9.4, tau_c: 8e-12, tau_ran: 60e-12, kappa: 0 }
relaxation:
  - { type: dipolar, spins: [a, b], b_hz: 35000, tau_c: tau_c }
  - { type: random_field, spins: [a, b], rms_hz: 2300, tau_c: tau_ran, kappa: kappa }
thermalization: rodin-abergel
initial: singlet(a,b)
observables:
  Mz: Iz(a) + Iz(b)
  IS: Ia.Ib
time: { stop: 60, points: ${g.nTime} }
sweep:
  T: { log: [0.01, 300], points: ${g.nT} }
  B0: { lin: [0.5, 28.2], points: ${g.nB0} }
  tau_c: { log: [1e-12, 1e-9], points: ${g.nTau} }
  kappa: { lin: [-0.5, 0.9], points: ${g.nKappa} }
outputs: [${ratesOnly ? 'rates' : 'rates, trajectories'}]
`;
}

export interface Means {
  readonly R1_mean: number;
  readonly RS_mean: number;
  readonly traj_end_mean: number;
}

export interface EngineRun extends Means {
  readonly backend: string;
  readonly description: string;
  readonly points: number;
  readonly seconds: number;
  readonly points_per_s: number;
}

/** One timed pass: build the job, start the backend, evaluate every chunk, reduce to means. */
export async function runEngine(g: GridSize, backendChoice: BackendChoice, options: { workers?: number; tfjs?: string; ratesOnly?: boolean } = {}): Promise<EngineRun> {
  const t0 = performance.now();
  const job: Job = createJob({ text: pairMapSpec(g, options.ratesOnly ?? false), source: 'bench-pair-map', overrides: [] });
  const threads = options.workers ?? 2;
  const plan = makePlan(job, { memoryBytes: 2e9 });
  const { backend } = await selectBackend(job, plan.points, {
    backend: backendChoice,
    ...(options.workers ? { workers: options.workers } : {}),
    ...(options.tfjs ? { tfjs: options.tfjs } : {}),
    // as relaxmap run does: a GPU backend sizes its device batches and lanes from the chunking
    chunking: { chunkSize: plan.chunkSize, bytesPerPoint: plan.bytesPerPoint, memoryBytes: 2e9 },
  });
  let r1 = 0;
  let rs = 0;
  let te = 0;
  try {
    await dispatchChunks(backend as EngineBackend, plan, shardChunks(plan), backend.lanes ?? threads + 1, (_id, res) => {
      const { count, nObs, nTimes } = res.shape;
      for (let p = 0; p < count; p++) {
        r1 += res.rates[p * nObs] as number;
        rs += res.rates[p * nObs + 1] as number;
        if (nTimes > 0) te += res.trajectories[p * nObs * nTimes + nTimes - 1] as number;
      }
    });
  } finally {
    await backend.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const n = plan.points;
  return {
    backend: backend.name,
    description: backend.description,
    points: n,
    seconds,
    points_per_s: n / seconds,
    R1_mean: r1 / n,
    RS_mean: rs / n,
    traj_end_mean: te / n,
  };
}

export interface NumpyRun extends Means {
  readonly points: number;
  readonly seconds: number;
  readonly points_per_s: number;
}

/**
 * The numpy/scipy baseline script: the shared one next to the repository (../shared/bench)
 * when present, else the copy kept in bench/baseline/.
 */
export function findBaseline(explicit?: string): string | undefined {
  if (explicit) return existsSync(explicit) ? resolve(explicit) : undefined;
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
  for (const p of [
    join(root, '..', 'shared', 'bench', 'numpy_pairmap.py'),
    join(process.cwd(), '..', 'shared', 'bench', 'numpy_pairmap.py'),
    join(root, 'bench', 'baseline', 'numpy_pairmap.py'),
  ]) {
    if (existsSync(p)) return p;
  }
  return undefined;
}

export function runNumpy(script: string, g: GridSize): Promise<NumpyRun> {
  return new Promise((ok, fail) => {
    execFile('python3', [script, String(g.nT), String(g.nB0), String(g.nTau), String(g.nKappa), String(g.nTime)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        fail(new Error(`numpy baseline failed: ${err.message}\n${stderr}`));
        return;
      }
      const last = stdout.trim().split('\n').pop() ?? '';
      const j = JSON.parse(last) as { points: number; seconds: number; points_per_s: number; R1_mean: number; RS_mean: number; traj_end_mean: number };
      ok({ points: j.points, seconds: j.seconds, points_per_s: j.points_per_s, R1_mean: j.R1_mean, RS_mean: j.RS_mean, traj_end_mean: j.traj_end_mean });
    });
  });
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : 0.5 * ((s[m - 1] as number) + (s[m] as number));
}

export function relDiff(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}
