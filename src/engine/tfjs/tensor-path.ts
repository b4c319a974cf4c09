/**
 * The tfjs tensor path (one tensor operation per step, as tfjs kernels): what the float32
 * backend runs where the fused kernel does not (the tensorflow backend, or a variant beyond
 * the device's workgroup memory), and where it is faster (measured per backend, see
 * tfjs-backend.ts).
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
 * The squaring counts are read back between the two phases (three readbacks per batch).
 * Boltzmann values, the steady state and the modes come from the float64 kernel.
 */
import type { Tensor, Tensor1D, Tensor3D } from '@tensorflow/tfjs';
import type { Chunk, ChunkResult, Want } from '../chunk.js';
import type { KernelData } from '../job.js';
import type { CompiledProblem } from '../compiled-problem.js';
import { F64Kernel } from '../f64-kernel.js';
import { blocking, timePlan, type TimePlan } from '../fused/time-plan.js';
import { alignedBasis, rotateRows } from './aligned-basis.js';
import { batchedExpm1Scaled, expmSquarings } from './batched-expm.js';
import type { Tf } from './load-tfjs.js';
import { enforceContract, type ContractOutcome } from './precision-contract.js';

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
/** Largest tensor of exponent arguments [intervals x points, r, r] in float32 values (64 MB). */
const MAX_EXPONENT_VALUES = 16e6;

/** Transfers between host and device, counted by both paths. */
export interface DeviceCounters {
  dispatches: number;
  readbacks: number;
  uploadBytes: number;
  readbackBytes: number;
}

export interface TensorContext {
  readonly tf: Tf;
  readonly want: Want;
  readonly counters: DeviceCounters;
}

export interface TensorVariant {
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

export function tensorVariant(want: Want, data: KernelData, inhomogeneous: boolean, batchSize: number): TensorVariant {
  const { cp, tables, sym } = data;
  const b = batchSize;
  const sideWant: Want = { rates: false, modes: want.modes, trajectories: false };
  const aligned = alignedBasis(cp);
  const plan = timePlan(cp.times);
  const intervals = plan.kind === 'uniform' ? 1 : plan.steps.length;
  const rho0 = new Float32Array(b * cp.r);
  if (aligned.initialFixed) for (let j = 0; j < b; j++) rho0.set(aligned.initialFixed, j * cp.r);
  return {
    kind: 'tensor',
    cp,
    inhomogeneous,
    // the float64 side (modes, rechecks) is the batched kernel's own: same tables and symmetric form
    full: new F64Kernel(cp, tables, want, sym),
    side: new F64Kernel(cp, tables, sideWant, sym),
    inputs: new F64Kernel(cp, tables, sideWant, sym),
    rotation: aligned.rotation,
    terms: Float32Array.from(aligned.termMatrices),
    termsRelaxation: cp.coherent && inhomogeneous ? withoutCoherent(aligned.termMatrices, cp) : undefined,
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
}

/** One chunk on the tensor path, then the precision contract (a-priori conditioning bound, samples). */
export async function evaluateTensorChunk(ctx: TensorContext, st: TensorVariant, chunk: Chunk, out: ChunkResult, tolerance: number, sampleFraction: number): Promise<ContractOutcome> {
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
    const res = await batch(ctx, st, start + off, b, nT, () => st.side.run(start + off, b, out, off));
    if (res.rates && !copyRates(res.rates, b, nObs, out.rates, off)) markBad(res.rates, b, nObs, off, bad);
    if (res.trajectories) copyTrajectories(res.trajectories, b, nObs, nT, res.layout, out.trajectories, off, bad, st.peak);
    illConditioned(st, tolerance, b, off, res.rates !== undefined, res.trajectories !== undefined, bad);
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
  return enforceContract(out, start, count, bad, st.full, tolerance, sampleFraction, stiffest);
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
export function illConditioned(st: TensorVariant, tolerance: number, b: number, off: number, rates: boolean, traj: boolean, bad: Set<number>): void {
  const { r, nObs, nTerms: nK } = st.cp;
  // below GUARD_FLOOR the sampled check alone decides: a forced tiny tolerance should
  // recompute chunks through the contract, not point by point through this estimate
  const limit = Math.max(tolerance, GUARD_FLOOR) / F32_EPS;
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
async function batch(ctx: TensorContext, st: TensorVariant, start: number, b: number, nT: number, meanwhile: () => void): Promise<BatchResult> {
  const tf = ctx.tf;
  const { cp, plan } = st;
  const { r, nTerms: nK, nObs } = cp;
  const want = ctx.want;
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
    ctx.counters.uploadBytes += 4 * (b * nK + nK * r * r + (want.rates ? nK * nObs : 0) + (st.inhomogeneous ? b * r : 0));
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
    if (rates) {
      ctx.counters.readbacks++;
      ctx.counters.readbackBytes += rates.byteLength;
    }
    if (!traj) return { rates, layout: { m: nT, nq: 1 } };
    const a = first.a as Tensor3D | undefined;
    const s = first.s as Tensor1D | undefined;
    const squarings = s ? ((await s.data()) as Float32Array) : undefined;
    if (squarings) {
      ctx.counters.readbacks++;
      ctx.counters.readbackBytes += squarings.byteLength;
    }
    let sMax = 0;
    if (squarings) for (let i = 0; i < squarings.length; i++) sMax = Math.max(sMax, squarings[i] as number);
    const layout = plan.kind === 'uniform' ? blocking(nT) : { m: nT, nq: 1 };

    // phase 2: propagators and trajectories
    const trajT = tf.tidy(() => {
      const rho0 = tf.tensor3d(st.rho0.subarray(0, b * r), [b, r, 1]);
      // rho0, the tiled observables, and (host squarings) the scale and mask tensors of the exponential
      ctx.counters.uploadBytes += 4 * (b * r + b * nObs * r + (a && squarings ? 2 * a.shape[0] * r * r : 0));
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
      ctx.counters.readbacks++;
      ctx.counters.readbackBytes += trajectories.byteLength;
      return { rates, trajectories, squarings: squarings?.subarray(0, b), layout };
    } finally {
      trajT.dispose();
    }
  } finally {
    for (const t of Object.values(first)) t.dispose();
  }
}


interface BatchResult {
  readonly rates?: Float32Array | undefined;
  readonly trajectories?: Float32Array | undefined;
  readonly squarings?: Float32Array | undefined;
  readonly layout: { readonly m: number; readonly nq: number };
}

export function tiled(v: Float64Array, times: number): Float32Array {
  const out = new Float32Array(v.length * times);
  for (let i = 0; i < times; i++) out.set(v, i * v.length);
  return out;
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

/** Term matrices [nTerms][r][r] with the coherent ones zeroed. */
function withoutCoherent(terms: Float64Array, cp: CompiledProblem): Float32Array {
  const out = Float32Array.from(terms);
  const rr = cp.r * cp.r;
  for (let k = 0; k < cp.nTerms; k++) if (cp.isCoherentTerm[k] === 1) out.fill(0, k * rr, (k + 1) * rr);
  return out;
}
