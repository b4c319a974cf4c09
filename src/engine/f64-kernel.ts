import { matvec } from '../math/dense.js';
import { ExpmWorkspace, expm } from '../math/expm.js';
import { ModeExtractor } from '../evaluate/mode-extractor.js';
import type { ThermalModel } from '../physics/thermalization.js';
import type { CompiledProblem } from './compiled-problem.js';
import { type CoefficientTables, TableCursor } from './coefficient-tables.js';
import { trajectoryKernel, type TrajectoryKernel } from './unrolled-propagator.js';
import { FLAG_MODES_FAILED, FLAG_NONFINITE, FLAG_OSCILLATING, FLAG_STIFF, type ChunkResult, type Want } from './chunk.js';

/** How a time grid is propagated: one reused step, or one exponential per interval. */
function uniformStep(times: Float64Array): number | undefined {
  if (times.length < 2 || times[0] !== 0) return undefined;
  const dt = (times[1] as number) - (times[0] as number);
  for (let k = 2; k < times.length; k++) {
    if (Math.abs((times[k] as number) - (times[k - 1] as number) - dt) > 1e-12 * Math.abs(dt) * k) return undefined;
  }
  return dt;
}

/**
 * Float64 evaluation of many grid points of one spec and thermal model. Every buffer is
 * allocated in the constructor; the per-point loop only reads tables and writes into the
 * caller's result views. This is the worker pool's kernel and the reference the float32
 * tensor path is checked against.
 */
export class F64Kernel {
  private readonly cp: CompiledProblem;
  private readonly tables: CoefficientTables;
  private readonly cursor: TableCursor;
  private readonly want: Want;
  private readonly thermal: ThermalModel;
  private readonly r: number;
  private readonly coef: Float64Array;
  private readonly g: Float64Array;
  private readonly prop: Float64Array;
  private readonly rho: Float64Array;
  private readonly rho2: Float64Array;
  private readonly rho0: Float64Array;
  private readonly pops: Float64Array;
  private readonly popsInit: Float64Array;
  private readonly energy: Float64Array;
  private readonly tmp: Float64Array;
  private readonly ews: ExpmWorkspace;
  private readonly modes: ModeExtractor;
  private readonly dt: number | undefined;
  private readonly sqrtD: number;
  private readonly tableData: Float64Array[];
  /** Non-zeros of all reduced term matrices: G[nzElem] += c[nzTerm] * nzVal. */
  private readonly nzTerm: Int32Array;
  private readonly nzElem: Int32Array;
  private readonly nzVal: Float64Array;
  private readonly unrolled: TrajectoryKernel;

  constructor(cp: CompiledProblem, tables: CoefficientTables, want: Want) {
    if (tables.nTerms !== cp.nTerms) throw new Error('coefficient tables and compiled problem disagree on the number of terms');
    this.cp = cp;
    this.tables = tables;
    this.thermal = tables.thermal;
    this.cursor = new TableCursor(tables);
    this.want = want;
    const r = cp.r;
    this.r = r;
    this.coef = new Float64Array(cp.nTerms);
    this.g = new Float64Array(r * r);
    this.prop = new Float64Array(r * r);
    this.rho = new Float64Array(r);
    this.rho2 = new Float64Array(r);
    this.rho0 = new Float64Array(r);
    this.pops = new Float64Array(cp.nStates);
    this.popsInit = new Float64Array(cp.nStates);
    this.energy = new Float64Array(cp.nStates);
    this.tmp = new Float64Array(r);
    this.ews = new ExpmWorkspace(r);
    this.modes = new ModeExtractor(r, cp.nObs);
    this.dt = uniformStep(cp.times);
    this.sqrtD = Math.sqrt(cp.dim);
    this.tableData = tables.tables.map((t) => t.data);
    const nzTerm: number[] = [];
    const nzElem: number[] = [];
    const nzVal: number[] = [];
    for (let k = 0; k < cp.nTerms; k++) {
      for (let e = 0; e < r * r; e++) {
        const v = cp.termMatrices[k * r * r + e] as number;
        if (v !== 0) {
          nzTerm.push(k);
          nzElem.push(e);
          nzVal.push(v);
        }
      }
    }
    this.nzTerm = Int32Array.from(nzTerm);
    this.nzElem = Int32Array.from(nzElem);
    this.nzVal = Float64Array.from(nzVal);
    this.unrolled = trajectoryKernel(r, cp.nObs);
  }

