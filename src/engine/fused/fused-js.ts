/**
 * The fused float32 kernel in JavaScript: the algorithm of fused-wgsl.ts, point by point,
 * with every operation rounded to float32 (Math.fround after each product and sum: a
 * correctly rounded float32 operation, since float64 carries more than twice float32's
 * digits). It is the CPU backends' float32 path and the executable specification the WGSL
 * kernel is tested against.
 *
 * Per point: grid indices from the flat index; the generator from the group tables
 * (G = sum_g a_g F_g) and its absolute counterpart |G|abs; projection rates; the
 * inhomogeneous source column; exp(G dt) - I by degree-9 Taylor with the point's own
 * squaring count (from the exponent bits of ||G dt||_1 / theta); trajectories by the time
 * blocking of time-plan.ts (uniform grid) or one exponential per interval; then the whole
 * trajectory once more from the perturbed generator, whose difference is the error
 * estimate (fused-constants.ts). Non-finite values are found from their bits and confined
 * to their point.
 */
import {
  F32_U,
  INV_FACT_F32,
  MAX_SQUARINGS,
  perturbSign,
  RATE_ULPS,
  SALT_G,
  SALT_RHO,
  STATUS_NONFINITE,
  THETA9,
  type FusedOutputViews,
} from './fused-constants.js';
import { perturbationSize } from './fused-pack.js';
import type { FusedProblem } from './fused-problem.js';

const f = Math.fround;
const INV_THETA = f(1 / THETA9);
const bitsF = new Float32Array(1);
const bitsU = new Uint32Array(bitsF.buffer);

/** Squarings for a scaled 1-norm x = ||A||_1 / theta: ceil(log2 x) from the float32 bits, or -1 for a non-finite x. */
export function squaringsOf(x: number): number {
  bitsF[0] = x;
  const bits = bitsU[0] as number;
  const e = (bits >>> 23) & 255;
  if (e === 255) return -1;
  if (!(x > 1)) return 0;
  const c = e - 127 + ((bits & 0x7fffff) !== 0 ? 1 : 0);
  return Math.min(c, MAX_SQUARINGS);
}

export class FusedJsKernel {
  private readonly fp: FusedProblem;
  private readonly r: number;
  private readonly idx: Int32Array;
  private readonly g: Float64Array;
  private readonly abs: Float64Array;
  private readonly gp: Float64Array;
  private readonly a: Float64Array;
  private readonly x2: Float64Array;
  private readonly x3: Float64Array;
  private readonly acc: Float64Array;
  private readonly tmp: Float64Array;
  private readonly d: Float64Array;
  private readonly rho0: Float64Array;
  private readonly rho0p: Float64Array;
  private readonly rho: Float64Array;
  private readonly rhoNext: Float64Array;
  private readonly states: Float64Array;
  private readonly left: Float64Array;
  private readonly leftNext: Float64Array;
  private readonly rateAbs: Float64Array;
  private readonly peak: Float64Array;
  private readonly diff: Float64Array;
  private readonly gamma: number;
  private nonfinite = false;

  constructor(fp: FusedProblem, options: { readonly gamma?: number } = {}) {
    this.fp = fp;
    const r = fp.r;
    this.r = r;
    this.gamma = options.gamma !== undefined ? Math.fround(options.gamma * F32_U * Math.sqrt(Math.max(1, fp.groups.length))) : perturbationSize(fp);
    this.idx = new Int32Array(fp.dimLengths.length);
    const mat = (): Float64Array => new Float64Array(r * r);
    this.g = mat();
    this.abs = mat();
    this.gp = mat();
    this.a = mat();
    this.x2 = mat();
    this.x3 = mat();
    this.acc = mat();
    this.tmp = mat();
    this.d = mat();
    this.rho0 = new Float64Array(r);
    this.rho0p = new Float64Array(r);
    this.rho = new Float64Array(r);
    this.rhoNext = new Float64Array(r);
    const m = fp.time.kind === 'uniform' ? fp.time.m : 1;
    this.states = new Float64Array(m * r);
    this.left = new Float64Array(fp.nObs * r);
    this.leftNext = new Float64Array(fp.nObs * r);
    this.rateAbs = new Float64Array(fp.nObs);
    this.peak = new Float64Array(fp.nObs);
    this.diff = new Float64Array(fp.nObs);
  }

