/**
 * Steady state and build-up integrals of d rho/dt = G rho by a direct, refined solve, for
 * generators that are not normal (coherent terms: irradiation, static couplings). Those make
 * eigenvector bases ill-conditioned, and the steady state read from modes then loses digits;
 * a solve of the traceless block does not depend on the eigenvectors at all.
 *
 * In reduced coordinates with coordinate 0 the identity (constant), G = [[0, 0], [g, H]]: the
 * steady state is x_ss = (x0, y) with H y = -g x0, and the deviation from it decays as
 * y(t) = exp(H t) y(0), so the area under a deviation is integral_0^inf y dt = -H^-1 y(0).
 *
 * H is stiff (electron rates and nutation ~1e9 s^-1 against nuclear rates ~1e-2 s^-1), with a
 * norm condition number of 1e10 and more, but badly scaled rather than ill-posed: the solve
 * equilibrates rows and columns by powers of 2 (exact), factors once with partial pivoting,
 * and refines with residuals b - H y accumulated in double-double arithmetic (error-free
 * products and sums), so that the solution converges to full float64 accuracy whenever
 * cond * eps < 1. Allocation-free after construction: it runs in the per-point loop.
 */
export class SteadyStateSolver {
  readonly r: number;
  /** Iterations of refinement used by the last solve. */
  iterations = 0;
  private readonly m: number;
  private readonly h: Float64Array;
  private readonly lu: Float64Array;
  private readonly piv: Int32Array;
  private readonly rowScale: Float64Array;
  private readonly colScale: Float64Array;
  private readonly res: Float64Array;
  private readonly dz: Float64Array;
  private ok = false;

  constructor(r: number) {
    this.r = r;
    const m = Math.max(1, r - 1);
    this.m = m;
    this.h = new Float64Array(m * m);
    this.lu = new Float64Array(m * m);
    this.piv = new Int32Array(m);
    this.rowScale = new Float64Array(m);
    this.colScale = new Float64Array(m);
    this.res = new Float64Array(m);
    this.dz = new Float64Array(m);
  }

  /** Take the generator (row-major r x r); false when H is singular (no unique steady state). */
  factor(g: Float64Array): boolean {
    const { r, m, h, lu, piv, rowScale, colScale } = this;
    this.ok = false;
    if (r < 2) return false;
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) h[i * m + j] = g[(i + 1) * r + j + 1] as number;
    for (let i = 0; i < m; i++) {
      let big = 0;
      for (let j = 0; j < m; j++) big = Math.max(big, Math.abs(h[i * m + j] as number));
      if (!(big > 0) || !Number.isFinite(big)) return false;
      rowScale[i] = 2 ** -Math.round(Math.log2(big));
    }
    for (let j = 0; j < m; j++) {
      let big = 0;
      for (let i = 0; i < m; i++) big = Math.max(big, Math.abs((h[i * m + j] as number) * (rowScale[i] as number)));
      if (!(big > 0)) return false;
      colScale[j] = 2 ** -Math.round(Math.log2(big));
    }
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) lu[i * m + j] = (h[i * m + j] as number) * (rowScale[i] as number) * (colScale[j] as number);
    for (let k = 0; k < m; k++) {
      let p = k;
      let best = Math.abs(lu[k * m + k] as number);
      for (let i = k + 1; i < m; i++) {
        const v = Math.abs(lu[i * m + k] as number);
        if (v > best) {
          best = v;
          p = i;
        }
      }
      // equilibrated entries are O(1): a pivot this small means H is singular to working precision
      if (!(best > 1e-14)) return false;
      piv[k] = p;
      if (p !== k) {
        for (let j = 0; j < m; j++) {
          const t = lu[k * m + j] as number;
          lu[k * m + j] = lu[p * m + j] as number;
          lu[p * m + j] = t;
        }
      }
      const d = lu[k * m + k] as number;
      for (let i = k + 1; i < m; i++) {
        const f = (lu[i * m + k] as number) / d;
        lu[i * m + k] = f;
        if (f === 0) continue;
        for (let j = k + 1; j < m; j++) lu[i * m + j] = (lu[i * m + j] as number) - f * (lu[k * m + j] as number);
      }
    }
    this.ok = true;
    return true;
  }

  /** z = (R H C)^-1 v in place (v overwritten). */
  private luSolve(v: Float64Array): void {
    const { m, lu, piv } = this;
    // whole rows were swapped during the factorisation (P A = L U): permute first, then L
    for (let k = 0; k < m; k++) {
      const p = piv[k] as number;
      if (p !== k) {
        const t = v[k] as number;
        v[k] = v[p] as number;
        v[p] = t;
      }
    }
    for (let k = 0; k < m; k++) {
      const vk = v[k] as number;
      if (vk === 0) continue;
      for (let i = k + 1; i < m; i++) v[i] = (v[i] as number) - (lu[i * m + k] as number) * vk;
    }
    for (let k = m - 1; k >= 0; k--) {
      let s = v[k] as number;
      for (let j = k + 1; j < m; j++) s -= (lu[k * m + j] as number) * (v[j] as number);
      v[k] = s / (lu[k * m + k] as number);
    }
  }

  /**
   * y = H^-1 b (both of length r - 1), refined. Returns false without a factorisation or when
   * the result is not finite.
   */
  solve(b: Float64Array, y: Float64Array): boolean {
    if (!this.ok) return false;
    const { m, h, rowScale, colScale, res, dz } = this;
    for (let i = 0; i < m; i++) dz[i] = (b[i] as number) * (rowScale[i] as number);
    this.luSolve(dz);
    for (let j = 0; j < m; j++) y[j] = (dz[j] as number) * (colScale[j] as number);
    let last = Infinity;
    this.iterations = 0;
    for (let it = 0; it < 8; it++) {
      residual(h, m, b, y, res);
      for (let i = 0; i < m; i++) dz[i] = (res[i] as number) * (rowScale[i] as number);
      this.luSolve(dz);
      let corr = 0;
      let size = 0;
      for (let j = 0; j < m; j++) {
        const d = (dz[j] as number) * (colScale[j] as number);
        y[j] = (y[j] as number) + d;
        corr = Math.max(corr, Math.abs(d) / (colScale[j] as number));
        size = Math.max(size, Math.abs(y[j] as number) / (colScale[j] as number));
      }
      this.iterations = it + 1;
      // converged (corrections at round-off of the scaled solution) or stagnating
      if (!(corr > 2 ** -53 * size) || !(corr < 0.5 * last)) break;
      last = corr;
    }
    for (let j = 0; j < m; j++) if (!Number.isFinite(y[j] as number)) return false;
    return true;
  }
}

