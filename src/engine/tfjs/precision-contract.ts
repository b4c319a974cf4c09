/**
 * The float32 precision contract, shared by the fused kernel and the tensor path: every
 * point is within the tolerance of float64 (rates relative, trajectories relative to the
 * largest |<O>(t)| of that point and observable) or it is recomputed in float64, flagged
 * FLAG_RECOMPUTED_F64 and counted.
 *
 * Per point, a priori (no float64 needed): a point goes to float64 when its float32
 * result is not finite, or when its error estimate exceeds tolerance / ESTIMATE_MARGIN. The
 * fused kernel's estimate is the difference to a second pass from a perturbed generator
 * (fused-constants.ts); the tensor path's is a conditioning bound (tfjs-backend.ts).
 * Then, as a check of the estimate itself, a sample of the remaining points is recomputed
 * in float64 and compared: if any sampled point is off by more than the tolerance, the
 * estimate cannot be trusted for this chunk and the whole chunk is recomputed.
 *
 * ESTIMATE_MARGIN: on the 1H-1H-13C singlet sweep (256 points, r = 12, 1-300 K x tau_c
 * 1 ps-1 ns; rodin-abergel, bengs-levitt, high-temperature and inhomogeneous), every point
 * whose float32 error exceeded 1e-6 had an estimate of at least 1/3.3 of that error
 * (bench/fused-precision.ts). A margin of 4 therefore sends every point that could miss
 * 1e-4 to float64 (64 of 256 there, the Cz trajectories at T >= 20 K); on the pair sweeps
 * (bench-pair-map, paper-pair) no point comes near and none is recomputed.
 */
import { FLAG_NONFINITE, FLAG_RECOMPUTED_F64, type ChunkResult } from '../chunk.js';
import { chunkViews } from '../chunk.js';
import type { F64Kernel } from '../f64-kernel.js';

/** Default tolerance of the precision contract: 1e-4 (see tfjs-backend.ts for the measurements behind it). */
export const DEFAULT_TFJS_TOLERANCE = 1e-4;
/** Default share of each chunk recomputed in float64 (never fewer than MIN_SAMPLES points). */
export const DEFAULT_SAMPLE_FRACTION = 1 / 64;
export const MIN_SAMPLES = 8;
/** A point is recomputed when its estimated error exceeds max(tolerance, ESTIMATE_FLOOR) / ESTIMATE_MARGIN. */
export const ESTIMATE_MARGIN = 8;
/**
 * Below this tolerance the estimate (calibrated on errors of 1e-6..1e-4) does not route
 * points: a forced tiny tolerance is enforced by the sampled check, which then recomputes
 * whole chunks.
 */
export const ESTIMATE_FLOOR = 1e-5;

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

/** FLAG_NONFINITE on point i if any of its rates or trajectory values is not finite. */
export function markNonFinite(out: ChunkResult, i: number): void {
  const { nObs, nTimes } = out.shape;
  let ok = true;
  for (let o = 0; o < nObs && ok; o++) if (!Number.isFinite(out.rates[i * nObs + o] as number)) ok = false;
  const per = nObs * nTimes;
  for (let q = 0; q < per && ok; q++) if (!Number.isFinite(out.trajectories[i * per + q] as number)) ok = false;
  if (!ok) out.flags[i] = (out.flags[i] as number) | FLAG_NONFINITE;
}

export interface ContractOutcome {
  /** Points compared with float64 (the sample). */
  readonly checked: number;
  /** Points recomputed in float64. */
  readonly recomputed: number;
  /** Of those, sent by the a-priori test (non-finite or estimated beyond the tolerance). */
  readonly routed: number;
  /** Largest error of a sampled point. */
  readonly maxError: number;
  /** True when a sampled point failed and the whole chunk was recomputed. */
  readonly wholeChunk: boolean;
}

/**
 * Applies the contract to rows 0..count-1 of `out` (grid points start..): `bad` are the
 * points the a-priori test sends to float64; `extra` joins the sample (e.g. the stiffest
 * point). `full` is the float64 kernel with the job's outputs.
 */
export function enforceContract(
  out: ChunkResult,
  start: number,
  count: number,
  bad: ReadonlySet<number>,
  full: F64Kernel,
  tolerance: number,
  sampleFraction: number,
  extra?: number,
): ContractOutcome {
  const idx = sampleIndices(count, sampleFraction, extra).filter((i) => !bad.has(i));
  // samples that landed on routed points (recomputed anyway) are replaced by the first trusted
  // points not sampled yet, so that every chunk keeps MIN_SAMPLES float32 points checked
  const want = Math.min(count - bad.size, sampleIndices(count, sampleFraction).length);
  if (idx.length < want) {
    const taken = new Set(idx);
    for (let i = 0; i < count && taken.size < want; i++) if (!bad.has(i) && !taken.has(i)) taken.add(i);
    idx.splice(0, idx.length, ...[...taken].sort((a, b) => a - b));
  }
  const ref = chunkViews({ ...out.shape, count: Math.max(1, idx.length) });
  let worst = 0;
  idx.forEach((i, j) => {
    full.run(start + i, 1, ref, j);
    const e = pointError(out, i, ref, j);
    worst = Math.max(worst, e.rate, e.trajectory);
  });
  if (!(worst <= tolerance)) {
    // the estimate failed on a sampled point: all in float64, in one pass
    full.run(start, count, out);
    for (let i = 0; i < count; i++) {
      out.flags[i] = (out.flags[i] as number) | FLAG_RECOMPUTED_F64;
      markNonFinite(out, i);
    }
    return { checked: idx.length, recomputed: count, routed: bad.size, maxError: worst, wholeChunk: true };
  }
  for (const i of bad) {
    full.run(start + i, 1, out, i);
    out.flags[i] = (out.flags[i] as number) | FLAG_RECOMPUTED_F64;
    markNonFinite(out, i);
  }
  return { checked: idx.length, recomputed: bad.size, routed: bad.size, maxError: worst, wholeChunk: false };
}
