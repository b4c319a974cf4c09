import { EigenWorkspace, realEigen, solveEigenvectorSystem } from '../math/real-eigen.js';

/**
 * Relaxation modes of d rho/dt = G rho (G small, dense, real) excited by rho0:
 * <O>(t) = <O>_ss + sum_k a_k exp(-lambda_k t). Allocation-free after construction, so the
 * same code serves one-point evaluation and the per-point loops of the batched kernels.
 *
 * - eigenvalues closer than mergeTol * |G|_1 are one (degenerate) mode, amplitudes summed
 *   (the split of a degenerate eigenspace is arbitrary, the sum is not);
 * - |lambda| <= zeroTol * |G|_1 is stationary: those amplitudes form the steady state;
 * - a mode whose excitation |c_k| is below excitationTol times the largest is not
 *   reachable from rho0 and is dropped.
 * Complex pairs (none for the detailed-balance generators relaxmap builds, bar round-off)
 * are reported by their decay rate with the real part of the amplitude, and flagged.
 */
export class ModeExtractor {
  readonly r: number;
  readonly nObs: number;
  zeroTol = 1e-10;
  mergeTol = 1e-9;
  excitationTol = 1e-9;

  private readonly ws: EigenWorkspace;
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  private readonly v: Float64Array;
  private readonly y: Float64Array;
  private readonly rawRe: Float64Array;
  private readonly rawIm: Float64Array;
  private readonly rawExc: Float64Array;
  private readonly rawAmp: Float64Array;
  private readonly order: Int32Array;
  private readonly grpRe: Float64Array;
  private readonly grpIm: Float64Array;
  private readonly grpExc2: Float64Array;
  private readonly grpAmp: Float64Array;

  /** Outputs of the last extract(). */
  readonly steady: Float64Array;
  /** Decay rates (ascending), count in `modeCount`. */
  readonly rates: Float64Array;
  /** Amplitudes [mode][obs]. */
  readonly amplitudes: Float64Array;
  modeCount = 0;
  oscillating = false;
  /** |G|_1 of the last matrix. */
  norm = 0;

  constructor(r: number, nObs: number) {
    this.r = r;
    this.nObs = nObs;
    this.ws = new EigenWorkspace(r);
    this.wr = new Float64Array(r);
    this.wi = new Float64Array(r);
    this.v = new Float64Array(r * r);
    this.y = new Float64Array(r);
    this.rawRe = new Float64Array(r);
    this.rawIm = new Float64Array(r);
    this.rawExc = new Float64Array(r);
    this.rawAmp = new Float64Array(r * nObs);
    this.order = new Int32Array(r);
    this.grpRe = new Float64Array(r);
    this.grpIm = new Float64Array(r);
    this.grpExc2 = new Float64Array(r);
    this.grpAmp = new Float64Array(r * nObs);
    this.steady = new Float64Array(nObs);
    this.rates = new Float64Array(r);
    this.amplitudes = new Float64Array(r * nObs);
  }

