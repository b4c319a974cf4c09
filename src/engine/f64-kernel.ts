import { matvec } from '../math/dense.js';
import { ModeExtractor } from '../evaluate/mode-extractor.js';
import { Propagator } from '../evaluate/propagator.js';
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
  private readonly tmp: Float64Array;
  private readonly modes: ModeExtractor;
  private readonly dt: number | undefined;
  private readonly sqrtD: number;
  private readonly tableData: Float64Array[];
  /** Non-zeros of all reduced term matrices: G[nzElem] += c[nzTerm] * nzVal. */
  private readonly nzTerm: Int32Array;
  private readonly nzElem: Int32Array;
  private readonly nzVal: Float64Array;
  private readonly unrolled: TrajectoryKernel;
  private readonly unrolledBlock: TrajectoryKernel;
  private readonly propagator: Propagator;
  private readonly obsCarried: Float64Array;

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
    this.tmp = new Float64Array(r);
    this.modes = new ModeExtractor(r, cp.nObs);
    this.dt = uniformStep(cp.times);
    this.sqrtD = Math.sqrt(cp.dim);
    this.tableData = tables.tables.map((t) => t.data);
    this.unitTable = tables.tables.map((t) => t.data.every((v) => v === 1));
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
    this.unrolledBlock = trajectoryKernel(r, cp.nObs, true);
    this.propagator = new Propagator(r);
    this.obsCarried = new Float64Array(cp.nObs * r);
  }

  /** Evaluate `count` points from per-model flat index `start`, writing point j into row offset + j of `out`. */
  run(start: number, count: number, out: ChunkResult, offset = 0): void {
    if (!this.want.modes && !(this.want.trajectories && out.shape.nTimes > 0)) {
      this.runRatesOnly(start, count, out, offset);
      return;
    }
    const cursor = this.cursor;
    cursor.seek(start, this.tables.grid.strides);
    for (let j = 0; j < count; j++) {
      if (j > 0) cursor.next();
      this.point(out, offset + j);
    }
  }

  /** Tables whose every entry is 1 (skipped in products). */
  private readonly unitTable: boolean[];
  private scratchSize = 0;
  private dimIdx: Int32Array[] = [];
  private tabIdx: Int32Array[] = [];
  private coefCols: Float64Array[] = [];

  /**
   * Projection rates and Boltzmann values only, structure-of-arrays over the chunk: first
   * every table's index for every point, then one tight loop per term and per output.
   * Short monomorphic loops are what the JIT makes fast; this path needs no generator.
   */
  private runRatesOnly(start: number, count: number, out: ChunkResult, offset: number): void {
    const grid = this.tables.grid;
    const nDims = grid.dims.length;
    const tables = this.tables.tables;
    if (count > this.scratchSize) {
      this.scratchSize = count;
      this.dimIdx = Array.from({ length: nDims }, () => new Int32Array(count));
      this.tabIdx = tables.map(() => new Int32Array(count));
      this.coefCols = Array.from({ length: this.cp.nTerms }, () => new Float64Array(count));
    }
    // dimension indices by an odometer
    const lengths = grid.dims.map((d) => d.length);
    const cur = Int32Array.from(grid.dims, (_, k) => Math.floor(start / (grid.strides[k] as number)) % (lengths[k] as number));
    for (let p = 0; p < count; p++) {
      for (let k = 0; k < nDims; k++) (this.dimIdx[k] as Int32Array)[p] = cur[k] as number;
      for (let k = nDims - 1; k >= 0; k--) {
        const v = (cur[k] as number) + 1;
        if (v < (lengths[k] as number)) {
          cur[k] = v;
          break;
        }
        cur[k] = 0;
      }
    }
    const cp = this.cp;
    const nObs = cp.nObs;
    const tt = this.tables.termTables;
    // only the terms that move a projection rate, and only tables that are not all ones
    // (the dc factor of rodin-abergel, for instance)
    const used = new Set<number>([this.tables.populationTables.thermal]);
    const terms: number[] = [];
    for (let k = 0; k < cp.nTerms; k++) {
      let any = false;
      for (let o = 0; o < nObs; o++) if ((cp.rateWeights[k * nObs + o] as number) !== 0) any = true;
      if (!any || !this.want.rates) continue;
      terms.push(k);
      for (let j = 0; j < 3; j++) if (!this.unitTable[tt[3 * k + j] as number]) used.add(tt[3 * k + j] as number);
    }
    for (const ti of used) {
      const t = tables[ti];
      if (!t) continue;
      const idx = this.tabIdx[ti] as Int32Array;
      idx.fill(0, 0, count);
      for (const k of t.dims) {
        const s = t.strides[k] as number;
        const di = this.dimIdx[k] as Int32Array;
        for (let p = 0; p < count; p++) idx[p] = (idx[p] as number) + (di[p] as number) * s;
      }
    }
    for (const k of terms) {
      const c = this.coefCols[k] as Float64Array;
      c.fill(1, 0, count);
      for (let j = 0; j < 3; j++) {
        const ti = tt[3 * k + j] as number;
        if (this.unitTable[ti]) continue;
        const ix = this.tabIdx[ti] as Int32Array;
        const d = this.tableData[ti] as Float64Array;
        for (let p = 0; p < count; p++) c[p] = (c[p] as number) * (d[ix[p] as number] as number);
      }
    }
    for (let o = 0; o < nObs; o++) {
      const rates = out.rates;
      for (let p = 0; p < count; p++) rates[(offset + p) * nObs + o] = 0;
      if (this.want.rates) {
        for (const k of terms) {
          const w = -(cp.rateWeights[k * nObs + o] as number);
          if (w === 0) continue;
          const c = this.coefCols[k] as Float64Array;
          for (let p = 0; p < count; p++) {
            const j = (offset + p) * nObs + o;
            rates[j] = (rates[j] as number) + w * (c[p] as number);
          }
        }
      }
      const pid = this.tables.populationTables.thermal;
      const pidx = this.tabIdx[pid] as Int32Array;
      const pops = this.tableData[pid] as Float64Array;
      const boltz = out.boltzmann;
      for (let p = 0; p < count; p++) {
        const base = pidx[p] as number;
        let b = 0;
        for (let i = 0; i < cp.nStates; i++) b += (pops[base + i] as number) * (cp.boltzmannWeights[i * nObs + o] as number);
        boltz[(offset + p) * nObs + o] = b;
      }
    }
    out.flags.fill(0, offset, offset + count);
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

  /**
   * Coefficient rows of `count` points from per-model flat index `start`, row-major
   * [count][nTerms] into `out` (a Float32Array rounds each float64 product once, on store).
   * The tensor backends upload these and form G = C x termMatrices in one product; the dc
   * and thermal parts stay separate columns, so float32 never sees f(w) - f(-w).
   */
  coefficientRows(start: number, count: number, out: Float64Array | Float32Array): void {
    const nK = this.cp.nTerms;
    if (out.length < count * nK) throw new Error(`coefficientRows: output holds ${out.length} values, ${count * nK} needed`);
    const coef = this.coef;
    this.cursor.seek(start, this.tables.grid.strides);
    for (let j = 0; j < count; j++) {
      if (j > 0) this.cursor.next();
      this.fillCoefficients(coef);
      for (let k = 0; k < nK; k++) out[j * nK + k] = coef[k] as number;
    }
  }

  /** Reduced initial states of `count` points, row-major [count][r] (fixed, thermal or inverted Boltzmann). */
  initialStates(start: number, count: number, out: Float64Array | Float32Array): void {
    const { r, cp, rho0 } = this;
    if (out.length < count * r) throw new Error(`initialStates: output holds ${out.length} values, ${count * r} needed`);
    if (cp.initialFixed) {
      for (let j = 0; j < count; j++) for (let a = 0; a < r; a++) out[j * r + a] = cp.initialFixed[a] as number;
      return;
    }
    this.cursor.seek(start, this.tables.grid.strides);
    for (let j = 0; j < count; j++) {
      if (j > 0) this.cursor.next();
      this.populations(cp.initialSign === -1 ? -1 : 1, this.popsInit);
      this.stateFromPopulations(this.popsInit, rho0);
      for (let a = 0; a < r; a++) out[j * r + a] = rho0[a] as number;
    }
  }

  /**
   * Reduced Boltzmann states exp(-beta H0)/Z of `count` points, row-major [count][r]: what
   * the inhomogeneous model relaxes towards (its generator acts on rho - rho_eq, which a
   * batched backend adds as the source column -sqrt(d) G rho_eq, as `point` does).
   */
  equilibriumStates(start: number, count: number, out: Float64Array | Float32Array): void {
    const { r, rho } = this;
    if (out.length < count * r) throw new Error(`equilibriumStates: output holds ${out.length} values, ${count * r} needed`);
    this.cursor.seek(start, this.tables.grid.strides);
    for (let j = 0; j < count; j++) {
      if (j > 0) this.cursor.next();
      this.populations(1, this.pops);
      this.stateFromPopulations(this.pops, rho);
      for (let a = 0; a < r; a++) out[j * r + a] = rho[a] as number;
    }
  }

  /** sqrt(d): the inhomogeneous source column is -sqrt(d) G rho_eq (the identity coordinate is E/sqrt(d)). */
  get identityScale(): number {
    return this.sqrtD;
  }

  /** Populations exp(-s beta E_i)/Z at the cursor position (tabulated per (T, B0, ...)). */
  private populations(s: 1 | -1, out: Float64Array): void {
    const tid = s > 0 ? this.tables.populationTables.thermal : this.tables.populationTables.inverted;
    if (tid === undefined) throw new Error('inverted populations were not tabulated for this kernel');
    const base = this.cursor.index[tid] as number;
    const data = this.tableData[tid] as Float64Array;
    for (let i = 0; i < this.cp.nStates; i++) out[i] = data[base + i] as number;
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

    // generator (not needed for projection rates alone, the rates-only sweeps)
    const dynamics = this.want.modes || (this.want.trajectories && nTimes > 0);
    if (dynamics) {
      g.fill(0);
      const { nzTerm, nzElem, nzVal } = this;
      for (let z = 0; z < nzVal.length; z++) {
        const e = nzElem[z] as number;
        g[e] = (g[e] as number) + (coef[nzTerm[z] as number] as number) * (nzVal[z] as number);
      }
    }

    // Boltzmann values (and the inhomogeneous source)
    this.populations(1, this.pops);
    for (let o = 0; o < nObs; o++) {
      let b = 0;
      for (let i = 0; i < cp.nStates; i++) b += (this.pops[i] as number) * (cp.boltzmannWeights[i * nObs + o] as number);
      out.boltzmann[row * nObs + o] = b;
    }
    if (dynamics && this.thermal === 'inhomogeneous') {
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

    if (!dynamics) {
      out.flags[row] = flags;
      return;
    }

    // initial state
    const rho0 = this.rho0;
    if (cp.initialFixed) rho0.set(cp.initialFixed);
    else {
      this.populations(cp.initialSign === -1 ? -1 : 1, this.popsInit);
      this.stateFromPopulations(this.popsInit, rho0);
    }

    // modes first: a non-uniform time grid is evaluated from them when they are well
    // conditioned (one decomposition instead of one matrix exponential per interval)
    const wantTraj = this.want.trajectories && nTimes > 0;
    const needModes = this.want.modes || (wantTraj && this.dt === undefined);
    const me = this.modes;
    const modesOk = needModes ? me.extract(g, rho0, cp.observables) : false;
    if (wantTraj) {
      if (this.dt === undefined && modesOk && !me.oscillating && this.modesReproduce(rho0)) this.trajectoryFromModes(out, row);
      else flags |= this.trajectory(out, row);
    }

    if (this.want.modes) {
      const ok = modesOk;
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

  /**
   * The modes reproduce <O>(0) = o . rho0 for every observable (ss + sum_k a_k): the test that
   * the eigenvector basis is well conditioned enough to evaluate <O>(t) from it.
   */
  private modesReproduce(rho0: Float64Array): boolean {
    const cp = this.cp;
    const me = this.modes;
    const r = this.r;
    for (let o = 0; o < cp.nObs; o++) {
      let exact = 0;
      let scale = 0;
      for (let i = 0; i < r; i++) {
        const x = (cp.observables[o * r + i] as number) * (rho0[i] as number);
        exact += x;
        scale += Math.abs(x);
      }
      let sum = me.steady[o] as number;
      for (let q = 0; q < me.modeCount; q++) sum += me.amplitudes[q * cp.nObs + o] as number;
      if (!(Math.abs(sum - exact) <= 1e-10 * scale)) return false;
    }
    return true;
  }

  /** <O>(t) = ss + sum_k a_k exp(-lambda_k t): one decomposition serves any time grid. */
  private trajectoryFromModes(out: ChunkResult, row: number): void {
    const cp = this.cp;
    const me = this.modes;
    const nObs = cp.nObs;
    const times = cp.times;
    const nT = times.length;
    const base = row * nObs * nT;
    const traj = out.trajectories;
    for (let o = 0; o < nObs; o++) {
      const ss = me.steady[o] as number;
      for (let k = 0; k < nT; k++) traj[base + o * nT + k] = ss;
    }
    for (let q = 0; q < me.modeCount; q++) {
      const rate = me.rates[q] as number;
      for (let k = 0; k < nT; k++) {
        const e = Math.exp(-rate * (times[k] as number));
        for (let o = 0; o < nObs; o++) {
          const j = base + o * nT + k;
          traj[j] = (traj[j] as number) + (me.amplitudes[q * nObs + o] as number) * e;
        }
      }
    }
  }

  /** <O>(t) on the time grid; returns flag bits. */
  private trajectory(out: ChunkResult, row: number): number {
    const cp = this.cp;
    const { r, g, prop, propagator } = this;
    const nObs = cp.nObs;
    const times = cp.times;
    const nT = times.length;
    const traj = out.trajectories;
    const base = row * nObs * nT;
    // deviations from the steady state (see Propagator): observables carry its constant part
    propagator.setGenerator(g, this.rho0[0] as number);
    const obs = this.obsCarried;
    propagator.observables(cp.observables, nObs, obs);
    let s = this.rho;
    let next = this.rho2;
    propagator.toCarried(this.rho0, s);
    if (this.dt !== undefined) {
      propagator.step(this.dt, prop);
      const kernel = propagator.shifted ? this.unrolledBlock : this.unrolled;
      return kernel(prop, s, obs, nT, traj, base) ? 0 : FLAG_NONFINITE;
    }
    let flags = 0;
    let tPrev = 0;
    let stepPrev = NaN;
    for (let k = 0; k < nT; k++) {
      const t = times[k] as number;
      const dt = t - tPrev;
      if (dt !== 0) {
        // intervals of equal length reuse one propagator
        if (!(Math.abs(dt - stepPrev) <= 1e-12 * dt)) {
          propagator.step(dt, prop);
          stepPrev = dt;
        }
        matvec(prop, s, next, r);
        // the identity coordinate is constant for a trace-preserving generator: keep it exact
        next[0] = s[0] as number;
        const swap = s;
        s = next;
        next = swap;
      }
      for (let o = 0; o < nObs; o++) {
        let v = 0;
        for (let i = 0; i < r; i++) v += (obs[o * r + i] as number) * (s[i] as number);
        traj[base + o * nT + k] = v;
      }
      tPrev = t;
    }
    let sum = 0;
    for (let i = 0; i < r; i++) sum += s[i] as number;
    if (!Number.isFinite(sum)) flags |= FLAG_NONFINITE;
    return flags;
  }
}
