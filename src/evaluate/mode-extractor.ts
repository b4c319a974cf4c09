import { EigenWorkspace, realEigen, solveEigenvectorSystem } from '../math/real-eigen.js';
import { modulus } from '../math/modulus.js';

/**
 * The stable descending order of re[0..n) into `order` when re is non-decreasing (the
 * symmetric solver returns its eigenvalues ascending): runs of equal values from the last to
 * the first, each in index order, which is exactly the insertion sort's result. Why: on
 * ascending input the insertion sort does all n(n-1)/2 moves (6 of an e+3H point's ~60 us).
 * False (order untouched) otherwise, NaN included.
 */
export function descendingOfAscending(re: Float64Array, n: number, order: Int32Array): boolean {
  for (let k = 1; k < n; k++) if (!((re[k] as number) >= (re[k - 1] as number))) return false;
  if (n > 0 && Number.isNaN(re[0] as number)) return false;
  let s = 0;
  let end = n;
  while (end > 0) {
    const x = re[end - 1] as number;
    let start = end - 1;
    while (start > 0 && (re[start - 1] as number) === x) start--;
    for (let i = start; i < end; i++) order[s++] = i;
    end = start;
  }
  return true;
}

/**
 * Relaxation modes of d rho/dt = G rho (G small, dense, real) excited by rho0:
 * <O>(t) = <O>_ss + sum_k a_k exp(-lambda_k t). Allocation-free after construction, so the
 * same code serves one-point evaluation and the per-point loops of the batched kernels.
 *
 * `extract` decomposes a general G (Hessenberg + Francis QR); the symmetric route of the
 * detailed-balance models (engine/symmetric-modes.ts) fills the raw modes itself and calls
 * `finish`, so both routes report modes by the same rules. With rho(G) the spectral radius
 * (max |eigenvalue|, the same for G and any similar matrix, so the routes agree):
 * - eigenvalues closer than mergeTol * rho(G) are one (degenerate) mode, amplitudes summed
 *   (the split of a degenerate eigenspace is arbitrary, the sum is not);
 * - |lambda| <= zeroTol * rho(G) is stationary: those amplitudes form the steady state;
 * - a mode is reported when its excitation (the coefficient of the initial deviation from
 *   the steady state along the unit eigenvector) exceeds excitationTol = 1e-10 times the norm
 *   of that deviation (the root sum of squares of all excitations), and excitationFloor =
 *   1e-12 times the norm of the initial state (an initial state that is the steady state
 *   excites nothing). Symmetry-forbidden modes sit at round-off, up to ~1e-12 of the
 *   deviation; physical excitations of the test systems start near 1e-9 (docs/physics.md).
 * Complex pairs (none for the detailed-balance generators, bar round-off) are reported by
 * their decay rate with the real part of the amplitude, and flagged; the trajectory modes
 * keep their frequency and complex amplitude.
 */
export class ModeExtractor {
  readonly r: number;
  readonly nObs: number;
  zeroTol = 1e-10;
  mergeTol = 1e-9;
  excitationTol = 1e-10;
  excitationFloor = 1e-12;

  private readonly ws: EigenWorkspace;
  private readonly wr: Float64Array;
  private readonly wi: Float64Array;
  private readonly v: Float64Array;
  private readonly y: Float64Array;
  /** Raw modes (one per eigenvalue): filled by extract, or by a caller before finish(). */
  readonly rawRe: Float64Array;
  readonly rawIm: Float64Array;
  readonly rawExc: Float64Array;
  /** Complex amplitude per observable of each raw mode [mode][obs]: <O>(t) gets rawAmp exp(lambda t). */
  readonly rawAmp: Float64Array;
  readonly rawAmpIm: Float64Array;
  private readonly order: Int32Array;
  private readonly grpRe: Float64Array;
  private readonly grpIm: Float64Array;
  private readonly grpExc2: Float64Array;
  private readonly grpAmp: Float64Array;
  private readonly grpAmpIm: Float64Array;