  /** Evaluate `count` points from per-model flat index `start`, writing point j into row offset + j of `out`. */
  run(start: number, count: number, out: ChunkResult, offset = 0): void {
    const cursor = this.cursor;
    cursor.seek(start, this.tables.grid.strides);
    for (let j = 0; j < count; j++) {
      if (j > 0) cursor.next();
      this.point(out, offset + j);
    }
  }

  /** Coefficients c_k of the current cursor position (exposed for the tensor backends). */
  coefficientsAt(flat: number, out: Float64Array): void {
    this.cursor.seek(flat, this.tables.grid.strides);
    this.fillCoefficients(out);
  }

  fillCoefficients(out: Float64Array): void {
    const idx = this.cursor.index;
    const tt = this.tables.termTables;
    const data = this.tableData;
    for (let k = 0; k < this.cp.nTerms; k++) {
      const a = tt[3 * k] as number;
      const b = tt[3 * k + 1] as number;
      const c = tt[3 * k + 2] as number;
      out[k] = ((data[a] as Float64Array)[idx[a] as number] as number) * ((data[b] as Float64Array)[idx[b] as number] as number) * ((data[c] as Float64Array)[idx[c] as number] as number);
    }
  }

  /** Populations exp(-s beta E_i)/Z at the cursor position. */
  private populations(s: 1 | -1, out: Float64Array): void {
    const cp = this.cp;
    const idx = this.cursor.index;
    const beta = (this.tableData[this.tables.betaTable] as Float64Array)[idx[this.tables.betaTable] as number] as number;
    const e = this.energy;
    e.fill(0);
    for (let m = 0; m < cp.nParts; m++) {
      const tid = this.tables.thetaTables[m] as number;
      const th = (this.tableData[tid] as Float64Array)[idx[tid] as number] as number;
      for (let i = 0; i < cp.nStates; i++) e[i] = (e[i] as number) + th * (cp.energies[m * cp.nStates + i] as number);
    }
    let ref = s > 0 ? Infinity : -Infinity;
    for (let i = 0; i < cp.nStates; i++) ref = s > 0 ? Math.min(ref, e[i] as number) : Math.max(ref, e[i] as number);
    let z = 0;
    for (let i = 0; i < cp.nStates; i++) {
      const w = Math.exp(-s * beta * ((e[i] as number) - ref));
      out[i] = w;
      z += w;
    }
    for (let i = 0; i < cp.nStates; i++) out[i] = (out[i] as number) / z;
  }

  /** Reduced state sum_i pops_i P_i. */
  private stateFromPopulations(pops: Float64Array, out: Float64Array): void {
    const { r, nStates, projectors } = this.cp;
    out.fill(0);
    for (let i = 0; i < nStates; i++) {
      const w = pops[i] as number;
      if (w === 0) continue;
      for (let a = 0; a < r; a++) out[a] = (out[a] as number) + w * (projectors[i * r + a] as number);
    }
  }

