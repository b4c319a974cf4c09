/**
 * The float32 tensor backend: TensorFlow.js on WebGPU (Dawn), WebAssembly, plain JavaScript
 * or tfjs-node (libtensorflow), whichever loadTfjs finds.
 *
 * Two kernels compute the float32 values of a variant:
 * - the fused kernel (../fused/): one pass per point from per-axis tables to rates,
 *   trajectories and a per-point error estimate. On WebGPU it is one WGSL dispatch per device
 *   batch, batches spanning several checkpoint chunks (decoupled from them), submitted while
 *   the previous batch is read back and finished on the host; on the cpu and wasm backends it
 *   is the same algorithm in JavaScript (fused-js.ts), which is faster there than tfjs's
 *   tensor operations (BENCHMARKS.md).
 * - the tensor path (tensor-path.ts): tfjs operations, for the tensorflow backend and for a
 *   variant the device cannot take (workgroup memory).
 * Boltzmann values, the steady state and the modes come from the float64 kernel on the host;
 * so do the points the precision contract (precision-contract.ts) sends back.
 *
 * Tolerance: DEFAULT_TFJS_TOLERANCE = 1e-4, for rates (relative) and trajectories (relative
 * to the largest |<O>(t)| of their point and observable). Measured (bench/tfjs-precision.ts,
 * cpu and wasm) on every point of sweeps/paper-pair.yaml (0.05-300 K) and of the 65,536-point
 * sweeps/bench-pair-map.yaml (0.01-300 K, 0.5-28.2 T, tau_c 1 ps-1 ns, kappa -0.5-0.9), each
 * with the rodin-abergel, bengs-levitt, semiclassical and inhomogeneous models: at most
 * 1.7e-6 for rates and 3.2e-6 for trajectories (worst at 0.01-0.6 K, where the thermal terms
 * dominate), and 1e-6 or less against the QuTiP peer vectors. The high-temperature model far
 * outside its validity (0.01 K at 25 T, f < 0: <O>(t) grows to 1e36) reaches 7.8e-5, as
 * expected of an exponentially growing solution. dnp-lowT (bengs-levitt, 1 K, 14.1 T) shows
 * 6.1e-5 against float64 at t = 1000 s, where it is float64 that is off: its trajectory
 * drifts from the steady state by 6e-5 (Pade scaling and squaring over |G dt| ~ 1e12, 40
 * squarings), float32's stays within 1e-7. A J-coupled 1H-1H-13C system from a singlet
 * (Cz ~ 1e-5 of the state, fed by near-cancelling pairs of terms) is where float32 itself
 * runs out: there the estimate routes points to float64 (precision-contract.ts).
 */
import { availableParallelism } from 'node:os';
import type { Tensor } from '@tensorflow/tfjs';
import { emptyStats, EngineError, type BackendStats, type DeviceStats, type EngineBackend } from '../backend.js';
import { chunkViews, type Chunk, type ChunkResult } from '../chunk.js';
import { chunkShape, kernelData, kernelFor, type ChunkKernel, type Job, type KernelData } from '../job.js';
import { fusedOutputLength, fusedOutputViews } from '../fused/fused-constants.js';
import { FinisherPool } from '../fused/finisher-pool.js';
import { buildFused, disposeFused, finishFusedChunk, finishKernels, fusedShape, fusedUnsupported, sliceViews, type FusedVariant } from '../fused/fused-path.js';
import { buildFusedProblem } from '../fused/fused-problem.js';
import { dispatchFused } from '../fused/webgpu-program.js';
import { loadTfjs, type LoadedTfjs, type LoadTfjsOptions, type Tf, type TfjsPreference } from './load-tfjs.js';
import { DEFAULT_SAMPLE_FRACTION, DEFAULT_TFJS_TOLERANCE, MIN_SAMPLES, type ContractOutcome } from './precision-contract.js';
import { evaluateTensorChunk, tensorVariant, type DeviceCounters, type TensorVariant } from './tensor-path.js';

