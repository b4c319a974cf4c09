/**
 * The float32 tensor backend: TensorFlow.js on tfjs-node (libtensorflow), WebGPU (Dawn),
 * WebAssembly or plain JavaScript, whichever loadTfjs finds.
 *
 * Per chunk, in batches of `batchSize` points:
 *   C [P, K]   coefficient rows from the float64 factor tables, rounded once to float32
 *   G = C x Mr' [K, r*r]                one product -> [P, r, r], in reduced coordinates
 *                                       rotated so the observables are coordinates (aligned-basis.ts)
 *   rates = -C x W [K, nObs]            projection rates
 *   D = exp(G dt) - I                   batched Taylor/scaling-and-squaring, expm1 form (batched-expm.ts)
 *   S_j = P^j rho0, j < m               by doubling: S_{w+j} = S_j + D_w S_j, D_2w = 2 D_w + D_w D_w
 *   L_q = o^T P^(q m), q < nq           by doubling the same way
 *   trajectories = L x S                <O>((q m + j) dt), m ~ sqrt(nT)
 * Boltzmann values, the steady state and the modes come from the float64 kernel on the
 * CPU (they need an eigensolver, which tensors do not have, and cost little next to a
 * trajectory). Results are stored as float64 in the usual ChunkResult.
 *
 * Precision contract: every chunk recomputes a sample of its points with the float64
 * kernel (at least 8, or sampleFraction of the chunk, plus the point needing the most
 * squarings) and compares rates (relative) and trajectories (relative to the largest
 * |<O>(t)| of that point and observable). If any sampled point is off by more than the
 * tolerance the whole chunk is recomputed in float64, flagged FLAG_RECOMPUTED_F64 and
 * counted in stats().precisionRecomputed. A point whose float32 result is not finite
 * (float32 overflows at 3.4e38, where float64 may not), or whose result is a priori
 * ill-conditioned in float32 (see illConditioned), is recomputed alone in the same way;
 * what stays non-finite is flagged FLAG_NONFINITE.
 */
import type { Tensor, Tensor1D, Tensor3D } from '@tensorflow/tfjs';
import { emptyStats, EngineError, type BackendStats, type EngineBackend } from '../backend.js';
import { chunkViews, FLAG_NONFINITE, FLAG_RECOMPUTED_F64, type Chunk, type ChunkResult, type Want } from '../chunk.js';
import { CoefficientTables } from '../coefficient-tables.js';
import type { CompiledProblem } from '../compiled-problem.js';
import { F64Kernel } from '../f64-kernel.js';
import { chunkShape, kernelData, kernelFor, type ChunkKernel, type Job } from '../job.js';
import { alignedBasis, rotateRows } from './aligned-basis.js';
import { batchedExpm1Scaled, expmSquarings } from './batched-expm.js';
import { loadTfjs, type LoadedTfjs, type LoadTfjsOptions, type Tf, type TfjsPreference } from './load-tfjs.js';

/**
 * Default tolerance of the precision contract: 1e-4, for rates (relative) and trajectories
 * (relative to the largest |<O>(t)| of their point and observable).
 *
 * Measured (bench/tfjs-precision.ts, cpu and wasm) on every point of sweeps/paper-pair.yaml
 * (0.05-300 K) and of the 65,536-point sweeps/bench-pair-map.yaml (0.01-300 K, 0.5-28.2 T,
 * tau_c 1 ps-1 ns, kappa -0.5-0.9), each with the rodin-abergel, bengs-levitt,
 * semiclassical and inhomogeneous models: at most 1.7e-6 for rates and 3.2e-6 for
 * trajectories (worst at 0.01-0.6 K, where the thermal terms dominate), and 1e-6 or less
 * against the QuTiP peer vectors. The high-temperature model far outside its validity
 * (0.01 K at 25 T, f < 0: <O>(t) grows to 1e36) reaches 7.8e-5, as expected of an
 * exponentially growing solution. The other example sweeps stay below 6e-7, except
 * dnp-lowT (bengs-levitt, 1 K, 14.1 T) at 6.1e-5 against float64 at t = 1000 s, where it
 * is float64 that is off: its trajectory drifts from the steady state by 6e-5 (Pade
 * scaling and squaring over |G dt| ~ 1e12, 40 squarings), float32's stays within 1e-7.
 * 1e-4 is thirty times the worst physical float32 error, so a recomputation means float32
 * really failed (as a lost thermal term would: 2e-3 at 300 K) and not that it is noisy,
 * and it is four significant digits of every value.
 */