  /** Points start..start+count-1 of the variant into rows offset.. of `out`. */
  run(start: number, count: number, out: FusedOutputViews, offset = 0): void {
    for (let j = 0; j < count; j++) this.point(start + j, out, offset + j);
  }

  private tableIndex(t: number): number {
    const ref = this.fp.tables[t];
    if (!ref) throw new Error(`fused table ${t} out of range`);
    let s = ref.offset;
    const idx = this.idx;
    for (let d = 0; d < idx.length; d++) s += (idx[d] as number) * (ref.strides[d] as number);
    return s;
  }

  private point(flat: number, out: FusedOutputViews, row: number): void {
    const fp = this.fp;
    const { r, g, abs } = this;
    const nObs = fp.nObs;
    const nT = fp.nTimes;
    const data = fp.data;
    const nnz = fp.pattern.length;
    this.nonfinite = false;
    for (let d = 0; d < this.idx.length; d++) this.idx[d] = Math.floor(flat / (fp.gridStrides[d] as number)) % (fp.dimLengths[d] as number);
    g.fill(0);
    abs.fill(0);
    const rates = out.rates;
    for (let o = 0; o < nObs; o++) {
      rates[row * nObs + o] = 0;
      this.rateAbs[o] = 0;
    }
    for (const grp of fp.groups) {
      const c = f(f((data[this.tableIndex(grp.factors[0])] as number) * (data[this.tableIndex(grp.factors[1])] as number)) * (data[this.tableIndex(grp.factors[2])] as number));
      const base = this.tableIndex(grp.matrix);
      for (let j = 0; j < nnz; j++) {
        const e = fp.pattern[j] as number;
        const v = f(c * (data[base + j] as number));
        g[e] = f((g[e] as number) + v);
        abs[e] = f((abs[e] as number) + Math.abs(v));
      }
      if (fp.wantRates && grp.rates >= 0) {
        const rb = this.tableIndex(grp.rates);
        for (let o = 0; o < nObs; o++) {
          const v = f(c * (data[rb + o] as number));
          rates[row * nObs + o] = f((rates[row * nObs + o] as number) + v);
          this.rateAbs[o] = f((this.rateAbs[o] as number) + Math.abs(v));
        }
      }
    }
    let estimate = 0;
    if (fp.wantRates) {
      for (let o = 0; o < nObs; o++) {
        const v = rates[row * nObs + o] as number;
        if (!Number.isFinite(v)) this.nonfinite = true;
        const a = this.rateAbs[o] as number;
        if (a > 0) estimate = Math.max(estimate, (RATE_ULPS * F32_U * a) / Math.abs(v));
      }
    }
    if (fp.equilibrium >= 0) this.inhomogeneousSource();
    if (fp.time.kind !== 'none' && nT > 0) {
      // initial state
      const rho0 = this.rho0;
      if (fp.initial.kind === 'fixed') for (let i = 0; i < r; i++) rho0[i] = fp.initial.values[i] as number;
      else {
        const base = this.tableIndex(fp.initial.table);
        for (let i = 0; i < r; i++) rho0[i] = data[base + i] as number;
      }
      const traj = out.trajectories;
      const tb = row * nObs * nT;
      this.trajectory(g, rho0, traj, tb, false);
      // the same from the perturbed generator and initial state: the error estimate
      const gam = this.gamma;
      const gp = this.gp;
      for (let e = 0; e < r * r; e++) gp[e] = f((g[e] as number) + perturbSign(e, flat, SALT_G) * f(gam * (abs[e] as number)));
      for (let i = 0; i < r; i++) this.rho0p[i] = f((rho0[i] as number) + perturbSign(i, flat, SALT_RHO) * f(gam * Math.abs(rho0[i] as number)));
      this.trajectory(gp, this.rho0p, traj, tb, true);
      for (let o = 0; o < nObs; o++) {
        const p = this.peak[o] as number;
        const dlt = this.diff[o] as number;
        const e = p > 0 ? dlt / p : dlt;
        estimate = Math.max(estimate, Number.isNaN(e) ? Infinity : e);
      }
    }
    out.estimate[row] = this.nonfinite ? Infinity : f(estimate);
    out.status[row] = this.nonfinite ? STATUS_NONFINITE : 0;
  }