export { DEFAULT_SAMPLE_FRACTION, DEFAULT_TFJS_TOLERANCE, MIN_SAMPLES, pointError, sampleIndices, type PointError } from './precision-contract.js';

/** Points per tensor batch of the tensor path (bounds [P, nObs, nT] tensors: 4096 x 2 x 128 x 4 B = 4 MB). */
export const DEFAULT_BATCH_SIZE = 4096;
export const DEFAULT_GPU_BATCH_SIZE = 32768;
/** Points per fused dispatch on a GPU (a CPU adapter such as SwiftShader gets DEFAULT_CPU_DEVICE_BATCH). */
export const DEFAULT_DEVICE_BATCH = 262_144;
export const DEFAULT_CPU_DEVICE_BATCH = 16_384;

export type TfjsKernelChoice = 'auto' | 'fused' | 'tensor';

export interface TfjsBackendOptions {
  /** Backend preference for loadTfjs (default 'auto'). */
  readonly prefer?: TfjsPreference;
  /** Share of each chunk checked against float64 (default 1/64; at least 8 points). */
  readonly sampleFraction?: number;
  /** Largest accepted float32 error (default DEFAULT_TFJS_TOLERANCE). */
  readonly tolerance?: number;
  /** Points per tensor batch of the tensor path (default 4096; 32768 on webgpu and tensorflow). */
  readonly batchSize?: number;
  /** Points per fused dispatch on WebGPU (default 262,144 on a GPU, 16,384 on a CPU adapter). */
  readonly deviceBatch?: number;
  /** Chunks the executor keeps in flight (default: two device batches' worth on WebGPU, else 1). */
  readonly lanes?: number;
  /** 'auto' (default): the fused kernel where it runs and is faster, else the tensor path. */
  readonly kernel?: TfjsKernelChoice;
  /** Force the fused kernel's thread mapping (tests: both layouts on any r). */
  readonly layout?: 'thread' | 'group';
  /**
   * Worker threads that finish WebGPU batches (float64 side outputs, copies, the precision
   * contract) off the main thread; 0 finishes in the main thread. Default: cores - 1 (at
   * most 15) on a GPU, 0 on a CPU adapter (whose emulation wants the cores).
   */
  readonly finishers?: number;
  /** Passed to loadTfjs. */
  readonly load?: LoadTfjsOptions;
}

/** Engine-wide queue: the tfjs engine (active backend, tidy scopes) is global to the process. */
let engineQueue: Promise<unknown> = Promise.resolve();

function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = engineQueue.then(task, task);
  engineQueue = run.catch(() => undefined);
  return run;
}

/**
 * Counts tfjs's kernel launches on a backend: WebGPU programs (each one dispatch) or, on
 * cpu and wasm, kernel calls through the engine. Installed once per tfjs engine.
 */
const launchCounts = new WeakMap<object, { n: number }>();
function launchCounter(tf: Tf, backendName: string): { n: number } {
  const target: Record<string, unknown> = backendName === 'webgpu' ? (tf.backend() as unknown as Record<string, unknown>) : (tf.engine() as unknown as Record<string, unknown>);
  let c = launchCounts.get(target);
  if (c) return c;
  const counter = { n: 0 };
  const key = backendName === 'webgpu' ? 'runWebGPUProgram' : 'runKernel';
  const original = target[key] as (...a: unknown[]) => unknown;
  if (typeof original === 'function') {
    target[key] = function (this: unknown, ...a: unknown[]): unknown {
      counter.n++;
      return original.apply(this, a);
    };
  }
  launchCounts.set(target, counter);
  c = counter;
  return c;
}

type VariantState = TensorVariant | FusedVariant | { readonly kind: 'float64'; readonly kernel: ChunkKernel };

interface Pending {
  readonly chunk: Chunk;
  readonly out: ChunkResult;
  /** Parts still on the device. */
  parts: number;
  readonly resolve: (r: ChunkResult) => void;
  readonly reject: (e: unknown) => void;
}

interface Part {
  readonly pending: Pending;
  /** First point of the part within its chunk, and its size. */
  readonly from: number;
  readonly count: number;
}

