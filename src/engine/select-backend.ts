import { availableParallelism } from 'node:os';
import { UsageError } from '../spec/errors.js';
import type { EngineBackend } from './backend.js';
import { chunkViews } from './chunk.js';
import { InlineBackend } from './inline-backend.js';
import { chunkShape, kernelFor, type Job } from './job.js';
import { WorkerBackend, type WorkerBackendOptions } from './worker-backend.js';
import { HybridBackend } from './hybrid-backend.js';

export type BackendChoice = 'auto' | 'workers' | 'inline' | 'hybrid' | 'tfjs';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'workers', 'inline', 'hybrid', 'tfjs'];

/** Seconds a worker pool costs before it runs at full speed (threads, module loading, job rebuild, JIT warm-up in every worker), measured on a 2-core machine. */
export const POOL_STARTUP_S = 0.5;
/** Sweeps with at least this many points probe for a GPU in auto mode. */
export const GPU_PROBE_POINTS = 200_000;

export interface SelectOptions extends WorkerBackendOptions {
  readonly backend: BackendChoice;
  /** tfjs backend preference: auto | tensorflow | webgpu | wasm | cpu. */
  readonly tfjs?: string;
}

export interface Calibration {
  /** Seconds per point of the float64 kernel, single thread, on a sample of the real grid. */
  readonly perPoint: number;
  readonly sampled: number;
  /** Seconds to build every variant's kernel (tables, symmetric forms), paid once per run. */
  readonly setup: number;
}

/**
 * Points of every variant that represent the grid: all corners of the parameter box (the
 * stiffest point of a sweep is one of them: lowest temperature, highest field) and evenly
 * spaced points in between, as (variant, flat index) pairs.
 */
function samplePoints(job: Job, sample: number): Array<[number, number]> {
  const g = job.grid;
  const n = g.pointsPerVariant;
  const out: Array<[number, number]> = [];
  const perVariant = Math.max(1, Math.floor(sample / g.variants.length));
  g.variants.forEach((_, v) => {
    const seen = new Set<number>();
    const add = (i: number): void => {
      if (i >= 0 && i < n && !seen.has(i)) {
        seen.add(i);
        out.push([v, i]);
      }
    };
    const d = g.dims.length;
    for (let mask = 0; mask < 2 ** Math.min(d, 6); mask++) {
      let flat = 0;
      g.dims.forEach((dim, k) => (flat += ((mask >> k) & 1 ? dim.length - 1 : 0) * (g.strides[k] as number)));
      add(flat);
    }
    const step = Math.max(1, Math.floor(n / perVariant));
    for (let i = Math.floor(step / 2); i < n && seen.size < perVariant + 2 ** Math.min(d, 6); i += step) add(i);
  });
  return out;
}

/**
 * Time the float64 kernel on the real spec: every variant's kernel is built (that is the
 * per-run setup), then a sample of points spread over the grid, corners included, is
 * evaluated twice with the spec's outputs and time grid; the second pass (JIT warm) gives the
 * rate a long run sees.
 */
export function calibrate(job: Job, sample = 64): Calibration {
  const t0 = performance.now();
  const kernels = job.grid.variants.map((_, v) => kernelFor(job, v));
  const setup = (performance.now() - t0) / 1000;
  const pts = samplePoints(job, sample);
  const out = chunkViews(chunkShape(job, 1));
  let seconds = 0;
  for (let pass = 0; pass < 2; pass++) {
    const t = performance.now();
    for (const [v, i] of pts) (kernels[v] as ReturnType<typeof kernelFor>).run(i, 1, out);
    seconds = (performance.now() - t) / 1000;
  }
  return { perPoint: seconds / Math.max(1, pts.length), sampled: pts.length, setup };
}

export interface Selection {
  readonly backend: EngineBackend;
  readonly why: string;
  readonly calibration: Calibration | undefined;
  readonly estimateSeconds: number | undefined;
}

async function loadTfjsBackend(job: Job, prefer: string | undefined): Promise<EngineBackend> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  const mod = (await import(new URL(`./tfjs/tfjs-backend.${ext}`, import.meta.url).href)) as {
    createTfjsBackend: (job: Job, options?: { prefer?: string }) => Promise<EngineBackend>;
  };
  return mod.createTfjsBackend(job, prefer ? { prefer } : {});
}

/**
 * Pick a backend. auto: a GPU tensor backend when one is present (large sweeps only),
 * otherwise the float64 kernel in-thread or on the worker pool, whichever the calibration
 * says finishes first (the pool pays a start-up but scales with cores).
 */
export async function selectBackend(job: Job, points: number, options: SelectOptions): Promise<Selection> {
  const threads = Math.max(1, options.workers ?? availableParallelism());
  const perPointPath = job.model.path === 'per-point';
  switch (options.backend) {
    case 'inline':
      return { backend: new InlineBackend(job), why: 'requested with --backend inline', calibration: undefined, estimateSeconds: undefined };
    case 'workers':
      return { backend: new WorkerBackend(job, { ...options, workers: threads }), why: 'requested with --backend workers', calibration: undefined, estimateSeconds: undefined };
    case 'hybrid':
      return { backend: new HybridBackend(job, Math.max(1, threads - 1), options), why: 'requested with --backend hybrid', calibration: undefined, estimateSeconds: undefined };
    case 'tfjs': {
      if (perPointPath) throw new UsageError('--backend tfjs: this spin system takes the per-point path (its H0 eigenbasis depends on the parameters), which only the float64 backends evaluate');
      const be = await loadTfjsBackend(job, options.tfjs);
      return { backend: be, why: 'requested with --backend tfjs', calibration: undefined, estimateSeconds: undefined };
    }
    case 'auto':
      break;
  }
  if (!perPointPath && points >= GPU_PROBE_POINTS) {
    try {
      const be = await loadTfjsBackend(job, 'auto');
      if (/webgpu|tensorflow/.test(be.name) && be.description.toLowerCase().includes('gpu')) {
        return { backend: be, why: `a GPU is present (${be.description})`, calibration: undefined, estimateSeconds: undefined };
      }
      await be.close();
    } catch {
      // no usable tensor backend: stay on the float64 kernel
    }
  }
  const cal = calibrate(job, perPointPath ? 4 : 64);
  const inline = cal.setup + points * cal.perPoint;
  const pool = cal.setup + POOL_STARTUP_S + (points * cal.perPoint) / threads;
  if (threads > 1 && pool < inline) {
    return {
      backend: new HybridBackend(job, threads - 1, options),
      why: `float64 kernel on all ${threads} cores (main thread plus ${threads - 1} worker${threads > 2 ? 's' : ''}): estimated ${pool.toFixed(1)} s vs ${inline.toFixed(1)} s in-thread (${(cal.perPoint * 1e6).toFixed(1)} us/point); no GPU tensor backend`,
      calibration: cal,
      estimateSeconds: pool,
    };
  }
  return {
    backend: new InlineBackend(job),
    why: `float64 kernel in-thread: estimated ${inline.toFixed(2)} s, less than a ${threads}-thread pool's start-up would save (${(cal.perPoint * 1e6).toFixed(1)} us/point)`,
    calibration: cal,
    estimateSeconds: inline,
  };
}
