import { solveInPlace } from '../math/dense.js';
import { ExpmWorkspace, expm, expm1 } from '../math/expm.js';

/**
 * Propagators of d rho/dt = G rho in reduced coordinates where coordinate 0 is the identity
 * (constant: row 0 of G is zero). Write G = [[0, 0], [g, H]]. When H is invertible the
 * steady state x_ss = -H^-1 g rho_0 exists and the deviation y = x - x_ss obeys y' = H y:
 * exponentiating H alone keeps the stationary eigenvalue 1 out of the scaling-and-squaring,
 * where round-off would otherwise grow with every squaring (linearly in t: 5e-5 at
 * |G t| = 2e12 for a polarised electron at 1 K). States are carried as s = (rho_0, y) and
 * observables get the constant o . x_ss folded into their identity coefficient, so that
 * <O> = o' . s and the propagator is the block matrix diag(1, exp(H dt)).
 * Singular H (conserved quantities besides the trace) falls back to exp(G dt) itself.
 */
export class Propagator {
  readonly r: number;
  /** True when the last setGenerator found a unique steady state. */
  shifted = false;
  /** Steady state in reduced coordinates (valid when shifted). */
  readonly ss: Float64Array;
  private readonly g: Float64Array;
  private readonly h: Float64Array;
  private readonly lu: Float64Array;
  private readonly dh: Float64Array;
  private readonly ws: ExpmWorkspace;
  private readonly wsH: ExpmWorkspace | undefined;
  /** View of ss without the identity coordinate (the right-hand side of the solve). */
  private readonly ssTail: Float64Array;

  constructor(r: number) {
    this.r = r;
    this.ss = new Float64Array(r);
    this.g = new Float64Array(r * r);
    const m = Math.max(1, r - 1);
    this.h = new Float64Array(m * m);
    this.lu = new Float64Array(m * m);
    this.dh = new Float64Array(m * m);
    this.ws = new ExpmWorkspace(r);
    this.wsH = r > 1 ? new ExpmWorkspace(r - 1) : undefined;
    this.ssTail = this.ss.subarray(1);
  }

  /** Take a generator (row-major r x r) and the identity coordinate of the states (1/sqrt(d)). */
  setGenerator(g: Float64Array, identity: number): void {
    const r = this.r;
    for (let k = 0; k < r * r; k++) this.g[k] = g[k] as number;
    this.shifted = false;
    if (r < 2) return;
    const m = r - 1;
    let big = 0;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) {
        const v = g[(i + 1) * r + j + 1] as number;
        this.h[i * m + j] = v;
        this.lu[i * m + j] = v;
        big = Math.max(big, Math.abs(v));
      }
    }
    const x = this.ss;
    x[0] = identity;
    for (let i = 0; i < m; i++) x[i + 1] = -(g[(i + 1) * r] as number) * identity;
    const rhs = this.ssTail;
    if (!(big > 0) || !solveInPlace(this.lu, rhs, m, 1)) return;
    // a (numerically) singular H leaves tiny pivots: the steady state is then not unique
    for (let i = 0; i < m; i++) if (!(Math.abs(this.lu[i * m + i] as number) > 1e-13 * big)) return;
    for (let i = 0; i < m; i++) if (!Number.isFinite(rhs[i] as number)) return;
    this.shifted = true;
  }

  /** P (r x r) advancing the carried state s by dt. */
  step(dt: number, p: Float64Array): void {
    const r = this.r;
    if (!this.shifted || !this.wsH) {
      expm(this.g, dt, p, this.ws);
      return;
    }
    const m = r - 1;
    expm1(this.h, dt, this.dh, this.wsH);
    p.fill(0, 0, r * r);
    p[0] = 1;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < m; j++) p[(i + 1) * r + j + 1] = (this.dh[i * m + j] as number) + (i === j ? 1 : 0);
    }
  }

  /** Carried state of a reduced state rho. */
  toCarried(rho: Float64Array, out: Float64Array): void {
    if (!this.shifted) {
      for (let i = 0; i < this.r; i++) out[i] = rho[i] as number;
      return;
    }
    out[0] = rho[0] as number;
    for (let i = 1; i < this.r; i++) out[i] = (rho[i] as number) - (this.ss[i] as number);
  }

  /** Reduced state of a carried state. */
  fromCarried(s: Float64Array, out: Float64Array): void {
    if (!this.shifted) {
      for (let i = 0; i < this.r; i++) out[i] = s[i] as number;
      return;
    }
    out[0] = s[0] as number;
    for (let i = 1; i < this.r; i++) out[i] = (s[i] as number) + (this.ss[i] as number);
  }

  /** Observable rows for carried states: o'_0 = o_0 + (o_t . x_ss_t) / rho_0. */
  observables(obs: Float64Array, nObs: number, out: Float64Array): void {
    const r = this.r;
    for (let k = 0; k < nObs * r; k++) out[k] = obs[k] as number;
    if (!this.shifted) return;
    const id = this.ss[0] as number;
    for (let o = 0; o < nObs; o++) {
      let c = 0;
      for (let i = 1; i < r; i++) c += (obs[o * r + i] as number) * (this.ss[i] as number);
      out[o * r] = (out[o * r] as number) + c / id;
    }
  }
}
