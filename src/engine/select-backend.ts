import { availableParallelism } from 'node:os';
import { UsageError } from '../spec/errors.js';
import type { EngineBackend } from './backend.js';
import { chunkViews } from './chunk.js';
import { InlineBackend } from './inline-backend.js';
import { chunkShape, kernelFor, type Job } from './job.js';
import { WorkerBackend, type WorkerBackendOptions } from './worker-backend.js';
import { HybridBackend } from './hybrid-backend.js';
import { sharedPoolWarm } from './kernel-pool.js';
import type { AdapterInfo } from './tfjs/load-tfjs.js';

export type BackendChoice = 'auto' | 'workers' | 'inline' | 'hybrid' | 'tfjs';
export const BACKEND_CHOICES: readonly BackendChoice[] = ['auto', 'workers', 'inline', 'hybrid', 'tfjs'];

/**
 * Seconds a cold worker pool costs before it runs at full speed (threads, module loading, JIT
 * warm-up in every worker), measured on a 2-core machine. A warm shared pool (one that has
 * run tasks in this process, src/engine/kernel-pool.ts) costs nothing to start.
 */
export const POOL_STARTUP_S = 0.5;
/** Sweeps with at least this many points probe for a GPU in auto mode. */
export const GPU_PROBE_POINTS = 200_000;

export interface SelectOptions extends WorkerBackendOptions {
  readonly backend: BackendChoice;
  /** tfjs backend preference: auto | tensorflow | webgpu | wasm | cpu. A named one must be had (exit 2 otherwise). */
  readonly tfjs?: string;
  /** The run's chunking, so that a GPU backend can size its device batches and lanes. */
  readonly chunking?: { readonly chunkSize: number; readonly bytesPerPoint: number; readonly memoryBytes: number };
}