export const DEFAULT_TFJS_TOLERANCE = 1e-4;
/** float32 unit roundoff. */
const F32_EPS = 2 ** -24;
/**
 * Rounding errors, in units of u times the size of the terms, that a float32 rate (a sum of
 * nTerms products of rounded factors) and a trajectory (rounded once per doubling level,
 * read as a sum over r coordinates) carry; measured at 1-2, taken with a margin.
 */
export const RATE_ULPS = 4;
export const READOUT_ULPS = 8;
/** The a-priori conditioning check flags estimated errors above max(tolerance, GUARD_FLOOR). */
export const GUARD_FLOOR = 1e-5;
/** Default share of each chunk recomputed in float64 (never fewer than MIN_SAMPLES points). */
export const DEFAULT_SAMPLE_FRACTION = 1 / 64;
export const MIN_SAMPLES = 8;
/**
 * Points per tensor batch: bounds the trajectory tensor [P, nObs, nT] (4096 x 2 x 128 x 4 B
 * = 4 MB). The CPU backends gain nothing from larger batches; a GPU wants more points per
 * kernel launch.
 */
export const DEFAULT_BATCH_SIZE = 4096;
export const DEFAULT_GPU_BATCH_SIZE = 32768;

export interface TfjsBackendOptions {
  /** Backend preference for loadTfjs (default 'auto'). */
  readonly prefer?: TfjsPreference;
  /** Share of each chunk checked against float64 (default 1/64; at least 8 points). */
  readonly sampleFraction?: number;
  /** Largest accepted float32 error of a sampled point (default DEFAULT_TFJS_TOLERANCE). */
  readonly tolerance?: number;
  /** Points per tensor batch inside a chunk (default 4096; 32768 on webgpu and tensorflow). */
  readonly batchSize?: number;
  /** Passed to loadTfjs. */
  readonly load?: LoadTfjsOptions;
}

/** How a time grid is propagated (the same test as the float64 kernel). */
type TimePlan = { readonly kind: 'uniform'; readonly dt: number } | { readonly kind: 'steps'; readonly steps: readonly number[]; readonly stepOf: Int32Array };

function timePlan(times: Float64Array): TimePlan {
  const n = times.length;
  if (n >= 2 && times[0] === 0) {
    const dt = (times[1] as number) - (times[0] as number);
    let uniform = true;
    for (let k = 2; k < n && uniform; k++) if (Math.abs((times[k] as number) - (times[k - 1] as number) - dt) > 1e-12 * Math.abs(dt) * k) uniform = false;
    if (uniform) return { kind: 'uniform', dt };
  }
  // one exponential per distinct interval (from t = 0 to the first time, then between times)
  const steps: number[] = [];
  const stepOf = new Int32Array(n);
  let prev = 0;
  for (let k = 0; k < n; k++) {
    const d = (times[k] as number) - prev;
    prev = times[k] as number;
    if (d === 0) {
      stepOf[k] = -1;
      continue;
    }
    let u = steps.findIndex((s) => Math.abs(s - d) <= 1e-12 * Math.abs(d));
    if (u < 0) {
      steps.push(d);
      u = steps.length - 1;
    }
    stepOf[k] = u;
  }
  return { kind: 'steps', steps, stepOf };
}