  /** Outputs of the last extract(). */
  readonly steady: Float64Array;
  /** Decay rates (ascending), count in `modeCount`. */
  readonly rates: Float64Array;
  /** Amplitudes [mode][obs]. */
  readonly amplitudes: Float64Array;
  modeCount = 0;
  oscillating = false;
  /** Spectral radius of the last matrix (max |eigenvalue|). */
  norm = 0;
  /**
   * Every non-stationary mode for trajectories (also those below the reporting threshold):
   * <O>(t) = ss + sum_k exp(-trajRate_k t) (re_k cos(w_k t) - im_k sin(w_k t)).
   */
  trajCount = 0;
  readonly trajRate: Float64Array;
  readonly trajFreq: Float64Array;
  readonly trajAmpRe: Float64Array;
  readonly trajAmpIm: Float64Array;
  /** Sum over modes of |coefficient| in the last decomposition, relative to |rho0| (growth of an ill-conditioned eigenbasis). */
  growth = 0;

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
    this.rawAmpIm = new Float64Array(r * nObs);
    this.order = new Int32Array(r);
    this.grpRe = new Float64Array(r);
    this.grpIm = new Float64Array(r);
    this.grpExc2 = new Float64Array(r);
    this.grpAmp = new Float64Array(r * nObs);
    this.grpAmpIm = new Float64Array(r * nObs);
    this.steady = new Float64Array(nObs);
    this.rates = new Float64Array(r);
    this.amplitudes = new Float64Array(r * nObs);
    this.trajRate = new Float64Array(r);
    this.trajFreq = new Float64Array(r);
    this.trajAmpRe = new Float64Array(r * nObs);
    this.trajAmpIm = new Float64Array(r * nObs);
  }

  /**
   * g: row-major r x r; rho0: r; obs: [nObs][r]. Returns false when the eigen-decomposition
   * fails (non-finite input or no convergence).
   */
  extract(g: Float64Array, rho0: Float64Array, obs: Float64Array): boolean {
    const { r, nObs, wr, wi, v, y } = this;
    this.modeCount = 0;
    this.trajCount = 0;
    this.oscillating = false;
    this.steady.fill(0);
    for (let k = 0; k < r * r; k++) {
      if (!Number.isFinite(g[k] as number)) {
        this.norm = NaN;
        return false;
      }
    }
    if (!realEigen(g, r, this.ws, wr, wi, v)) return false;
    if (!solveEigenvectorSystem(v, r, this.ws, rho0, y)) return false;

    // raw modes: eigenvalue, excitation, complex amplitude per observable
    const { rawRe, rawIm, rawExc, rawAmp, rawAmpIm } = this;
    let sumY = 0;
    let rho2 = 0;
    for (let k = 0; k < r; k++) rho2 += (rho0[k] as number) ** 2;
    for (let k = 0; k < r; k++) {
      const b = wi[k] as number;
      if (b === 0) {
        const yk = y[k] as number;
        sumY += Math.abs(yk);
        rawRe[k] = wr[k] as number;
        rawIm[k] = 0;
        rawExc[k] = Math.abs(yk);
        for (let o = 0; o < nObs; o++) {
          let d = 0;
          for (let i = 0; i < r; i++) d += (obs[o * r + i] as number) * (v[i * r + k] as number);
          rawAmp[k * nObs + o] = yk * d;
          rawAmpIm[k * nObs + o] = 0;
        }
      } else if (b > 0) {
        this.oscillating = true;
        // columns k, k+1 hold Re x, Im x of the eigenvector x of wr + i wi; rho0's part along
        // the pair is c x + conj(c x) with c = (y_k - i y_k+1) / 2
        const y1 = y[k] as number;
        const y2 = y[k + 1] as number;
        sumY += modulus(y1, y2);
        const exc = 0.5 * modulus(y1, y2);
        rawRe[k] = wr[k] as number;
        rawRe[k + 1] = wr[k] as number;
        rawIm[k] = b;
        rawIm[k + 1] = -b;
        rawExc[k] = exc;
        rawExc[k + 1] = exc;
        for (let o = 0; o < nObs; o++) {
          let dx = 0;
          let dz = 0;
          for (let i = 0; i < r; i++) {
            dx += (obs[o * r + i] as number) * (v[i * r + k] as number);
            dz += (obs[o * r + i] as number) * (v[i * r + k + 1] as number);
          }
          const ar = 0.5 * (y1 * dx + y2 * dz);
          const ai = 0.5 * (y1 * dz - y2 * dx);
          rawAmp[k * nObs + o] = ar;
          rawAmpIm[k * nObs + o] = ai;
          rawAmp[(k + 1) * nObs + o] = ar;
          rawAmpIm[(k + 1) * nObs + o] = -ai;
        }
        k++;
      }
    }
    this.growth = rho2 > 0 ? sumY / Math.sqrt(rho2) : 0;
    this.finish(r, Math.sqrt(rho2));
    return true;
  }

  /**
   * Raw real modes of one symmetric eigen-decomposition of n x n (symmetric-eigen.ts): its
   * eigenvalues `lambda`, and `probes` whose rows 0..nObs-1 hold U^T of the (weighted)
   * observables and row nObs U^T of the (weighted) initial deviation. Written from raw index
   * `at`; returns the index after the last.
   */
  addSymmetricModes(lambda: Float64Array, probes: Float64Array, n: number, at: number): number {
    const { nObs, rawRe, rawIm, rawExc, rawAmp, rawAmpIm } = this;
    let k = at;
    for (let q = 0; q < n; q++, k++) {
      const c = probes[nObs * n + q] as number;
      rawRe[k] = lambda[q] as number;
      rawIm[k] = 0;
      rawExc[k] = Math.abs(c);
      for (let o = 0; o < nObs; o++) {
        rawAmp[k * nObs + o] = (probes[o * n + q] as number) * c;
        rawAmpIm[k * nObs + o] = 0;
      }
    }
    return k;
  }

  /**
   * Group, classify and report the first n raw modes (see the class comment); stateNorm is the
   * norm of the initial state in the metric of the excitations.
   */
  finish(n: number, stateNorm: number): void {
    const { nObs, rawRe, rawIm, rawExc, rawAmp, rawAmpIm } = this;
    this.modeCount = 0;
    this.trajCount = 0;
    this.steady.fill(0);
    let norm = 0;
    for (let k = 0; k < n; k++) norm = Math.max(norm, modulus(rawRe[k] as number, rawIm[k] as number));
    this.norm = norm;

    // sort by real part, descending (stationary modes first, then ascending decay rate)
    const order = this.order;
    if (!descendingOfAscending(rawRe, n, order)) {
      for (let k = 0; k < n; k++) order[k] = k;
      for (let i = 1; i < n; i++) {
        const x = order[i] as number;
        let j = i - 1;
        while (j >= 0 && (rawRe[order[j] as number] as number) < (rawRe[x] as number)) {
          order[j + 1] = order[j] as number;
          j--;
        }
        order[j + 1] = x;
      }
    }

    // merge degenerate eigenvalues
    const { grpRe, grpIm, grpExc2, grpAmp, grpAmpIm } = this;
    const mergeTol = this.mergeTol * norm;
    let ng = 0;
    for (let s = 0; s < n; s++) {
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
        for (let o = 0; o < nObs; o++) {
          grpAmp[g0 * nObs + o] = 0;
          grpAmpIm[g0 * nObs + o] = 0;
        }
      }
      grpExc2[g0] = (grpExc2[g0] as number) + (rawExc[k] as number) ** 2;
      for (let o = 0; o < nObs; o++) {
        grpAmp[g0 * nObs + o] = (grpAmp[g0 * nObs + o] as number) + (rawAmp[k * nObs + o] as number);
        grpAmpIm[g0 * nObs + o] = (grpAmpIm[g0 * nObs + o] as number) + (rawAmpIm[k * nObs + o] as number);
      }
    }

    // stationary part; the initial deviation from it is the root sum of squares of the rest
    const zeroTol = this.zeroTol * norm;
    let dev2 = 0;
    for (let q = 0; q < ng; q++) {
      if (modulus(grpRe[q] as number, grpIm[q] as number) <= zeroTol) {
        for (let o = 0; o < nObs; o++) this.steady[o] = (this.steady[o] as number) + (grpAmp[q * nObs + o] as number);
      } else dev2 += grpExc2[q] as number;
    }
    const floor = this.excitationFloor * stateNorm;
    const excMin2 = Math.max(this.excitationTol * this.excitationTol * dev2, floor * floor);

    let m = 0;
    let t = 0;
    for (let q = 0; q < ng; q++) {
      if (modulus(grpRe[q] as number, grpIm[q] as number) <= zeroTol) continue;
      // a conjugate pair is one decay rate: keep the member with Im > 0, carrying both amplitudes
      if ((grpIm[q] as number) < 0) continue;
      const pair = (grpIm[q] as number) > 0 ? 2 : 1;
      this.trajRate[t] = -(grpRe[q] as number);
      this.trajFreq[t] = grpIm[q] as number;
      for (let o = 0; o < nObs; o++) {
        this.trajAmpRe[t * nObs + o] = pair * (grpAmp[q * nObs + o] as number);
        this.trajAmpIm[t * nObs + o] = pair * (grpAmpIm[q * nObs + o] as number);
      }
      t++;
      if (!((grpExc2[q] as number) > excMin2)) continue;
      this.rates[m] = -(grpRe[q] as number);
      for (let o = 0; o < nObs; o++) this.amplitudes[m * nObs + o] = pair * (grpAmp[q * nObs + o] as number);
      m++;
    }
    this.modeCount = m;
    this.trajCount = t;
  }

  /**
   * Whether the decomposition reproduces <O>(0) (`initial[o]` = o . rho0) for every observable:
   * ss + sum_k Re(a_k) to 1e-10 of the larger of sum_i |o_i rho0_i| and |ss| + sum_k |a_k|,
   * with coefficients no larger than 1e6 |rho0| (an ill-conditioned eigenbasis cancels).
   * This is the test that trajectories may be evaluated from the modes. A zero <O>(0) (a
   * traceless observable of a saturated state) is no reason to fail: the scale is that of the
   * terms that must cancel.
   */
  reproduces(initial: Float64Array, scale: Float64Array): boolean {
    if (!(this.growth <= 1e6)) return false;
    const nObs = this.nObs;
    for (let o = 0; o < nObs; o++) {
      let sum = this.steady[o] as number;
      let mag = Math.abs(sum);
      for (let q = 0; q < this.trajCount; q++) {
        const a = this.trajAmpRe[q * nObs + o] as number;
        sum += a;
        mag += Math.abs(a);
      }
      const s = Math.max(scale[o] as number, mag);
      if (!(Math.abs(sum - (initial[o] as number)) <= 1e-10 * s)) return false;
    }
    return true;
  }
}