export class TfjsBackend implements EngineBackend {
  readonly name: string;
  readonly description: string;
  readonly precision = 'float32' as const;
  readonly tolerance: number;
  readonly sampleFraction: number;
  readonly batchSize: number;
  readonly deviceBatch: number;
  readonly lanes: number;
  /** What loadTfjs chose, and why. */
  readonly tfjs: LoadedTfjs;
  /** True when the tensors live on a GPU (webgpu on a hardware adapter, or tfjs-node-gpu). */
  readonly onGpu: boolean;
  private readonly job: Job;
  private readonly tf: Tf;
  private readonly backendName: string;
  private readonly kernelChoice: TfjsKernelChoice;
  private readonly layout: 'thread' | 'group' | undefined;
  private readonly variants = new Map<number, VariantState>();
  private readonly counters: BackendStats = emptyStats();
  private readonly device: DeviceCounters = { dispatches: 0, readbacks: 0, uploadBytes: 0, readbackBytes: 0 };
  private readonly launches: { n: number };
  private readonly deviceStats: DeviceStats;
  private readonly kernelsUsed = new Set<string>();
  private readonly finisherThreads: number;
  private finisher: FinisherPool | undefined;
  private pending: Part[] = [];
  private flushScheduled = false;
  private batches = 0;
  private closed = false;