/** res = b - H y, each entry accumulated in double-double (Dekker products, Knuth sums). */
function residual(h: Float64Array, m: number, b: Float64Array, y: Float64Array, res: Float64Array): void {
  const SPLIT = 134217729; // 2^27 + 1
  for (let i = 0; i < m; i++) {
    let hi = b[i] as number;
    let lo = 0;
    for (let j = 0; j < m; j++) {
      const a = h[i * m + j] as number;
      if (a === 0) continue;
      const x = -(y[j] as number);
      // p + e = a x exactly
      const p = a * x;
      const ca = SPLIT * a;
      const ah = ca - (ca - a);
      const al = a - ah;
      const cx = SPLIT * x;
      const xh = cx - (cx - x);
      const xl = x - xh;
      const e = al * xl - (((p - ah * xh) - al * xh) - ah * xl);
      // hi + lo += p + e
      const s = hi + p;
      const bb = s - hi;
      const err = hi - (s - bb) + (p - bb);
      hi = s;
      lo += err + e;
    }
    res[i] = hi + lo;
  }
}

/**
 * Reduced steady state x_ss (x_ss[0] = x0) of a generator already factored by `solver`;
 * `work` holds r - 1 values. False when there is no unique steady state.
 */
export function refinedSteadyState(solver: SteadyStateSolver, g: Float64Array, x0: number, out: Float64Array, work: Float64Array): boolean {
  const r = solver.r;
  for (let i = 1; i < r; i++) work[i - 1] = -(g[i * r] as number) * x0;
  const tail = out.subarray(1, r);
  if (!solver.solve(work, tail)) return false;
  out[0] = x0;
  return true;
}

/**
 * Build-up rates k_O = (<O>(0) - <O>_ss) / integral_0^inf (<O>(t) - <O>_ss) dt for every
 * observable (obs: [nObs][r] reduced), from the initial state rho0 and the steady state ss
 * (both reduced). For <O>(t) = ss + sum_q a_q exp(-lambda_q t) this is
 * sum_q a_q / sum_q (a_q / lambda_q), the amplitude-weighted harmonic mean of the rates
 * (exactly the rate of a single exponential), real also with oscillating modes. NaN when O
 * starts at its steady value or the area vanishes. `work` holds 2 (r - 1) values.
 */
export function buildupRates(solver: SteadyStateSolver, rho0: Float64Array, ss: Float64Array, obs: Float64Array, nObs: number, out: Float64Array, outOffset: number, work: Float64Array): void {
  const r = solver.r;
  const m = r - 1;
  const y0 = work.subarray(0, m);
  const area = work.subarray(m, 2 * m);
  for (let i = 0; i < m; i++) y0[i] = (rho0[i + 1] as number) - (ss[i + 1] as number);
  const ok = solver.solve(y0, area);
  for (let o = 0; o < nObs; o++) {
    let num = 0;
    let den = 0;
    let scale = 0;
    for (let i = 0; i < m; i++) {
      const ov = obs[o * r + i + 1] as number;
      num += ov * (y0[i] as number);
      den -= ov * (area[i] as number);
      scale += Math.abs(ov * (y0[i] as number));
    }
    out[outOffset + o] = ok && den !== 0 && Math.abs(num) > 1e-13 * scale ? num / den : NaN;
  }
}