  /**
   * g: row-major r x r; rho0: r; obs: [nObs][r]. Returns false when the eigen-decomposition
   * fails (non-finite input or no convergence).
   */
  extract(g: Float64Array, rho0: Float64Array, obs: Float64Array): boolean {
    const { r, nObs, wr, wi, v, y } = this;
    let norm = 0;
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let i = 0; i < r; i++) s += Math.abs(g[i * r + j] as number);
      if (s > norm) norm = s;
    }
    this.norm = norm;
    this.modeCount = 0;
    this.oscillating = false;
    this.steady.fill(0);
    if (!Number.isFinite(norm)) return false;
    if (!realEigen(g, r, this.ws, wr, wi, v)) return false;
    if (!solveEigenvectorSystem(v, r, this.ws, rho0, y)) return false;

    // raw modes: eigenvalue, excitation, amplitude per observable
    const { rawRe, rawIm, rawExc, rawAmp } = this;
    for (let k = 0; k < r; k++) {
      const b = wi[k] as number;
      if (b === 0) {
        const yk = y[k] as number;
        rawRe[k] = wr[k] as number;
        rawIm[k] = 0;
        rawExc[k] = Math.abs(yk);
        for (let o = 0; o < nObs; o++) {
          let d = 0;
          for (let i = 0; i < r; i++) d += (obs[o * r + i] as number) * (v[i * r + k] as number);
          rawAmp[k * nObs + o] = yk * d;
        }
      } else if (b > 0) {
        this.oscillating = true;
        const y1 = y[k] as number;
        const y2 = y[k + 1] as number;
        const exc = 0.5 * Math.hypot(y1, y2);
        for (const kk of [k, k + 1]) {
          rawRe[kk] = wr[k] as number;
          rawIm[kk] = kk === k ? b : -b;
          rawExc[kk] = exc;
        }
        for (let o = 0; o < nObs; o++) {
          let dx = 0;
          let dz = 0;
          for (let i = 0; i < r; i++) {
            dx += (obs[o * r + i] as number) * (v[i * r + k] as number);
            dz += (obs[o * r + i] as number) * (v[i * r + k + 1] as number);
          }
          const a = 0.5 * (y1 * dx + y2 * dz);
          rawAmp[k * nObs + o] = a;
          rawAmp[(k + 1) * nObs + o] = a;
        }
        k++;
      }
    }

    // sort by real part, descending (stationary modes first, then ascending decay rate)
    const order = this.order;
    for (let k = 0; k < r; k++) order[k] = k;
    for (let i = 1; i < r; i++) {
      const x = order[i] as number;
      let j = i - 1;
      while (j >= 0 && (rawRe[order[j] as number] as number) < (rawRe[x] as number)) {
        order[j + 1] = order[j] as number;
        j--;
      }
      order[j + 1] = x;
    }

    // merge degenerate eigenvalues
    const { grpRe, grpIm, grpExc2, grpAmp } = this;
    const mergeTol = this.mergeTol * norm;
    let ng = 0;
    for (let s = 0; s < r; s++) {
      const k = order[s] as number;
      let g0 = -1;
      for (let q = ng - 1; q >= 0 && (grpRe[q] as number) - (rawRe[k] as number) <= mergeTol; q--) {
        if (Math.abs((grpIm[q] as number) - (rawIm[k] as number)) <= mergeTol) {
          g0 = q;
          break;
        }
      }
      if (g0 < 0) {
        g0 = ng++;
        grpRe[g0] = rawRe[k] as number;
        grpIm[g0] = rawIm[k] as number;
        grpExc2[g0] = 0;
        for (let o = 0; o < nObs; o++) grpAmp[g0 * nObs + o] = 0;
      }
      grpExc2[g0] = (grpExc2[g0] as number) + (rawExc[k] as number) ** 2;
      for (let o = 0; o < nObs; o++) grpAmp[g0 * nObs + o] = (grpAmp[g0 * nObs + o] as number) + (rawAmp[k * nObs + o] as number);
    }

    // stationary part and reachable decaying modes
    const zeroTol = this.zeroTol * norm;
    let maxExc2 = 0;
    for (let q = 0; q < ng; q++) {
      if (Math.hypot(grpRe[q] as number, grpIm[q] as number) <= zeroTol) {
        for (let o = 0; o < nObs; o++) this.steady[o] = (this.steady[o] as number) + (grpAmp[q * nObs + o] as number);
      } else if ((grpExc2[q] as number) > maxExc2) maxExc2 = grpExc2[q] as number;
    }
    const excMin2 = this.excitationTol * this.excitationTol * maxExc2;
    let m = 0;
    for (let q = 0; q < ng; q++) {
      if (Math.hypot(grpRe[q] as number, grpIm[q] as number) <= zeroTol) continue;
      if (!((grpExc2[q] as number) > excMin2)) continue;
      // a conjugate pair is one decay rate: keep the member with Im > 0, carrying both amplitudes
      if ((grpIm[q] as number) < 0) continue;
      this.rates[m] = -(grpRe[q] as number);
      const pair = (grpIm[q] as number) > 0 ? 2 : 1;
      for (let o = 0; o < nObs; o++) this.amplitudes[m * nObs + o] = pair * (grpAmp[q * nObs + o] as number);
      m++;
    }
    this.modeCount = m;
    return true;
  }
}