  constructor(job: Job, loaded: LoadedTfjs, options: TfjsBackendOptions = {}) {
    this.job = job;
    this.tfjs = loaded;
    this.tf = loaded.tf;
    this.backendName = loaded.backend;
    this.tolerance = options.tolerance ?? DEFAULT_TFJS_TOLERANCE;
    this.sampleFraction = options.sampleFraction ?? DEFAULT_SAMPLE_FRACTION;
    this.kernelChoice = options.kernel ?? 'auto';
    this.layout = options.layout;
    const cpuAdapter = loaded.adapter?.cpu ?? false;
    this.onGpu = (loaded.backend === 'webgpu' && !cpuAdapter) || (loaded.backend === 'tensorflow' && loaded.reason.includes('tfjs-node-gpu'));
    const gpu = loaded.backend === 'webgpu' || loaded.backend === 'tensorflow';
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? (gpu ? DEFAULT_GPU_BATCH_SIZE : DEFAULT_BATCH_SIZE)));
    this.deviceBatch = Math.max(1, Math.floor(options.deviceBatch ?? (this.onGpu ? DEFAULT_DEVICE_BATCH : DEFAULT_CPU_DEVICE_BATCH)));
    this.lanes = Math.max(1, Math.floor(options.lanes ?? (loaded.backend === 'webgpu' ? 4 : 1)));
    this.finisherThreads = Math.max(0, Math.floor(options.finishers ?? (this.onGpu ? Math.min(15, availableParallelism() - 1) : 0)));
    if (!(this.tolerance > 0)) throw new EngineError(`tfjs backend: tolerance must be positive, got ${this.tolerance}`);
    if (!(this.sampleFraction >= 0 && this.sampleFraction <= 1)) throw new EngineError(`tfjs backend: sampleFraction must lie in [0, 1], got ${this.sampleFraction}`);
    this.launches = launchCounter(this.tf, this.backendName);
    this.deviceStats = {
      kernels: [],
      device_dispatches: 0,
      device_readbacks: 0,
      device_upload_bytes: 0,
      device_readback_bytes: 0,
      device_batches: 0,
      precision_routed: 0,
      precision_whole_chunks: 0,
      chunk_times: [],
    };
    this.name = `tfjs-${loaded.backend}`;
    const kernel = this.kernelChoice === 'tensor' || loaded.backend === 'tensorflow' ? 'tfjs tensor operations' : loaded.backend === 'webgpu' ? 'one fused WGSL kernel per device batch' : 'the fused float32 kernel in JavaScript';
    this.description = `TensorFlow.js ${loaded.backend} backend, float32 (${kernel}) with a per-point error estimate and float64 spot checks (at least ${MIN_SAMPLES} points or ${(this.sampleFraction * 100).toPrecision(2)}% of each chunk, tolerance ${this.tolerance.toExponential(0)}); ${loaded.reason}`;
  }

  evaluate(chunk: Chunk): Promise<ChunkResult> {
    if (this.closed) return Promise.reject(new EngineError(`${this.name} backend is closed`));
    // a variant's tables become tensors of the backend active when it is built: ours
    return serialised(async () => {
      await this.activate();
      return this.variant(chunk.variant);
    }).then((state) => (state.kind === 'fused' && state.gpu ? this.enqueue(chunk) : this.evaluateHere(state, chunk)));
  }

  /** Every path but the WebGPU fused one: the chunk alone, in this thread. */
  private evaluateHere(state: VariantState, chunk: Chunk): Promise<ChunkResult> {
    return serialised(async () => {
      await this.activate();
      const out = chunkViews(chunkShape(this.job, chunk.count));
      const t0 = performance.now();
      const before = this.launches.n;
      if (state.kind === 'float64') {
        // per-point path (no parameter-independent basis): nothing to batch, float64 as the inline backend
        state.kernel.run(chunk.start, chunk.count, out);
      } else if (state.kind === 'tensor') {
        this.account(await evaluateTensorChunk({ tf: this.tf, want: this.job.want, counters: this.device }, state, chunk, out, this.tolerance, this.sampleFraction));
      } else {
        const js = state.js;
        if (!js) throw new EngineError('fused variant without a kernel');
        const buf = new Float32Array(fusedOutputLength(chunk.count, state.fp.nObs, state.fp.nTimes));
        const views = fusedOutputViews(buf, chunk.count, state.fp.nObs, state.fp.nTimes);
        js.run(chunk.start, chunk.count, views);
        this.account(finishFusedChunk(finishKernels(state), chunk, views, 0, out, this.tolerance, this.sampleFraction));
      }
      if (state.kind === 'tensor') this.device.dispatches += this.launches.n - before;
      const s = (performance.now() - t0) / 1000;
      this.deviceStats.chunk_times.push({ chunk: chunk.id, points: chunk.count, batch: this.batches++, host_s: s, device_s: state.kind === 'tensor' ? s : 0 });
      this.counters.chunks++;
      this.counters.points += chunk.count;
      return out;
    });
  }

  stats(): BackendStats {
    const d = this.deviceStats;
    return {
      ...this.counters,
      device: {
        ...d,
        kernels: [...this.kernelsUsed],
        device_dispatches: this.device.dispatches,
        device_readbacks: this.device.readbacks,
        device_upload_bytes: this.device.uploadBytes,
        device_readback_bytes: this.device.readbackBytes,
        device_batches: this.batches,
        chunk_times: [...d.chunk_times],
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    // let batches in flight finish first
    await serialised(() => Promise.resolve());
    for (const v of this.variants.values()) if (v.kind === 'fused') disposeFused(v);
    this.variants.clear();
    await this.finisher?.close();
    this.finisher = undefined;
  }

  private async activate(): Promise<void> {
    if (this.tf.getBackend() !== this.backendName && !(await this.tf.setBackend(this.backendName))) {
      throw new EngineError(`tfjs backend ${this.backendName} can no longer be activated`);
    }
  }

  private account(o: ContractOutcome): void {
    this.counters.precisionChecked += o.checked;
    this.counters.precisionRecomputed += o.recomputed;
    this.counters.precisionMaxError = Math.max(this.counters.precisionMaxError, o.maxError);
    this.deviceStats.precision_routed += o.routed;
    if (o.wholeChunk) this.deviceStats.precision_whole_chunks++;
  }

  private variant(v: number): VariantState {
    const hit = this.variants.get(v);
    if (hit) return hit;
    const variant = this.job.grid.variants[v];
    if (!variant) throw new EngineError(`variant ${v} out of range`);
    const data = kernelData(this.job, v);
    let state: VariantState;
    if (!data) {
      state = { kind: 'float64', kernel: kernelFor(this.job, v) };
      this.kernelsUsed.add('float64');
    } else {
      const inhomogeneous = variant.thermal === 'inhomogeneous';
      state = this.fusedOrTensor(data, inhomogeneous);
    }
    this.variants.set(v, state);
    return state;
  }

  /**
   * The fused kernel where it runs (not on tensorflow; on WebGPU when the variant fits the
   * device's workgroup memory) unless the tensor path was asked for; else the tensor path.
   */
  private fusedOrTensor(data: KernelData, inhomogeneous: boolean): VariantState {
    const { cp, tables } = data;
    const tensor = (): VariantState => {
      this.kernelsUsed.add('tensor');
      return tensorVariant(this.job.want, data, inhomogeneous, this.batchSize);
    };
    if (this.kernelChoice === 'tensor' || this.backendName === 'tensorflow') return tensor();
    // coherent (rotating-frame) terms: the fused kernel's per-group tables are built for
    // relaxation terms only; the tensor path assembles them like any other term
    if (cp.coherent) {
      if (this.kernelChoice === 'fused') throw new EngineError('fused kernel: generators with coherent terms (irradiation, hyperfine) take the tensor path');
      return tensor();
    }
    if (this.backendName === 'webgpu') {
      const fp = buildFusedProblem(cp, tables, this.job.grid, inhomogeneous, { wantRates: this.job.want.rates, wantTrajectories: this.job.want.trajectories });
      const why = fusedUnsupported(this.tf, fp, this.layout);
      if (why !== undefined) {
        if (this.kernelChoice === 'fused') throw new EngineError(`fused kernel: ${why}`);
        return tensor();
      }
      const v = buildFused(this.tf, this.job, data, this.job.grid, inhomogeneous, { device: 'webgpu', ...(this.layout ? { layout: this.layout } : {}) });
      this.device.uploadBytes += v.gpu?.uploadBytes ?? 0;
      this.kernelsUsed.add('fused-wgsl');
      return v;
    }
    this.kernelsUsed.add('fused-js');
    return buildFused(undefined, this.job, data, this.job.grid, inhomogeneous, { device: 'js' });
  }

  /** WebGPU fused path: queue the chunk; pending chunks are dispatched together. */
  private enqueue(chunk: Chunk): Promise<ChunkResult> {
    return new Promise<ChunkResult>((resolve, reject) => {
      const pending: Pending = { chunk, out: chunkViews(chunkShape(this.job, chunk.count)), parts: 0, resolve, reject };
      for (let from = 0; from < chunk.count; from += this.deviceBatch) {
        pending.parts++;
        this.pending.push({ pending, from, count: Math.min(this.deviceBatch, chunk.count - from) });
      }
      if (!this.flushScheduled) {
        this.flushScheduled = true;
        // every lane that is about to ask has asked by then
        setImmediate(() => this.flush());
      }
    });
  }

  /** Device batches of pending parts: same variant, contiguous points, at most deviceBatch each. */
  private flush(): void {
    this.flushScheduled = false;
    const parts = this.pending.splice(0);
    parts.sort((a, b) => a.pending.chunk.variant - b.pending.chunk.variant || a.pending.chunk.start + a.from - (b.pending.chunk.start + b.from));
    const batches: Part[][] = [];
    let cur: Part[] = [];
    let points = 0;
    let end = -1;
    let variant = -1;
    for (const p of parts) {
      const start = p.pending.chunk.start + p.from;
      if (cur.length > 0 && (p.pending.chunk.variant !== variant || start !== end || points + p.count > this.deviceBatch)) {
        batches.push(cur);
        cur = [];
        points = 0;
      }
      cur.push(p);
      points += p.count;
      end = start + p.count;
      variant = p.pending.chunk.variant;
    }
    if (cur.length > 0) batches.push(cur);
    for (const b of batches) void this.runBatch(b);
  }

  private async runBatch(parts: Part[]): Promise<void> {
    const first = parts[0] as Part;
    const state = this.variants.get(first.pending.chunk.variant) as FusedVariant;
    const gpu = state.gpu;
    const fp = state.fp;
    const count = parts.reduce((s, p) => s + p.count, 0);
    const start = first.pending.chunk.start + first.from;
    const len = fusedOutputLength(count, fp.nObs, fp.nTimes);
    const batch = this.batches++;
    const t0 = performance.now();
    let outT: Tensor | undefined;
    try {
      if (!gpu) throw new EngineError('fused variant without device inputs');
      outT = await serialised(async () => {
        await this.activate();
        return dispatchFused(this.tf, gpu.shape, gpu.inputs, start, count, len);
      });
      this.device.dispatches++;
      // reading submits the queue; batches dispatched after this one run while we wait
      const data = (await outT.data()) as Float32Array;
      this.device.readbacks++;
      this.device.readbackBytes += data.byteLength;
      const deviceS = (performance.now() - t0) / 1000;
      const views = fusedOutputViews(data, count, fp.nObs, fp.nTimes);
      outT.dispose();
      outT = undefined;
      const finishing: Array<Promise<void>> = [];
      let row = 0;
      for (const part of parts) {
        finishing.push(this.finishPart(state, part, views, row, batch, deviceS));
        row += part.count;
      }
      await Promise.all(finishing);
    } catch (e) {
      for (const part of parts) part.pending.reject(e);
    } finally {
      outT?.dispose();
    }
  }

  /** The host side of one part of a batch: in a finisher worker when there is a pool, else here. */
  private async finishPart(state: FusedVariant, part: Part, views: ReturnType<typeof fusedOutputViews>, row: number, batch: number, deviceS: number): Promise<void> {
    const p = part.pending;
    const whole = part.from === 0 && part.count === p.chunk.count;
    // a chunk larger than a device batch: each part is finished as a chunk of its own
    const sub: Chunk = whole ? p.chunk : { id: p.chunk.id, variant: p.chunk.variant, start: p.chunk.start + part.from, count: part.count };
    try {
      let result: ChunkResult;
      let hostS: number;
      if (this.finisherThreads > 0) {
        this.finisher ??= new FinisherPool(this.job, this.finisherThreads);
        const f = await this.finisher.finish(sub, sliceViews(views, row, part.count, state.fp.nObs, state.fp.nTimes), this.tolerance, this.sampleFraction);
        this.account(f.outcome);
        result = f.out;
        hostS = f.hostS;
      } else {
        const h0 = performance.now();
        result = whole ? p.out : chunkViews(chunkShape(this.job, part.count));
        this.account(finishFusedChunk(finishKernels(state), sub, views, row, result, this.tolerance, this.sampleFraction));
        hostS = (performance.now() - h0) / 1000;
      }
      if (result !== p.out) copyRows(result, p.out, part.from);
      this.deviceStats.chunk_times.push({ chunk: p.chunk.id, points: part.count, batch, host_s: hostS, device_s: deviceS });
    } catch (e) {
      p.reject(e);
      return;
    }
    if (--p.parts === 0) {
      this.counters.chunks++;
      this.counters.points += p.chunk.count;
      p.resolve(p.out);
    }
  }
}

/** Rows of `src` into `dst` from row `at` (every field of the chunk layout). */
function copyRows(src: ChunkResult, dst: ChunkResult, at: number): void {
  const { nObs, nModes, nTimes } = src.shape;
  const n = src.shape.count;
  dst.rates.set(src.rates, at * nObs);
  dst.steady.set(src.steady, at * nObs);
  dst.boltzmann.set(src.boltzmann, at * nObs);
  dst.eigenrates.set(src.eigenrates, at * nModes);
  dst.amplitudes.set(src.amplitudes, at * nObs * nModes);
  dst.trajectories.set(src.trajectories, at * nObs * nTimes);
  dst.flags.set(src.flags.subarray(0, n), at);
}

/** Loads tfjs (lazily, see loadTfjs) and builds the float32 backend for `job`. */
export async function createTfjsBackend(job: Job, options: TfjsBackendOptions = {}): Promise<TfjsBackend> {
  const loaded = await loadTfjs(options.prefer ?? 'auto', options.load);
  return new TfjsBackend(job, loaded, options);
}

export { fusedShape };