interface VariantState {
  readonly kind: 'tensor';
  readonly cp: CompiledProblem;
  readonly inhomogeneous: boolean;
  /** Float64 reference with the job's outputs: samples and recomputation. */
  readonly full: F64Kernel;
  /** Float64 side outputs: Boltzmann values, and modes/steady state when wanted. */
  readonly side: F64Kernel;
  /** Coefficient rows, initial and equilibrium states of the batch being evaluated. */
  readonly inputs: F64Kernel;
  /** Reduced coordinates rotated so the observables are coordinates (aligned-basis.ts). */
  readonly rotation: Float64Array;
  readonly terms: Float32Array;
  /** The term matrices without the coherent ones (inhomogeneous source -Gamma rho_eq); undefined when there are none. */
  readonly termsRelaxation: Float32Array | undefined;
  readonly rateWeights: Float32Array;
  readonly observables: Float32Array;
  /** The observables repeated for every point of a batch, [batchSize][nObs][r]. */
  readonly observablesTiled: Float32Array;
  readonly plan: TimePlan;
  readonly coef: Float32Array;
  readonly rho0: Float32Array;
  readonly rhoEq: Float32Array;
  /** Float64 states before the rotation. */
  readonly scratch: Float64Array;
  /** max_t |<O>(t)| per point and observable of the batch being copied. */
  readonly peak: Float64Array;
  /** Points per tensor batch for this variant (fewer when many distinct intervals are exponentiated at once). */
  readonly batch: number;
}

/** Largest tensor of exponent arguments [intervals x points, r, r] in float32 values (64 MB). */
const MAX_EXPONENT_VALUES = 16e6;

/** Engine-wide queue: the tfjs engine (active backend, tidy scopes) is global to the process. */
let engineQueue: Promise<unknown> = Promise.resolve();

function serialised<T>(task: () => Promise<T>): Promise<T> {
  const run = engineQueue.then(task, task);
  engineQueue = run.catch(() => undefined);
  return run;
}

/** Errors of a float32 point against its float64 recomputation. */
export interface PointError {
  /** Largest relative rate error over the observables. */
  readonly rate: number;
  /** Largest trajectory error relative to max_t |<O>(t)| of the same point and observable. */
  readonly trajectory: number;
}

/** Error of row `i` of `a` against row `j` of the float64 reference `ref` (NaN in both counts as agreement). */
export function pointError(a: ChunkResult, i: number, ref: ChunkResult, j: number): PointError {
  const { nObs, nTimes } = a.shape;
  let rate = 0;
  let trajectory = 0;
  const worse = (cur: number, e: number): number => (Number.isNaN(e) ? Infinity : Math.max(cur, e));
  for (let o = 0; o < nObs; o++) {
    const x = a.rates[i * nObs + o] as number;
    const y = ref.rates[j * nObs + o] as number;
    if (!(Number.isNaN(x) && Number.isNaN(y)) && x !== y) rate = worse(rate, Math.abs(x - y) / (y !== 0 ? Math.abs(y) : 1));
    if (nTimes === 0) continue;
    const ba = (i * nObs + o) * nTimes;
    const bb = (j * nObs + o) * nTimes;
    let scale = 0;
    let diff = 0;
    let bothNaN = true;
    for (let t = 0; t < nTimes; t++) {
      const u = a.trajectories[ba + t] as number;
      const v = ref.trajectories[bb + t] as number;
      if (!(Number.isNaN(u) && Number.isNaN(v))) bothNaN = false;
      scale = Math.max(scale, Math.abs(v));
      diff = Math.max(diff, u === v ? 0 : Math.abs(u - v));
    }
    if (!bothNaN) trajectory = worse(trajectory, scale > 0 ? diff / scale : diff);
  }
  return { rate, trajectory };
}

/** The point indices sampled in a chunk of `count`: evenly spread, first and last included, plus `extra`. */
export function sampleIndices(count: number, fraction: number, extra?: number): number[] {
  const n = Math.min(count, Math.max(MIN_SAMPLES, Math.ceil(fraction * count)));
  const set = new Set<number>();
  for (let i = 0; i < n; i++) set.add(n === 1 ? 0 : Math.round((i * (count - 1)) / (n - 1)));
  if (extra !== undefined && extra >= 0 && extra < count) set.add(extra);
  return [...set].sort((x, y) => x - y);
}

export class TfjsBackend implements EngineBackend {
  readonly name: string;
  readonly description: string;
  readonly precision = 'float32' as const;
  readonly tolerance: number;
  readonly sampleFraction: number;
  readonly batchSize: number;
  /** What loadTfjs chose, and why. */
  readonly tfjs: LoadedTfjs;
  /** True when the tensors live on a GPU (webgpu, or tfjs-node-gpu's libtensorflow). */
  readonly onGpu: boolean;
  private readonly job: Job;
  private readonly tf: Tf;
  private readonly backendName: string;
  private readonly variants = new Map<number, VariantState | { readonly kind: 'float64'; readonly kernel: ChunkKernel }>();
  private readonly counters: BackendStats = emptyStats();
  private closed = false;