export const TFJS_CHOICES = ['auto', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;

/** One backend considered by the selection, and why it was taken or passed over. */
export interface Candidate {
  readonly backend: string;
  readonly chosen: boolean;
  readonly reason: string;
}

/** The WebGPU adapter a selection saw (chosen or passed over). */
export type AdapterRecord = AdapterInfo;

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

/** Seconds of kernel time the bulk part of a calibration may take (its first two passes). */
const CALIBRATION_BULK_S = 0.15;
/** Bulk passes at most: two, and up to two more while the rate is still falling (a cold JIT). */
const MAX_BULK_PASSES = 4;
/** A pass within this fraction of the one before it: the rate has settled. */
const SETTLED = 0.1;
/** Contiguous blocks per variant in the bulk part of a calibration (fewer where the budget is short). */
const BLOCKS = 8;
/** Fewest points of a calibration block: below, a block's rate is a single point's. */
const MIN_BLOCK = 8;

/** Blocks of one bulk pass: `len` points at each start, per variant. */
interface BulkPass {
  readonly len: number;
  readonly starts: readonly number[];
}

/**
 * Blocks of a bulk pass sized from the latest rate: points per variant that fit the budget
 * (half of it per pass), and at most an eighth of the run's own points per pass (a small run
 * is mostly start-up, and a calibration longer than the work it plans would be the larger
 * cost); BLOCKS blocks where the budget allows, fewer blocks of MIN_BLOCK points for expensive
 * points (a 16-dimensional general-route point costs ~0.1-0.3 ms: dnp-lowT's estimate used
 * to fall back to the single points' rate, 2-3x too slow and as noisy). Undefined when not
 * even one block of MIN_BLOCK points per variant fits.
 */
function bulkPass(n: number, variants: number, rate: number, runPoints: number): BulkPass | undefined {
  const perPass = Math.min(n, Math.floor(CALIBRATION_BULK_S / Math.max(rate, 1e-9) / (2 * variants)), Math.floor(runPoints / (8 * variants)));
  if (perPass < MIN_BLOCK) return undefined;
  const len = Math.min(512, Math.max(MIN_BLOCK, Math.floor(perPass / BLOCKS)));
  const blocks = Math.max(1, Math.min(BLOCKS, Math.floor(perPass / len)));
  // evenly spread over the variant, first and last block included (costs vary over the grid)
  const starts = [...new Set(Array.from({ length: blocks }, (_, b) => (blocks === 1 ? 0 : Math.round((b * Math.max(0, n - len)) / (blocks - 1)))))];
  return { len, starts };
}

/**
 * Time the float64 kernel on the real spec: every variant's kernel is built (that is the
 * per-run setup); a sample of points spread over the grid, corners included (the stiffest
 * point of a sweep is one of them), is evaluated one by one with the spec's outputs and time
 * grid, which warms the JIT and gives a rough rate; then contiguous blocks spread evenly over
 * every variant (first and last included) are timed the way a run evaluates them, pass after
 * pass. Single points cost several times a point of a block (per-call set-up, table cursors
 * that a block walks incrementally), so the bulk rate is what a run sees. Each pass is sized
 * from the rate of the pass before it (bulkPass): in a fresh process the single points still
 * run cold code (300 us where a warm block point costs 70, dnp-lowT), which sized the blocks
 * too short, and the first passes are still being compiled (a plan's calibration was
 * 1.1-1.9x slower than its run's kernel). So after the second pass a third and fourth follow
 * while a pass is more than SETTLED faster than the one before; the estimate is the mean of
 * the last two passes once settled, else the last pass. Only when not even one block of
 * MIN_BLOCK points per variant fits does the rough rate stand.
 */
export function calibrate(job: Job, sample = 64, runPoints = Infinity): Calibration {
  const t0 = performance.now();
  const kernels = job.grid.variants.map((_, v) => kernelFor(job, v));
  const setup = (performance.now() - t0) / 1000;
  const pts = samplePoints(job, sample);
  const one = chunkViews(chunkShape(job, 1));
  let rough = 0;
  for (let pass = 0; pass < 2; pass++) {
    const t = performance.now();
    for (const [v, i] of pts) (kernels[v] as ReturnType<typeof kernelFor>).run(i, 1, one);
    rough = (performance.now() - t) / 1000 / Math.max(1, pts.length);
  }
  const n = job.grid.pointsPerVariant;
  const variants = job.grid.variants.length;
  // the rate of the latest pass, of the one before it, and the fastest so far (sizes the next pass)
  let rate = Infinity;
  let previous = Infinity;
  let fastest = Infinity;
  let settled = false;
  let sampled = pts.length;
  // a quarter of the run's points at most over all passes
  let left = Math.floor(runPoints / 4);
  for (let pass = 0; pass < MAX_BULK_PASSES; pass++) {
    const blocks = bulkPass(n, variants, Math.min(rough, fastest), runPoints);
    if (!blocks || blocks.len * blocks.starts.length * variants > left) break;
    const out = chunkViews(chunkShape(job, blocks.len));
    let timed = 0;
    let count = 0;
    for (const k of kernels) {
      for (const start of blocks.starts) {
        const t = performance.now();
        k.run(start, blocks.len, out);
        timed += (performance.now() - t) / 1000;
        count += blocks.len;
      }
    }
    sampled += count;
    left -= count;
    previous = rate;
    rate = timed / count;
    fastest = Math.min(fastest, rate);
    settled = pass >= 1 && rate > (1 - SETTLED) * previous;
    if (settled) break;
  }
  if (rate === Infinity) return { perPoint: rough, sampled: pts.length, setup };
  // settled: the mean of the last two passes (the fastest of several would be the luckiest
  // one on a noisy machine, not the rate a run sees); else the last, warmest pass
  return { perPoint: settled ? 0.5 * (rate + previous) : rate, sampled, setup };
}

export interface Selection {
  readonly backend: EngineBackend;
  readonly why: string;
  readonly calibration: Calibration | undefined;
  readonly estimateSeconds: number | undefined;
  /** Every backend considered, in order, with the reason it was taken or passed over. */
  readonly candidates: readonly Candidate[];
  readonly adapter: AdapterRecord | undefined;
}

/** What select-backend needs of the (lazily loaded) tfjs backend. */
interface TfjsBackendLike extends EngineBackend {
  readonly onGpu: boolean;
  readonly tfjs: { readonly reason: string; readonly tried: ReadonlyArray<{ backend: string; error: string }>; readonly adapter?: AdapterRecord | undefined };
}

interface TfjsModule {
  createTfjsBackend: (job: Job, options?: Record<string, unknown>) => Promise<TfjsBackendLike>;
}

async function tfjsModule(): Promise<TfjsModule> {
  const ext = import.meta.url.endsWith('.ts') ? 'ts' : 'js';
  return (await import(new URL(`./tfjs/tfjs-backend.${ext}`, import.meta.url).href)) as TfjsModule;
}

/** Device batch and lanes for a GPU: two batches in flight, within the memory budget. */
function gpuSizing(options: SelectOptions): Record<string, number> {
  const c = options.chunking;
  if (!c) return {};
  // chunk results of two batches in flight, plus a checkpoint copy of each chunk being written
  const perPoint = c.bytesPerPoint * 3;
  const deviceBatch = Math.max(c.chunkSize, Math.min(262_144, Math.floor(c.memoryBytes / (2 * perPoint))));
  const lanes = Math.max(2, 2 * Math.ceil(deviceBatch / c.chunkSize));
  return { deviceBatch, lanes };
}

async function loadTfjsBackend(job: Job, prefer: string | undefined, options: SelectOptions): Promise<TfjsBackendLike> {
  if (prefer !== undefined && !(TFJS_CHOICES as readonly string[]).includes(prefer)) throw new UsageError(`--tfjs ${prefer}: expected one of ${TFJS_CHOICES.join(', ')}`);
  const mod = await tfjsModule();
  const strict = prefer !== undefined && prefer !== 'auto';
  try {
    return await mod.createTfjsBackend(job, { ...(prefer ? { prefer } : {}), load: { strict }, ...gpuSizing(options) });
  } catch (e) {
    if (strict && e instanceof Error && e.name === 'TfjsUnavailableError') throw new UsageError(`--tfjs ${prefer} cannot be honoured: ${e.message.replace(/^tfjs backend \S+ is not available: /, '')}`);
    throw e;
  }
}

function tfjsCandidates(be: TfjsBackendLike, chosen: boolean, why: string): Candidate[] {
  return [...be.tfjs.tried.map((t) => ({ backend: `tfjs-${t.backend}`, chosen: false, reason: t.error })), { backend: be.name, chosen, reason: why }];
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
      return only(new InlineBackend(job), 'requested with --backend inline');
    case 'workers':
      return only(new WorkerBackend(job, { ...options, workers: threads }), 'requested with --backend workers');
    case 'hybrid':
      return only(new HybridBackend(job, Math.max(1, threads - 1), options), 'requested with --backend hybrid');
    case 'tfjs': {
      if (perPointPath) throw new UsageError('--backend tfjs: this spin system takes the per-point path (its H0 eigenbasis depends on the parameters), which only the float64 backends evaluate');
      const be = await loadTfjsBackend(job, options.tfjs, options);
      const why = `requested with --backend tfjs${options.tfjs ? ` --tfjs ${options.tfjs}` : ''}`;
      return { backend: be, why, calibration: undefined, estimateSeconds: undefined, candidates: tfjsCandidates(be, true, `${why}: ${be.tfjs.reason}`), adapter: be.tfjs.adapter };
    }
    case 'auto':
      break;
  }
  if (options.tfjs !== undefined && options.tfjs !== 'auto') throw new UsageError(`--tfjs ${options.tfjs} needs --backend tfjs`);
  const candidates: Candidate[] = [];
  let adapter: AdapterRecord | undefined;
  if (perPointPath) candidates.push({ backend: 'tfjs', chosen: false, reason: 'the per-point path (H0 eigenbasis depends on the parameters) is float64 only' });
  else if (points < GPU_PROBE_POINTS) candidates.push({ backend: 'tfjs', chosen: false, reason: `${points} points: below the ${GPU_PROBE_POINTS} for which auto probes for a GPU` });
  else {
    try {
      const be = await loadTfjsBackend(job, 'auto', options);
      adapter = be.tfjs.adapter;
      if (be.onGpu) {
        const why = `a GPU is present (${be.description})`;
        return { backend: be, why, calibration: undefined, estimateSeconds: undefined, candidates: tfjsCandidates(be, true, why), adapter };
      }
      candidates.push(...tfjsCandidates(be, false, `${be.name} is not a GPU backend`));
      await be.close();
    } catch (e) {
      candidates.push({ backend: 'tfjs', chosen: false, reason: `no usable tensor backend: ${e instanceof Error ? e.message : String(e)}` });
    }
  }
  // the shared pool the hybrid backend would use: already started by an earlier run of this process?
  const warm = threads > 1 && !options.maxHeapMb && !options.faultInjection && sharedPoolWarm(threads - 1);
  if (warm) {
    // with no start-up to pay, every core finishes first whatever a point costs, so a
    // calibration could not change the choice; it used to cost a 512-point run ~15% of its
    // time (a script calling runSweep repeatedly, relaxmap bench). No estimate: the progress
    // line's ETA then comes from the run's own rate, and plan calibrates for its own.
    const why = `${allCores(threads)}: warm pool: no start-up, so all cores finish first at any cost per point; no GPU tensor backend`;
    candidates.push({ backend: 'inline', chosen: false, reason: `one core of ${threads}, with the pool already started` }, { backend: 'hybrid', chosen: true, reason: why });
    return { backend: new HybridBackend(job, threads - 1, options), why, calibration: undefined, estimateSeconds: undefined, candidates, adapter };
  }
  const cal = calibrate(job, perPointPath ? 4 : 64, points);
  const inline = cal.setup + points * cal.perPoint;
  const pool = poolEstimate(cal, points, threads, POOL_STARTUP_S);
  const poolWhy = `with the pool's start-up (${POOL_STARTUP_S} s)`;
  if (threads > 1 && pool < inline) {
    const why = `${allCores(threads)}: estimated ${pool.toFixed(2)} s ${poolWhy} vs ${inline.toFixed(2)} s in-thread (${(cal.perPoint * 1e6).toFixed(1)} us/point); no GPU tensor backend`;
    candidates.push({ backend: 'inline', chosen: false, reason: `estimated ${inline.toFixed(2)} s in-thread` }, { backend: 'hybrid', chosen: true, reason: why });
    return { backend: new HybridBackend(job, threads - 1, options), why, calibration: cal, estimateSeconds: pool, candidates, adapter };
  }
  const why = `float64 kernel in-thread: estimated ${inline.toFixed(2)} s, less than a ${threads}-thread pool's start-up would save (${(cal.perPoint * 1e6).toFixed(1)} us/point)`;
  if (threads > 1) candidates.push({ backend: 'hybrid', chosen: false, reason: `estimated ${pool.toFixed(2)} s ${poolWhy}` });
  candidates.push({ backend: 'inline', chosen: true, reason: why });
  return { backend: new InlineBackend(job), why, calibration: cal, estimateSeconds: inline, candidates, adapter };
}

/** How the hybrid choice names its threads. */
function allCores(threads: number): string {
  return `float64 kernel on all ${threads} cores (main thread plus ${threads - 1} worker${threads > 2 ? 's' : ''})`;
}

/** Seconds the main thread plus (threads - 1) workers take for `points`, from a calibration and the pool's start-up. */
export function poolEstimate(cal: Calibration, points: number, threads: number, startup: number): number {
  return cal.setup + startup + (points * cal.perPoint) / threads;
}

function only(backend: EngineBackend, why: string): Selection {
  return { backend, why, calibration: undefined, estimateSeconds: undefined, candidates: [{ backend: backend.name, chosen: true, reason: why }], adapter: undefined };
}