  /** Inhomogeneous model: the generator acts on rho - rho_eq; column 0 gets the source -sqrt(d) G rho_eq. */
  private inhomogeneousSource(): void {
    const { r, g, abs, fp } = this;
    const base = this.tableIndex(fp.equilibrium);
    const sq = f(fp.sqrtD);
    const v = this.rho;
    const va = this.rhoNext;
    for (let i = 0; i < r; i++) {
      let s = 0;
      let sa = 0;
      for (let j = 0; j < r; j++) {
        const q = fp.data[base + j] as number;
        s = f(s + f((g[i * r + j] as number) * q));
        sa = f(sa + f((abs[i * r + j] as number) * Math.abs(q)));
      }
      v[i] = s;
      va[i] = sa;
    }
    for (let i = 0; i < r; i++) {
      g[i * r] = f((g[i * r] as number) - f(sq * (v[i] as number)));
      abs[i * r] = f((abs[i * r] as number) + f(sq * (va[i] as number)));
    }
  }

  /** c = a b (r x r, row-major), float32 sums in ascending k. */
  private mul(a: Float64Array, b: Float64Array, c: Float64Array): void {
    const r = this.r;
    for (let i = 0; i < r; i++) {
      for (let j = 0; j < r; j++) {
        let s = 0;
        for (let k = 0; k < r; k++) s = f(s + f((a[i * r + k] as number) * (b[k * r + j] as number)));
        c[i * r + j] = s;
      }
    }
  }

  /** d <- 2 d + d d (one squaring in the expm1 form). */
  private square(d: Float64Array): void {
    const t = this.tmp;
    this.mul(d, d, t);
    for (let e = 0; e < this.r * this.r; e++) d[e] = f(f(2 * (d[e] as number)) + (t[e] as number));
  }

  /** d = exp(G h) - I: Taylor degree 9 (Paterson-Stockmeyer) with the point's own squarings. */
  private expm1(gm: Float64Array, h: number, d: Float64Array): void {
    const r = this.r;
    const n = r * r;
    const { a, x2, x3, acc, tmp } = this;
    const hf = f(h);
    let norm = 0;
    for (let j = 0; j < r; j++) {
      let s = 0;
      for (let i = 0; i < r; i++) s = f(s + Math.abs(f((gm[i * r + j] as number) * hf)));
      norm = Math.max(norm, s);
    }
    let sq = squaringsOf(f(norm * INV_THETA));
    if (sq < 0) {
      this.nonfinite = true;
      sq = 0;
    }
    const scale = 2 ** -sq;
    for (let e = 0; e < n; e++) a[e] = f(f((gm[e] as number) * hf) * scale);
    this.mul(a, a, x2);
    this.mul(x2, a, x3);
    const c = INV_FACT_F32;
    this.block(2, tmp);
    for (let e = 0; e < n; e++) acc[e] = f(f((x3[e] as number) * (c[9] as number)) + (tmp[e] as number));
    this.mul(acc, x3, d);
    this.block(1, tmp);
    for (let e = 0; e < n; e++) acc[e] = f((d[e] as number) + (tmp[e] as number));
    this.mul(acc, x3, d);
    this.block(0, tmp);
    for (let e = 0; e < n; e++) d[e] = f((d[e] as number) + (tmp[e] as number));
    for (let s = 0; s < sq; s++) this.square(d);
  }

  /** Paterson-Stockmeyer block i: c_{3i+1} X + c_{3i+2} X^2 (+ c_{3i} I for i > 0). */
  private block(i: number, out: Float64Array): void {
    const { r, a, x2 } = this;
    const c1 = INV_FACT_F32[3 * i + 1] as number;
    const c2 = INV_FACT_F32[3 * i + 2] as number;
    const c0 = INV_FACT_F32[3 * i] as number;
    for (let e = 0; e < r * r; e++) {
      let v = f(f((a[e] as number) * c1) + f((x2[e] as number) * c2));
      if (i > 0 && e % (r + 1) === 0) v = f(v + c0);
      out[e] = v;
    }
  }

