/**
 * Numbers and layouts shared by the two implementations of the fused float32 kernel (WGSL in
 * fused-wgsl.ts, JavaScript in fused-js.ts), so that both compute the same thing.
 */

/** float32 unit roundoff. */
export const F32_U = 2 ** -24;
/** Largest ||A||_1 for which the degree-9 Taylor truncation error is below 2^-24 (batched-expm.ts). */
export const THETA9 = 0.8511994080990753;
/** Squarings never exceed this (||A||_1 up to 2^64 theta). */
export const MAX_SQUARINGS = 64;
/** 1/k!, k = 0..9, rounded to float32. */
export const INV_FACT_F32: readonly number[] = Array.from({ length: 10 }, (_, k) => {
  let f = 1;
  for (let j = 2; j <= k; j++) f *= j;
  return Math.fround(1 / f);
});

/**
 * The per-point error estimate runs the trajectory a second time with the generator moved
 * by +-ESTIMATE_GAMMA u sqrt(groups) |G|abs per element (|G|abs = the sum of the absolute
 * terms that formed it, so an entry that is a small difference of large terms moves by as
 * much as its float32 rounding can; sqrt(groups) for the roundings of a sum of that many
 * terms) and the initial state by the same relative amount per coordinate, signs
 * pseudo-random. The difference of the two trajectories is then of the size of the float32
 * error of the first (both carry their own rounding as well). See precision-contract.ts
 * for the calibration.
 */
export const ESTIMATE_GAMMA = 2;
/** A rate sum of n products carries about RATE_ULPS u of its absolute terms. */
export const RATE_ULPS = 4;

/** Status bits of a point in the kernel's output. */
export const STATUS_NONFINITE = 1;

/** Pseudo-random sign (+1 / -1) of element e of point `flat` (the same bits in WGSL). */
export function perturbSign(e: number, flat: number, salt: number): number {
  let h = (Math.imul(e + 1, 0x9e3779b1) + Math.imul(flat + salt, 0x85ebca77)) >>> 0;
  h ^= h >>> 15;
  h = Math.imul(h, 0x2c1b3c6d) >>> 0;
  h ^= h >>> 12;
  return h & 1 ? 1 : -1;
}

/** Salts of the two perturbed quantities (generator elements, initial-state coordinates). */
export const SALT_G = 0x51;
export const SALT_RHO = 0x3b7;

/**
 * One output buffer per device batch of P points, float32:
 *   rates [P][nObs] | trajectories [P][nObs][nT] | estimate [P] | status [P]
 * so that the host copies each region with one typed-array set.
 */
export interface FusedOutputViews {
  readonly count: number;
  readonly rates: Float32Array;
  readonly trajectories: Float32Array;
  /** Estimated float32 error: the largest over observables of rates (relative) and trajectories (relative to max_t |<O>|). */
  readonly estimate: Float32Array;
  readonly status: Float32Array;
}

export function fusedOutputLength(count: number, nObs: number, nTimes: number): number {
  return count * (nObs + nObs * nTimes + 2);
}

export function fusedOutputViews(buffer: Float32Array, count: number, nObs: number, nTimes: number): FusedOutputViews {
  if (buffer.length < fusedOutputLength(count, nObs, nTimes)) throw new Error('fused output buffer too small');
  let off = 0;
  const take = (n: number): Float32Array => {
    const v = buffer.subarray(off, off + n);
    off += n;
    return v;
  };
  return { count, rates: take(count * nObs), trajectories: take(count * nObs * nTimes), estimate: take(count), status: take(count) };
}