  private point(out: ChunkResult, row: number): void {
    const cp = this.cp;
    const { r, g, coef } = this;
    const nObs = cp.nObs;
    const { nModes, nTimes } = out.shape;
    let flags = 0;
    this.fillCoefficients(coef);

    // generator
    g.fill(0);
    const { nzTerm, nzElem, nzVal } = this;
    for (let z = 0; z < nzVal.length; z++) {
      const e = nzElem[z] as number;
      g[e] = (g[e] as number) + (coef[nzTerm[z] as number] as number) * (nzVal[z] as number);
    }

    // Boltzmann values (and the inhomogeneous source)
    this.populations(1, this.pops);
    for (let o = 0; o < nObs; o++) {
      let b = 0;
      for (let i = 0; i < cp.nStates; i++) b += (this.pops[i] as number) * (cp.boltzmannWeights[i * nObs + o] as number);
      out.boltzmann[row * nObs + o] = b;
    }
    if (this.thermal === 'inhomogeneous') {
      this.stateFromPopulations(this.pops, this.rho);
      matvec(g, this.rho, this.tmp, r);
      for (let i = 0; i < r; i++) g[i * r] = (g[i * r] as number) - this.sqrtD * (this.tmp[i] as number);
    }

    // projection rates
    if (this.want.rates) {
      for (let o = 0; o < nObs; o++) {
        let s = 0;
        for (let k = 0; k < cp.nTerms; k++) s += (coef[k] as number) * (cp.rateWeights[k * nObs + o] as number);
        out.rates[row * nObs + o] = -s;
      }
    }

    // initial state
    const rho0 = this.rho0;
    if (cp.initialFixed) rho0.set(cp.initialFixed);
    else {
      this.populations(cp.initialSign === -1 ? -1 : 1, this.popsInit);
      this.stateFromPopulations(this.popsInit, rho0);
    }

    if (this.want.trajectories && nTimes > 0) flags |= this.trajectory(out, row);

    if (this.want.modes) {
      const me = this.modes;
      const ok = me.extract(g, rho0, cp.observables);
      const eig = out.eigenrates;
      const amp = out.amplitudes;
      if (!ok) {
        flags |= FLAG_MODES_FAILED | FLAG_NONFINITE;
        for (let q = 0; q < nModes; q++) eig[row * nModes + q] = NaN;
        for (let q = 0; q < nObs * nModes; q++) amp[row * nObs * nModes + q] = NaN;
        for (let o = 0; o < nObs; o++) out.steady[row * nObs + o] = NaN;
      } else {
        const count = Math.min(me.modeCount, nModes);
        for (let q = 0; q < nModes; q++) eig[row * nModes + q] = q < count ? (me.rates[q] as number) : NaN;
        for (let o = 0; o < nObs; o++) {
          out.steady[row * nObs + o] = me.steady[o] as number;
          for (let q = 0; q < nModes; q++) amp[(row * nObs + o) * nModes + q] = q < count ? (me.amplitudes[q * nObs + o] as number) : NaN;
        }
        if (me.oscillating) flags |= FLAG_OSCILLATING;
        if (count > 0 && (me.rates[0] as number) < 1e-12 * me.norm) flags |= FLAG_STIFF;
      }
    }
    out.flags[row] = flags;
  }

  /** <O>(t) on the time grid; returns flag bits. */
  private trajectory(out: ChunkResult, row: number): number {
    const cp = this.cp;
    const { r, g, prop } = this;
    const nObs = cp.nObs;
    const times = cp.times;
    const nT = times.length;
    let rho = this.rho;
    let next = this.rho2;
    rho.set(this.rho0);
    const obs = cp.observables;
    const traj = out.trajectories;
    const base = row * nObs * nT;
    const trace0 = 1 / this.sqrtD;
    let flags = 0;
    if (this.dt !== undefined) {
      expm(g, this.dt, prop, this.ews);
      return this.unrolled(prop, this.rho0, obs, nT, traj, base) ? 0 : FLAG_NONFINITE;
    }
    let tPrev = 0;
    let stepPrev = NaN;
    for (let k = 0; k < nT; k++) {
      const t = times[k] as number;
      const dt = t - tPrev;
      if (dt !== 0) {
        // a uniform grid reuses one propagator; other grids reuse it for equal intervals
        if (this.dt === undefined && !(Math.abs(dt - stepPrev) <= 1e-12 * dt)) {
          expm(g, dt, prop, this.ews);
          stepPrev = dt;
        }
        matvec(prop, rho, next, r);
        const swap = rho;
        rho = next;
        next = swap;
      }
      for (let o = 0; o < nObs; o++) {
        let v = 0;
        for (let i = 0; i < r; i++) v += (obs[o * r + i] as number) * (rho[i] as number);
        traj[base + o * nT + k] = v;
      }
      tPrev = t;
    }
    const tr = rho[0] as number;
    if (!Number.isFinite(tr) || Math.abs(tr - trace0) > 1e-9 * trace0) flags |= FLAG_NONFINITE;
    return flags;
  }
}