  constructor(job: Job, loaded: LoadedTfjs, options: TfjsBackendOptions = {}) {
    this.job = job;
    this.tfjs = loaded;
    this.tf = loaded.tf;
    this.backendName = loaded.backend;
    this.tolerance = options.tolerance ?? DEFAULT_TFJS_TOLERANCE;
    this.sampleFraction = options.sampleFraction ?? DEFAULT_SAMPLE_FRACTION;
    this.onGpu = loaded.backend === 'webgpu' || (loaded.backend === 'tensorflow' && loaded.reason.includes('tfjs-node-gpu'));
    const gpu = loaded.backend === 'webgpu' || loaded.backend === 'tensorflow';
    this.batchSize = Math.max(1, Math.floor(options.batchSize ?? (gpu ? DEFAULT_GPU_BATCH_SIZE : DEFAULT_BATCH_SIZE)));
    if (!(this.tolerance > 0)) throw new EngineError(`tfjs backend: tolerance must be positive, got ${this.tolerance}`);
    if (!(this.sampleFraction >= 0 && this.sampleFraction <= 1)) throw new EngineError(`tfjs backend: sampleFraction must lie in [0, 1], got ${this.sampleFraction}`);
    this.name = `tfjs-${loaded.backend}`;
    this.description = `TensorFlow.js ${loaded.backend} backend, float32 with float64 spot checks (at least ${MIN_SAMPLES} points or ${(this.sampleFraction * 100).toPrecision(2)}% of each chunk, tolerance ${this.tolerance.toExponential(0)}); ${loaded.reason}`;
  }

  evaluate(chunk: Chunk): Promise<ChunkResult> {
    if (this.closed) return Promise.reject(new EngineError(`${this.name} backend is closed`));
    return serialised(async () => {
      if (this.tf.getBackend() !== this.backendName && !(await this.tf.setBackend(this.backendName))) {
        throw new EngineError(`tfjs backend ${this.backendName} can no longer be activated`);
      }
      const out = chunkViews(chunkShape(this.job, chunk.count));
      const state = this.variant(chunk.variant);
      if (state.kind === 'float64') {
        // per-point path (no parameter-independent basis): nothing to batch, float64 as the inline backend
        state.kernel.run(chunk.start, chunk.count, out);
      } else {
        await this.evaluateTensor(state, chunk, out);
      }
      this.counters.chunks++;
      this.counters.points += chunk.count;
      return out;
    });
  }

  stats(): BackendStats {
    return { ...this.counters };
  }

  close(): Promise<void> {
    this.closed = true;
    this.variants.clear();
    return Promise.resolve();
  }

  private variant(v: number): VariantState | { readonly kind: 'float64'; readonly kernel: ChunkKernel } {
    const hit = this.variants.get(v);
    if (hit) return hit;
    const variant = this.job.grid.variants[v];
    if (!variant) throw new EngineError(`variant ${v} out of range`);
    const cp = this.job.compiled[variant.initial];
    if (!cp) {
      const k = { kind: 'float64' as const, kernel: kernelFor(this.job, v) };
      this.variants.set(v, k);
      return k;
    }
    const want = this.job.want;
    // the float64 side (modes, rechecks) is the batched kernel's own: same tables and symmetric form
    const data = kernelData(this.job, v);
    const tables = data?.tables ?? new CoefficientTables(this.job.model, this.job.model.compact, this.job.grid, variant.thermal, { inverted: cp.initialSign === -1 });
    const sym = data?.sym;
    const b = this.batchSize;
    const sideWant: Want = { rates: false, modes: want.modes, trajectories: false };
    const aligned = alignedBasis(cp);
    const plan = timePlan(cp.times);
    const intervals = plan.kind === 'uniform' ? 1 : plan.steps.length;
    const rho0 = new Float32Array(b * cp.r);
    if (aligned.initialFixed) for (let j = 0; j < b; j++) rho0.set(aligned.initialFixed, j * cp.r);
    const state: VariantState = {
      kind: 'tensor',
      cp,
      inhomogeneous: variant.thermal === 'inhomogeneous',
      full: new F64Kernel(cp, tables, want, sym),
      side: new F64Kernel(cp, tables, sideWant, sym),
      inputs: new F64Kernel(cp, tables, sideWant, sym),
      rotation: aligned.rotation,
      terms: Float32Array.from(aligned.termMatrices),
      termsRelaxation: cp.coherent && variant.thermal === 'inhomogeneous' ? withoutCoherent(aligned.termMatrices, cp) : undefined,
      rateWeights: Float32Array.from(cp.rateWeights),
      observables: Float32Array.from(aligned.observables),
      observablesTiled: tiled(aligned.observables, b),
      plan,
      coef: new Float32Array(b * cp.nTerms),
      rho0,
      rhoEq: new Float32Array(b * cp.r),
      scratch: new Float64Array(b * cp.r),
      peak: new Float64Array(b * cp.nObs),
      batch: Math.max(1, Math.min(b, Math.floor(MAX_EXPONENT_VALUES / (Math.max(1, intervals) * cp.r * cp.r)))),
    };
    this.variants.set(v, state);
    return state;
  }

