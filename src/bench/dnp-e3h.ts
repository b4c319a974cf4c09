import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EngineBackend } from '../engine/backend.js';
import { createJob } from '../engine/create-job.js';
import type { Job } from '../engine/job.js';
import { selectBackend, type BackendChoice } from '../engine/select-backend.js';
import { dispatchChunks } from '../sweep/executor.js';
import { makePlan, shardChunks } from '../sweep/plan.js';

/**
 * The second standard benchmark ("dnp-e3h", bench/baseline/README.md): an electron and three
 * 1H, rodin-abergel and bengs-levitt, T 1-100 K (NT, log) x B0 3.4-14.1 T (NB0), saturated
 * start, projection rates, steady state and <O>(t) at 61 times from 1 ns to 1000 s (a log
 * grid). relaxmap runs bench/baseline/dnp-e3h.yaml through the same job / plan / backend /
 * chunk path as `relaxmap run` (results reduced to means instead of written); numpy runs
 * numpy_dnp_e3h.py NT NB0 (batched eigh of the symmetrized generator, one thread).
 */
export interface E3hMeans {
  readonly rate_Ez_mean: number;
  readonly rate_Hz_mean: number;
  readonly ss_Hz_mean: number;
  readonly traj_Hz_end_mean: number;
  readonly traj_Hz_1ms_mean: number;
}

export interface E3hRun extends E3hMeans {
  readonly backend: string;
  readonly points: number;
  readonly seconds: number;
  readonly points_per_s: number;
}

export const E3H_STANDARD = { nT: 32, nB0: 8 } as const;

function repoRoot(): string {
  return resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', ...(import.meta.url.includes('/dist/') ? ['..'] : []));
}

/** The spec, with the grid sized nT x nB0. */
export function e3hSpec(nT: number, nB0: number): string {
  const text = readFileSync(join(repoRoot(), 'bench', 'baseline', 'dnp-e3h.yaml'), 'utf8');
  return text.replace('T: { log: [1, 100], points: 32 }', `T: { log: [1, 100], points: ${nT} }`).replace('B0: { lin: [3.4, 14.1], points: 8 }', `B0: { lin: [3.4, 14.1], points: ${nB0} }`);
}

/** One timed pass: job, plan, backend, every chunk, reduced to the baseline's means. */
export async function runEngineE3h(nT: number, nB0: number, backendChoice: BackendChoice, workers = 2): Promise<E3hRun> {
  const t0 = performance.now();
  const job: Job = createJob({ text: e3hSpec(nT, nB0), source: 'dnp-e3h', overrides: [] });
  const plan = makePlan(job, { memoryBytes: 2e9, inFlight: workers + 1 });
  const { backend } = await selectBackend(job, plan.points, { backend: backendChoice, workers });
  const times = job.problems[0]?.times ?? new Float64Array(0);
  let i1ms = 0;
  for (let k = 0; k < times.length; k++) if (Math.abs(Math.log10(times[k] as number) + 3) < Math.abs(Math.log10(times[i1ms] as number) + 3)) i1ms = k;
  let rEz = 0;
  let rHz = 0;
  let ss = 0;
  let tEnd = 0;
  let t1 = 0;
  try {
    await dispatchChunks(backend as EngineBackend, plan, shardChunks(plan), backend.lanes ?? workers + 1, (_id, res) => {
      const { count, nObs, nTimes } = res.shape;
      for (let p = 0; p < count; p++) {
        rEz += res.rates[p * nObs] as number;
        rHz += res.rates[p * nObs + 1] as number;
        ss += res.steady[p * nObs + 1] as number;
        tEnd += res.trajectories[(p * nObs + 1) * nTimes + nTimes - 1] as number;
        t1 += res.trajectories[(p * nObs + 1) * nTimes + i1ms] as number;
      }
    });
  } finally {
    await backend.close();
  }
  const seconds = (performance.now() - t0) / 1000;
  const n = plan.points;
  return { backend: backend.name, points: n, seconds, points_per_s: n / seconds, rate_Ez_mean: rEz / n, rate_Hz_mean: rHz / n, ss_Hz_mean: ss / n, traj_Hz_end_mean: tEnd / n, traj_Hz_1ms_mean: t1 / n };
}

export interface E3hNumpyRun extends E3hMeans {
  readonly points: number;
  readonly seconds: number;
  readonly points_per_s: number;
}

/** numpy_dnp_e3h.py: the copy in bench/baseline/ (or an explicit path). */
export function findE3hBaseline(explicit?: string): string | undefined {
  if (explicit) return existsSync(explicit) ? resolve(explicit) : undefined;
  const p = join(repoRoot(), 'bench', 'baseline', 'numpy_dnp_e3h.py');
  return existsSync(p) ? p : undefined;
}

export function runNumpyE3h(script: string, nT: number, nB0: number): Promise<E3hNumpyRun> {
  return new Promise((ok, fail) => {
    execFile('python3', [script, String(nT), String(nB0)], { maxBuffer: 1 << 20 }, (err, stdout, stderr) => {
      if (err) {
        fail(new Error(`numpy dnp-e3h baseline failed: ${err.message}\n${stderr}`));
        return;
      }
      const j = JSON.parse(stdout.trim().split('\n').pop() ?? '{}') as E3hNumpyRun;
      ok(j);
    });
  });
}