  /** rho_out = rho + d rho (one step in the expm1 form). */
  private step(d: Float64Array, rho: Float64Array, out: Float64Array, outOff = 0, rhoOff = 0): void {
    const r = this.r;
    for (let i = 0; i < r; i++) {
      let s = 0;
      for (let j = 0; j < r; j++) s = f(s + f((d[i * r + j] as number) * (rho[rhoOff + j] as number)));
      out[outOff + i] = f((rho[rhoOff + i] as number) + s);
    }
  }

  /**
   * <O>(t) from generator gm and initial state rho0 into traj[tb + o nT + t], or (compare)
   * the largest difference to what is there, per observable, into this.diff, and the
   * largest |<O>| there into this.peak.
   */
  private trajectory(gm: Float64Array, rho0: Float64Array, traj: Float32Array, tb: number, compare: boolean): void {
    const fp = this.fp;
    const { r, d } = this;
    const nObs = fp.nObs;
    const nT = fp.nTimes;
    const obs = fp.observables;
    if (compare) {
      this.diff.fill(0);
      this.peak.fill(0);
    }
    const time = fp.time;
    if (time.kind === 'uniform') {
      const { m, nq } = time;
      const states = this.states;
      for (let i = 0; i < r; i++) states[i] = rho0[i] as number;
      this.expm1(gm, time.dt, d);
      // S_{w+j} = S_j + D_w S_j (j < w), D_2w = 2 D_w + D_w D_w
      for (let w = 1; w < m; w *= 2) {
        for (let j = 0; j < w; j++) this.step(d, states, states, (w + j) * r, j * r);
        this.square(d);
      }
      // d is now D_m; L_{q+1} = L_q + L_q D_m
      const left = this.left;
      const next = this.leftNext;
      for (let q = 0; q < obs.length; q++) left[q] = obs[q] as number;
      for (let q = 0; q < nq; q++) {
        for (let j = 0; j < m; j++) {
          const t = q * m + j;
          if (t >= nT) break;
          for (let o = 0; o < nObs; o++) {
            let s = 0;
            for (let a = 0; a < r; a++) s = f(s + f((left[o * r + a] as number) * (states[j * r + a] as number)));
            this.emit(traj, tb + o * nT + t, o, s, compare);
          }
        }
        if (q + 1 < nq) {
          for (let o = 0; o < nObs; o++) {
            for (let a = 0; a < r; a++) {
              let s = 0;
              for (let b = 0; b < r; b++) s = f(s + f((left[o * r + b] as number) * (d[b * r + a] as number)));
              next[o * r + a] = f((left[o * r + a] as number) + s);
            }
          }
          left.set(next);
        }
      }
      return;
    }
    if (time.kind !== 'steps') return;
    let rho = this.rho;
    let nextRho = this.rhoNext;
    for (let i = 0; i < r; i++) rho[i] = rho0[i] as number;
    let cur = -1;
    for (let t = 0; t < nT; t++) {
      const u = time.stepOf[t] as number;
      if (u >= 0) {
        if (u !== cur) {
          this.expm1(gm, time.steps[u] as number, d);
          cur = u;
        }
        this.step(d, rho, nextRho);
        const sw = rho;
        rho = nextRho;
        nextRho = sw;
      }
      for (let o = 0; o < nObs; o++) {
        let s = 0;
        for (let a = 0; a < r; a++) s = f(s + f((obs[o * r + a] as number) * (rho[a] as number)));
        this.emit(traj, tb + o * nT + t, o, s, compare);
      }
    }
  }

  /** Writes <O>(t) (first pass) or records its difference to the first pass (second pass). */
  private emit(traj: Float32Array, at: number, o: number, v: number, compare: boolean): void {
    if (!compare) {
      traj[at] = v;
      if (!Number.isFinite(v)) this.nonfinite = true;
      return;
    }
    const ref = traj[at] as number;
    const dv = Math.abs(v - ref);
    const cur = this.diff[o] as number;
    // a NaN difference stays NaN (the estimate is then infinite)
    if (!(dv <= cur) && !Number.isNaN(cur)) this.diff[o] = dv;
    const a = Math.abs(ref);
    if (a > (this.peak[o] as number)) this.peak[o] = a;
  }
}