  private async evaluateTensor(st: VariantState, chunk: Chunk, out: ChunkResult): Promise<void> {
    const { count, start } = chunk;
    const nObs = st.cp.nObs;
    const nT = out.shape.nTimes;
    const bad = new Set<number>();
    let stiffest = -1;
    let stiffestS = -1;
    for (let off = 0; off < count; off += st.batch) {
      const b = Math.min(st.batch, count - off);
      // Boltzmann values (and modes, steady state) in float64, which also writes the flags,
      // run while the device works on the batch's first phase (a GPU computes asynchronously)
      const res = await this.batch(st, start + off, b, nT, () => st.side.run(start + off, b, out, off));
      if (res.rates && !copyRates(res.rates, b, nObs, out.rates, off)) markBad(res.rates, b, nObs, off, bad);
      if (res.trajectories) copyTrajectories(res.trajectories, b, nObs, nT, res.layout, out.trajectories, off, bad, st.peak);
      this.illConditioned(st, b, off, res.rates !== undefined, res.trajectories !== undefined, bad);
      if (res.squarings) {
        for (let i = 0; i < b; i++) {
          const sq = res.squarings[i] as number;
          if (sq > stiffestS) {
            stiffestS = sq;
            stiffest = off + i;
          }
        }
      }
    }
    // the sampled float64 check, on the points float32 was trusted with
    const idx = sampleIndices(count, this.sampleFraction, stiffest).filter((i) => !bad.has(i));
    const ref = chunkViews(chunkShape(this.job, idx.length));
    let worst = 0;
    idx.forEach((i, j) => {
      st.full.run(start + i, 1, ref, j);
      const e = pointError(out, i, ref, j);
      worst = Math.max(worst, e.rate, e.trajectory);
    });
    this.counters.precisionChecked += idx.length;
    this.counters.precisionMaxError = Math.max(this.counters.precisionMaxError, worst);
    if (!(worst <= this.tolerance) || bad.size > count / 4) {
      // the chunk fails the contract (or most of it is out of float32's reach): all in float64
      st.full.run(start, count, out);
      for (let i = 0; i < count; i++) out.flags[i] = (out.flags[i] as number) | FLAG_RECOMPUTED_F64;
      this.counters.precisionRecomputed += count;
      for (let i = 0; i < count; i++) markNonFinite(out, i);
    } else {
      // float32 overflow, NaN or an ill-conditioned readout: that point alone in float64
      // (the float32 values of every other point were checked finite while copied)
      for (const i of bad) {
        st.full.run(start + i, 1, out, i);
        out.flags[i] = (out.flags[i] as number) | FLAG_RECOMPUTED_F64;
        markNonFinite(out, i);
      }
      this.counters.precisionRecomputed += bad.size;
    }
  }

  /**
   * Points whose float32 result is ill-conditioned, found a priori, go to `bad` (float64).
   * A rate is the sum -sum_k c_k w_k and <O>(t) is read as sum_a o'_a rho'_a; where those
   * terms are kappa times larger than the result, float32 loses kappa u of it, whatever the
   * exponential does. Two cases the sampled check may miss because they concern few points:
   * a rate that nearly cancels (a random-field singlet rate at kappa -> 1), and a small
   * population of a strongly polarised state (the singlet population of an electron pair
   * at 1 K, 3e-6 of the state: kappa = 2600 and a float32 error of 3e-4, measured).
   */
  private illConditioned(st: VariantState, b: number, off: number, rates: boolean, traj: boolean, bad: Set<number>): void {
    const { r, nObs, nTerms: nK } = st.cp;
    // below GUARD_FLOOR the sampled check alone decides: a forced tiny tolerance should
    // recompute chunks through the contract, not point by point through this estimate
    const limit = Math.max(this.tolerance, GUARD_FLOOR) / F32_EPS;
    for (let i = 0; i < b; i++) {
      if (bad.has(off + i)) continue;
      let worst = 0;
      if (rates) {
        for (let o = 0; o < nObs; o++) {
          let sum = 0;
          let abs = 0;
          for (let k = 0; k < nK; k++) {
            const t = (st.coef[i * nK + k] as number) * (st.rateWeights[k * nObs + o] as number);
            sum += t;
            abs += Math.abs(t);
          }
          if (abs > 0) worst = Math.max(worst, (RATE_ULPS * abs) / Math.abs(sum));
        }
      }
      if (traj) {
        for (let o = 0; o < nObs; o++) {
          let abs = 0;
          for (let a = 0; a < r; a++) abs += Math.abs((st.observables[o * r + a] as number) * (st.rho0[i * r + a] as number));
          if (abs > 0) worst = Math.max(worst, (READOUT_ULPS * abs) / (st.peak[i * nObs + o] as number));
        }
      }
      if (!(worst <= limit)) bad.add(off + i);
    }
  }

  /**
   * One tensor batch of b points; `meanwhile` runs on the host once the first phase is
   * queued. Returns host arrays: rates [b, nObs], trajectories
   * [b, nq, nObs, m] (t = q m + j; entries past nT are padding), squarings [b].
   */
  private async batch(st: VariantState, start: number, b: number, nT: number, meanwhile: () => void): Promise<BatchResult> {
    const tf = this.tf;
    const { cp, plan } = st;
    const { r, nTerms: nK, nObs } = cp;
    const want = this.job.want;
    const traj = want.trajectories && nT > 0;
    st.inputs.coefficientRows(start, b, st.coef);
    if (traj && !cp.initialFixed) {
      st.inputs.initialStates(start, b, st.scratch);
      rotateRows(st.rotation, r, st.scratch, b, st.rho0);
    }
    if (st.inhomogeneous) {
      st.inputs.equilibriumStates(start, b, st.scratch);
      rotateRows(st.rotation, r, st.scratch, b, st.rhoEq);
    }
    const steps = plan.kind === 'uniform' ? [plan.dt] : plan.steps;

    // phase 1: generators, rates, exponent arguments and their squaring counts
    const first = tf.tidy(() => {
      const c = tf.tensor2d(st.coef.subarray(0, b * nK), [b, nK]);
      let g = tf.reshape(tf.matMul(c, tf.tensor2d(st.terms, [nK, r * r])), [b, r, r]) as Tensor3D;
      if (st.inhomogeneous) {
        // generator on rho - rho_eq: the identity column gets the source -sqrt(d) Gamma rho_eq
        // (relaxation alone: coherent terms act on rho itself)
        const gRelax = st.termsRelaxation ? (tf.reshape(tf.matMul(c, tf.tensor2d(st.termsRelaxation, [nK, r * r])), [b, r, r]) as Tensor3D) : g;
        const v = tf.matMul(gRelax, tf.tensor3d(st.rhoEq.subarray(0, b * r), [b, r, 1]));
        const e0 = tf.reshape(tf.oneHot(tf.tensor1d([0], 'int32'), r), [1, 1, r]);
        g = tf.sub(g, tf.mul(tf.mul(v, st.inputs.identityScale), e0)) as Tensor3D;
      }
      const kept: Record<string, Tensor> = {};
      if (want.rates) kept.rates = tf.neg(tf.matMul(c, tf.tensor2d(st.rateWeights, [nK, nObs])));
      if (traj && steps.length > 0) {
        const a = steps.length === 1 ? (tf.mul(g, steps[0] as number) as Tensor3D) : (tf.concat(steps.map((dt) => tf.mul(g, dt) as Tensor3D), 0) as Tensor3D);
        kept.a = a;
        kept.s = expmSquarings(tf, a);
      }
      return kept;
    });
    try {
      meanwhile();
      const rates = first.rates ? ((await first.rates.data()) as Float32Array) : undefined;
      if (!traj) return { rates, layout: { m: nT, nq: 1 } };
      const a = first.a as Tensor3D | undefined;
      const s = first.s as Tensor1D | undefined;
      const squarings = s ? ((await s.data()) as Float32Array) : undefined;
      let sMax = 0;
      if (squarings) for (let i = 0; i < squarings.length; i++) sMax = Math.max(sMax, squarings[i] as number);
      const layout = plan.kind === 'uniform' ? blocking(nT) : { m: nT, nq: 1 };

      // phase 2: propagators and trajectories
      const trajT = tf.tidy(() => {
        const rho0 = tf.tensor3d(st.rho0.subarray(0, b * r), [b, r, 1]);
        // the observables for every point, tiled on the host (no reliance on batch broadcasting)
        const obs = tf.tensor3d(st.observablesTiled.subarray(0, b * nObs * r), [b, nObs, r]);
        if (!a || !s) {
          // every time is 0: the initial state throughout
          return tf.matMul(obs, tf.tile(rho0, [1, 1, nT]) as Tensor3D) as Tensor3D;
        }
        if (plan.kind === 'uniform') {
          // <O>(t) at t = (q m + j) dt is o . P^(q m) P^j rho0: states S_j = P^j rho0 (j < m)
          // and left vectors L_q = o^T P^(q m) (q < nq), both by doubling, then one product
          // L [b, nq nObs, r] x S^T. That is log2(nT) batched products instead of nT, and the
          // [b, r, nT] states are never formed. In the expm1 form (D_w = P^w - I) every vector
          // is rounded once per doubling level, at its own size. The states are kept as rows
          // [b, j, r], so that a doubling concatenates whole per-point blocks.
          let d = batchedExpm1Scaled(tf, a, squarings ?? s, sMax);
          let states = tf.reshape(rho0, [b, 1, r]) as Tensor3D;
          for (let w = 1; w < layout.m; w *= 2) {
            states = tf.concat([states, tf.add(states, tf.matMul(states, d, false, true))], 1) as Tensor3D;
            d = tf.add(tf.mul(d, 2), tf.matMul(d, d)) as Tensor3D;
          }
          let left: Tensor3D = obs;
          for (let w = 1; w < layout.nq; ) {
            const take = Math.min(w, layout.nq - w);
            const src = take === w ? left : (tf.slice(left, [0, 0, 0], [b, take * nObs, r]) as Tensor3D);
            left = tf.concat([left, tf.add(src, tf.matMul(src, d))], 1) as Tensor3D;
            w += take;
            if (w < layout.nq) d = tf.add(tf.mul(d, 2), tf.matMul(d, d)) as Tensor3D;
          }
          return tf.matMul(left, states, false, true) as Tensor3D;
        }
        // other grids: one exponential per distinct interval, applied in sequence
        const props = batchedExpm1Scaled(tf, a, squarings ?? s, sMax);
        const perStep = steps.map((_, u) => tf.slice(props, [u * b, 0, 0], [b, r, r]) as Tensor3D);
        let rho: Tensor3D = rho0;
        const cols: Tensor3D[] = [];
        for (let k = 0; k < nT; k++) {
          const u = plan.stepOf[k] as number;
          if (u >= 0) rho = tf.add(rho, tf.matMul(perStep[u] as Tensor3D, rho)) as Tensor3D;
          cols.push(rho);
        }
        return tf.matMul(obs, tf.concat(cols, 2) as Tensor3D) as Tensor3D;
      });
      try {
        const trajectories = (await trajT.data()) as Float32Array;
        return { rates, trajectories, squarings: squarings?.subarray(0, b), layout };
      } finally {
        trajT.dispose();
      }
    } finally {
      for (const t of Object.values(first)) t.dispose();
    }
  }
}

interface BatchResult {
  readonly rates?: Float32Array | undefined;
  readonly trajectories?: Float32Array | undefined;
  readonly squarings?: Float32Array | undefined;
  readonly layout: { readonly m: number; readonly nq: number };
}

/** Term matrices [nTerms][r][r] with the coherent ones zeroed. */
function withoutCoherent(terms: Float64Array, cp: CompiledProblem): Float32Array {
  const out = Float32Array.from(terms);
  const rr = cp.r * cp.r;
  for (let k = 0; k < cp.nTerms; k++) if (cp.isCoherentTerm[k] === 1) out.fill(0, k * rr, (k + 1) * rr);
  return out;
}

function tiled(v: Float64Array, times: number): Float32Array {
  const out = new Float32Array(v.length * times);
  for (let i = 0; i < times; i++) out.set(v, i * v.length);
  return out;
}

/** Time blocking for the uniform grid: m = 2^ceil(log2 sqrt(nT)) states, nq = ceil(nT / m) left vectors. */
export function blocking(nT: number): { m: number; nq: number } {
  const m = 2 ** Math.ceil(Math.log2(Math.max(1, Math.ceil(Math.sqrt(nT)))));
  return { m, nq: Math.max(1, Math.ceil(nT / m)) };
}

/** Copies float32 rates [b][nObs] into rows off.. of the float64 result; false if any is not finite. */
function copyRates(src: Float32Array, b: number, nObs: number, dst: Float64Array, off: number): boolean {
  const n = b * nObs;
  const base = off * nObs;
  let sum = 0;
  for (let k = 0; k < n; k++) {
    const v = src[k] as number;
    dst[base + k] = v;
    sum += v - v; // NaN for a NaN or an infinity
  }
  return sum === 0;
}

function markBad(src: Float32Array, b: number, per: number, off: number, bad: Set<number>): void {
  for (let i = 0; i < b; i++) {
    for (let k = 0; k < per; k++) {
      if (!Number.isFinite(src[i * per + k] as number)) {
        bad.add(off + i);
        break;
      }
    }
  }
}

/**
 * Copies trajectories from the device layout [b][nq][nObs][m] (t = q m + j, entries past nT
 * are padding) into the result layout [count][nObs][nT] from row off; points with a
 * non-finite value go into `bad`.
 */
function copyTrajectories(
  src: Float32Array,
  b: number,
  nObs: number,
  nT: number,
  layout: { readonly m: number; readonly nq: number },
  dst: Float64Array,
  off: number,
  bad: Set<number>,
  peak: Float64Array,
): void {
  const { m, nq } = layout;
  const perSrc = nq * nObs * m;
  for (let i = 0; i < b; i++) {
    let check = 0;
    for (let o = 0; o < nObs; o++) {
      const base = ((off + i) * nObs + o) * nT;
      let t = 0;
      let top = 0;
      for (let q = 0; q < nq; q++) {
        const row = i * perSrc + (q * nObs + o) * m;
        const len = Math.min(m, nT - t);
        for (let j = 0; j < len; j++) {
          const v = src[row + j] as number;
          dst[base + t + j] = v;
          check += v - v;
          const x = v < 0 ? -v : v;
          if (x > top) top = x;
        }
        t += len;
      }
      peak[i * nObs + o] = top;
    }
    if (check !== 0) bad.add(off + i);
  }
}

/** FLAG_NONFINITE on point i if any of its rates or trajectory values is not finite. */
function markNonFinite(out: ChunkResult, i: number): void {
  const { nObs, nTimes } = out.shape;
  let ok = true;
  for (let o = 0; o < nObs && ok; o++) if (!Number.isFinite(out.rates[i * nObs + o] as number)) ok = false;
  const per = nObs * nTimes;
  for (let q = 0; q < per && ok; q++) if (!Number.isFinite(out.trajectories[i * per + q] as number)) ok = false;
  if (!ok) out.flags[i] = (out.flags[i] as number) | FLAG_NONFINITE;
}

/** Loads tfjs (lazily, see loadTfjs) and builds the float32 backend for `job`. */
export async function createTfjsBackend(job: Job, options: TfjsBackendOptions = {}): Promise<TfjsBackend> {
  const loaded = await loadTfjs(options.prefer ?? 'auto', options.load);
  return new TfjsBackend(job, loaded, options);
}
