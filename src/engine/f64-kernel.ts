import { matvec } from '../math/dense.js';
import { ModeExtractor } from '../evaluate/mode-extractor.js';
import { Propagator } from '../evaluate/propagator.js';
import type { ThermalModel } from '../physics/thermalization.js';
import { termNonZeros, type CompiledProblem, type TermNonZeros } from './compiled-problem.js';
import { type CoefficientTables, type FactorTable, TableCursor } from './coefficient-tables.js';
import { trajectoryKernel, type TrajectoryKernel } from './unrolled-propagator.js';
import { emptyKernelCounters, type KernelCounters } from './backend.js';
import { FLAG_MODES_FAILED, FLAG_NONFINITE, FLAG_OSCILLATING, FLAG_STIFF, type ChunkResult, type Want } from './chunk.js';
import type { SymmetricForm } from '../evaluate/symmetric-form.js';
import { SymmetricModes, type Slot } from '../evaluate/symmetric-modes.js';
import { SteadyRefinement } from './steady-refinement.js';
import { modulus } from '../math/modulus.js';
import { WasmModeSums } from '../math/wasm-mode-sums.js';

/** How a time grid is propagated: one reused step, or one exponential per interval. */
function uniformStep(times: Float64Array): number | undefined {
  if (times.length < 2 || times[0] !== 0) return undefined;
  const dt = (times[1] as number) - (times[0] as number);
  for (let k = 2; k < times.length; k++) {
    if (Math.abs((times[k] as number) - (times[k - 1] as number) - dt) > 1e-12 * Math.abs(dt) * k) return undefined;
  }
  return dt;
}

/** Largest reduced dimension for which a uniform grid is stepped with one propagator when no modes are wanted. */
export const MAX_STEPPED_R = 6;

/**
 * Float64 evaluation of many grid points of one spec and thermal model. Every buffer is
 * allocated in the constructor; the per-point loop only reads tables and writes into the
 * caller's result views. This is the worker pool's kernel and the reference the float32
 * tensor path is checked against.
 *
 * Routes per point: with a symmetric form (detailed-balance models, the double commutator)
 * the modes come from a symmetric eigen-decomposition; otherwise from the general one. Any
 * time grid is then evaluated from the modes. A uniform grid without wanted modes and a
 * small reduced dimension (the pair benchmark) is stepped with one exponential instead; one
 * matrix exponential per interval is left only for a general generator whose eigenbasis
 * fails the reproduction test (counted in `counters`). With the WebAssembly solver the
 * symmetric route takes two points at a time (pointPair): their eigen-decompositions run side
 * by side, which hides the latency of QL's rotations, with results bit for bit those of one
 * point at a time (RELAXMAP_PAIRS=0).
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
  /** The second point's modes when two points are evaluated at once (SymmetricModes.evaluatePair). */
  private readonly modes2: ModeExtractor | undefined;
  private readonly dt: number | undefined;
  private readonly sqrtD: number;
  private readonly tableData: Float64Array[];
  /** Non-zeros of all reduced term matrices: G[nzElem] += c[nzTerm] * nzVal. */
  private readonly nzTerm: Int32Array;
  private readonly nzElem: Int32Array;
  private readonly nzVal: Float64Array;
  /**
   * Non-zeros from this index on belong to coherent terms (-i [H_m, .], last in the compact
   * list): added after the inhomogeneous source, which is -Gamma rho_eq of the relaxation alone.
   */
  private readonly nzCoherent: number;
  /** Refined steady-state solve (coherent terms make generators non-normal) and build-up rates. */
  private readonly refinement: SteadyRefinement;
  private readonly unrolled: TrajectoryKernel;
  private readonly unrolledBlock: TrajectoryKernel;
  private readonly propagator: Propagator;
  private readonly obsCarried: Float64Array;
  /** Trajectories of real modes on a grid without a common step (undefined: JavaScript sums). */
  private readonly modeSums: WasmModeSums | undefined;
  private readonly sym: SymmetricModes | undefined;
  /** Symmetric route, weighted: per group, table ids of s, J and the three balanced factors. */
  private readonly groupTables: Int32Array;
  private readonly initialObs: Float64Array;
  private readonly initialScale: Float64Array;
  /** Routes taken so far (reported in run.json through the backend's stats). */
  readonly counters: KernelCounters = emptyKernelCounters();

  /** `terms`: the term matrices' non-zeros, given where cp comes without its matrices (a worker's payload). */
  constructor(cp: CompiledProblem, tables: CoefficientTables, want: Want, sym?: SymmetricForm, terms: TermNonZeros = termNonZeros(cp)) {
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
    this.nzTerm = terms.term;
    this.nzElem = terms.elem;
    this.nzVal = terms.val;
    let firstCoherent = 0;
    while (firstCoherent < terms.term.length && cp.isCoherentTerm[terms.term[firstCoherent] as number] !== 1) firstCoherent++;
    this.nzCoherent = firstCoherent;
    this.refinement = new SteadyRefinement(cp, want);
    this.unrolled = trajectoryKernel(r, cp.nObs);
    this.unrolledBlock = trajectoryKernel(r, cp.nObs, true);
    this.propagator = new Propagator(r);
    this.obsCarried = new Float64Array(cp.nObs * r);
    this.modeSums = want.trajectories && this.dt === undefined && cp.times.length > 0 && process.env.RELAXMAP_WASM_SUMS !== '0' ? WasmModeSums.create(cp.times, r, cp.nObs) : undefined;
    this.initialObs = new Float64Array(cp.nObs);
    this.initialScale = new Float64Array(cp.nObs);
    this.groupTables = new Int32Array(sym ? 5 * sym.groupTerm.length : 0);
    if (sym && sym.r === r) {
      let ok = true;
      if (sym.route === 'weighted') {
        for (let g = 0; g < sym.groupTerm.length; g++) {
          const k = sym.groupTerm[g] as number;
          const f = sym.groupFrequency[g] as number;
          const ids = [tables.termTables[3 * k] as number, tables.termTables[3 * k + 1] as number, tables.balancedIndex[3 * f] ?? -1, tables.balancedIndex[3 * f + 1] ?? -1, tables.balancedIndex[3 * f + 2] ?? -1];
          for (const x of ids) if (x < 0) ok = false;
          this.groupTables.set(ids, 5 * g);
        }
      }
      this.sym = ok ? new SymmetricModes(sym, cp.nObs, cp.nStates) : undefined;
    } else this.sym = undefined;
    // RELAXMAP_PAIRS=0: the symmetric route one point at a time (comparisons, tests)
    this.modes2 = this.sym?.pairs && process.env.RELAXMAP_PAIRS !== '0' ? new ModeExtractor(r, cp.nObs) : undefined;
  }

  /** Evaluate `count` points from per-model flat index `start`, writing point j into row offset + j of `out`. */
  run(start: number, count: number, out: ChunkResult, offset = 0): void {
    if (!this.want.modes && !(this.want.trajectories && out.shape.nTimes > 0)) {
      this.runRatesOnly(start, count, out, offset);
      return;
    }
    const cursor = this.cursor;
    cursor.seek(start, this.tables.grid.strides);
    // two points at a time through the symmetric form: their eigen-decompositions run side by
    // side (SymmetricModes.evaluatePair), results bit for bit those of one point at a time
    const pairs = this.modes2 !== undefined && !this.stepped(out.shape.nTimes) && !out.shape.buildup;
    for (let j = 0; j < count; ) {
      if (j > 0) cursor.next();
      if (pairs && j + 1 < count) {
        this.pointPair(out, offset + j, start + j);
        j += 2;
      } else {
        this.point(out, offset + j);
        j++;
      }
    }
  }

  /**
   * Points `flat` and `flat + 1` (rows `row`, `row + 1`) on the symmetric route at once; the
   * cursor is at `flat` on entry and at `flat + 1` on return. A point the pair could not take
   * (weights too spread, no convergence) is evaluated again on its own, as point() would.
   */
  private pointPair(out: ChunkResult, row: number, flat: number): void {
    const sm = this.sym as SymmetricModes;
    const meB = this.modes2 as ModeExtractor;
    this.pointHead(out, row);
    this.symmetricInputs(sm.first);
    this.cursor.next();
    this.pointHead(out, row + 1);
    this.symmetricInputs(sm.second as Slot);
    const ok = sm.evaluatePair(this.modes, meB);
    if (ok & 1) this.symmetricOutputs(out, row, this.modes);
    else {
      this.cursor.seek(flat, this.tables.grid.strides);
      this.point(out, row);
      this.cursor.seek(flat + 1, this.tables.grid.strides);
    }
    if (ok & 2) this.symmetricOutputs(out, row + 1, meB);
    else this.point(out, row + 1);
  }

  private scratchSize = 0;
  private dimIdx: Int32Array[] = [];
  private fused: FusedRates | undefined;

  /**
   * Projection rates and Boltzmann values only. rate_O(p) = -sum_k w_kO S_k J_k Th_k is a
   * sum of products of per-axis tables; terms sharing their strength and thermal tables are
   * fused once into one table over the spectral density's axes (constant factors folded in),
   * and Boltzmann values into one table over (T, B0, ...) per observable. Per point that
   * leaves a few table look-ups, in short monomorphic loops over the chunk.
   */
  private runRatesOnly(start: number, count: number, out: ChunkResult, offset: number): void {
    const grid = this.tables.grid;
    const nDims = grid.dims.length;
    const fused = (this.fused ??= fuseRates(this.cp, this.tables, this.want.rates));
    if (count > this.scratchSize) {
      this.scratchSize = count;
      this.dimIdx = Array.from({ length: nDims }, () => new Int32Array(count));
      for (const t of fused.tables) t.idx = new Int32Array(count);
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
    for (const t of fused.tables) {
      const idx = t.idx as Int32Array;
      idx.fill(0, 0, count);
      for (let k = 0; k < nDims; k++) {
        const st = t.strides[k] as number;
        if (st === 0) continue;
        const di = this.dimIdx[k] as Int32Array;
        for (let p = 0; p < count; p++) idx[p] = (idx[p] as number) + (di[p] as number) * st;
      }
    }
    const nObs = this.cp.nObs;
    const rates = out.rates;
    const boltz = out.boltzmann;
    for (let o = 0; o < nObs; o++) {
      for (let p = 0; p < count; p++) rates[(offset + p) * nObs + o] = 0;
      for (const prod of fused.rates[o] ?? []) {
        const f0 = fused.tables[prod[0] as number] as FusedTable;
        const d0 = f0.data;
        const i0 = f0.idx as Int32Array;
        if (prod.length === 1) {
          for (let p = 0; p < count; p++) {
            const j = (offset + p) * nObs + o;
            rates[j] = (rates[j] as number) + (d0[i0[p] as number] as number);
          }
        } else {
          const f1 = fused.tables[prod[1] as number] as FusedTable;
          const d1 = f1.data;
          const i1 = f1.idx as Int32Array;
          if (prod.length === 2) {
            for (let p = 0; p < count; p++) {
              const j = (offset + p) * nObs + o;
              rates[j] = (rates[j] as number) + (d0[i0[p] as number] as number) * (d1[i1[p] as number] as number);
            }
          } else {
            const f2 = fused.tables[prod[2] as number] as FusedTable;
            const d2 = f2.data;
            const i2 = f2.idx as Int32Array;
            for (let p = 0; p < count; p++) {
              const j = (offset + p) * nObs + o;
              rates[j] = (rates[j] as number) + (d0[i0[p] as number] as number) * (d1[i1[p] as number] as number) * (d2[i2[p] as number] as number);
            }
          }
        }
      }
      const bt = fused.tables[fused.boltzmann[o] as number] as FusedTable;
      const bd = bt.data;
      const bi = bt.idx as Int32Array;
      for (let p = 0; p < count; p++) boltz[(offset + p) * nObs + o] = bd[bi[p] as number] as number;
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
    if (!this.pointHead(out, row)) return;
    if (this.sym && !this.stepped(out.shape.nTimes) && this.symmetricPoint(out, row)) return;
    out.flags[row] = this.generalPoint(out, row);
  }

  /** A uniform grid without modes on a tiny system: one exponential, then r x r steps (the general route). */
  private stepped(nTimes: number): boolean {
    return this.want.trajectories && nTimes > 0 && this.dt !== undefined && !this.want.modes && this.r <= MAX_STEPPED_R;
  }

  /**
   * What every route needs of the point at the cursor: coefficients, populations, Boltzmann
   * values and projection rates (written to `row`), the initial populations. False when no
   * dynamics are wanted (flags written).
   */
  private pointHead(out: ChunkResult, row: number): boolean {
    const cp = this.cp;
    const { coef } = this;
    const nObs = cp.nObs;
    const { nTimes } = out.shape;
    this.fillCoefficients(coef);

    // Boltzmann values
    this.populations(1, this.pops);
    for (let o = 0; o < nObs; o++) {
      let b = 0;
      for (let i = 0; i < cp.nStates; i++) b += (this.pops[i] as number) * (cp.boltzmannWeights[i * nObs + o] as number);
      out.boltzmann[row * nObs + o] = b;
    }

    // projection rates
    if (this.want.rates) {
      for (let o = 0; o < nObs; o++) {
        let s = 0;
        for (let k = 0; k < cp.nTerms; k++) s += (coef[k] as number) * (cp.rateWeights[k * nObs + o] as number);
        out.rates[row * nObs + o] = -s;
      }
    }

    const wantTraj = this.want.trajectories && nTimes > 0;
    if (!this.want.modes && !wantTraj) {
      out.flags[row] = 0;
      return false;
    }
    if (!cp.initialFixed) this.populations(cp.initialSign === -1 ? -1 : 1, this.popsInit);
    return true;
  }

  /** Modes from the symmetric form; false when the form cannot take this point (the general route then does). */
  private symmetricPoint(out: ChunkResult, row: number): boolean {
    const sm = this.sym as SymmetricModes;
    this.symmetricInputs(sm.first);
    if (!sm.evaluate(this.modes)) return false;
    this.symmetricOutputs(out, row, this.modes);
    return true;
  }

  /** The symmetric form's inputs of the point at the cursor (after pointHead): coefficients, populations, initial state. */
  private symmetricInputs(slot: Slot): void {
    const { coef: c, pops, rho0 } = slot;
    const sm = this.sym as SymmetricModes;
    const form = sm.form;
    const cp = this.cp;
    const r = this.r;
    if (form.route === 'weighted') {
      const idx = this.cursor.index;
      const data = this.tableData;
      const gt = this.groupTables;
      for (let q = 0; q < form.groupTerm.length; q++) {
        const ts = gt[5 * q] as number;
        const tj = gt[5 * q + 1] as number;
        const sj = ((data[ts] as Float64Array)[idx[ts] as number] as number) * ((data[tj] as Float64Array)[idx[tj] as number] as number);
        for (let part = 0; part < 3; part++) {
          const t = gt[5 * q + 2 + part] as number;
          c[3 * q + part] = sj * ((data[t] as Float64Array)[idx[t] as number] as number);
        }
      }
    } else c.set(this.coef);
    pops.set(this.pops);
    if (form.initialFixed) rho0.set(form.initialFixed);
    else {
      rho0.fill(0);
      for (let s = 0; s < cp.nStates; s++) {
        const p = this.popsInit[s] as number;
        if (p === 0) continue;
        for (let j = 0; j < r; j++) rho0[j] = (rho0[j] as number) + p * (form.projectors[s * r + j] as number);
      }
    }
  }

  /** Trajectories, modes and flags of a point from its symmetric-route modes `me`. */
  private symmetricOutputs(out: ChunkResult, row: number, me: ModeExtractor): void {
    const cp = this.cp;
    this.counters.symmetric++;
    let flags = 0;
    if (this.want.trajectories && out.shape.nTimes > 0) {
      this.trajectoryFromModes(out, row, me);
      this.counters.trajectoriesFromModes++;
    }
    if (this.want.modes) flags |= this.writeModes(out, row, true, me);
    if (out.shape.buildup) {
      this.assemble();
      const rho0r = this.rho0;
      if (cp.initialFixed) rho0r.set(cp.initialFixed);
      else this.stateFromPopulations(this.popsInit, rho0r);
      flags |= this.refinement.apply(this.g, rho0r, out, row);
    }
    out.flags[row] = flags;
  }

  /**
   * The generator of the point in reduced coordinates: relaxation terms, the inhomogeneous
   * source (-sqrt(d) Gamma sigma_eq in the identity column, of the relaxation alone), then
   * the coherent terms (which make the generator non-normal).
   */
  private assemble(): void {
    const { r, g, coef } = this;
    g.fill(0);
    const { nzTerm, nzElem, nzVal } = this;
    for (let z = 0; z < this.nzCoherent; z++) {
      const e = nzElem[z] as number;
      g[e] = (g[e] as number) + (coef[nzTerm[z] as number] as number) * (nzVal[z] as number);
    }
    if (this.thermal === 'inhomogeneous') {
      this.stateFromPopulations(this.pops, this.rho);
      matvec(g, this.rho, this.tmp, r);
      for (let i = 0; i < r; i++) g[i * r] = (g[i * r] as number) - this.sqrtD * (this.tmp[i] as number);
    }
    for (let z = this.nzCoherent; z < nzVal.length; z++) {
      const e = nzElem[z] as number;
      g[e] = (g[e] as number) + (coef[nzTerm[z] as number] as number) * (nzVal[z] as number);
    }
  }

  /** Modes (and trajectories) from the generator in reduced coordinates; returns flag bits. */
  private generalPoint(out: ChunkResult, row: number): number {
    const cp = this.cp;
    const { g } = this;
    const { nTimes } = out.shape;
    let flags = 0;
    this.assemble();
    const rho0 = this.rho0;
    if (cp.initialFixed) rho0.set(cp.initialFixed);
    else this.stateFromPopulations(this.popsInit, rho0);

    const wantTraj = this.want.trajectories && nTimes > 0;
    const needModes = this.want.modes || (wantTraj && this.dt === undefined);
    const me = this.modes;
    const modesOk = needModes ? me.extract(g, rho0, cp.observables) : false;
    if (needModes) this.counters.general++;
    if (wantTraj) {
      if (this.dt !== undefined) {
        flags |= this.trajectory(out, row);
        this.counters.trajectoriesByStep++;
      } else if (modesOk && !cp.coherent && this.modesReproduce(rho0)) {
        // (coherent terms: the slow build-up modes fall below the extractor's stationarity
        // threshold of 1e-10 |G| next to ~1e9 s^-1 coherences, so modes cannot evaluate <O>(t))
        this.trajectoryFromModes(out, row);
        this.counters.trajectoriesFromModes++;
      } else {
        flags |= this.trajectory(out, row);
        this.counters.trajectoriesPerInterval++;
      }
    }
    if (this.want.modes) flags |= this.writeModes(out, row, modesOk);
    flags |= this.refinement.apply(g, rho0, out, row);
    return flags;
  }

  /** Eigenrates, amplitudes and steady state of the last decomposition into the outputs; flag bits. */
  private writeModes(out: ChunkResult, row: number, ok: boolean, me: ModeExtractor = this.modes): number {
    const nObs = this.cp.nObs;
    const nModes = out.shape.nModes;
    const eig = out.eigenrates;
    const amp = out.amplitudes;
    if (!ok) {
      for (let q = 0; q < nModes; q++) eig[row * nModes + q] = NaN;
      for (let q = 0; q < nObs * nModes; q++) amp[row * nObs * nModes + q] = NaN;
      for (let o = 0; o < nObs; o++) out.steady[row * nObs + o] = NaN;
      return FLAG_MODES_FAILED | FLAG_NONFINITE;
    }
    let flags = 0;
    const count = Math.min(me.modeCount, nModes);
    for (let q = 0; q < nModes; q++) eig[row * nModes + q] = q < count ? (me.rates[q] as number) : NaN;
    for (let o = 0; o < nObs; o++) {
      out.steady[row * nObs + o] = me.steady[o] as number;
      for (let q = 0; q < nModes; q++) amp[(row * nObs + o) * nModes + q] = q < count ? (me.amplitudes[q * nObs + o] as number) : NaN;
    }
    if (me.oscillating) flags |= FLAG_OSCILLATING;
    if (count > 0 && (me.rates[0] as number) < 1e-12 * me.norm) flags |= FLAG_STIFF;
    return flags;
  }

  /** The decomposition reproduces <O>(0) = o . rho0 (ModeExtractor.reproduces): modes may evaluate <O>(t). */
  private modesReproduce(rho0: Float64Array): boolean {
    const cp = this.cp;
    const r = this.r;
    for (let o = 0; o < cp.nObs; o++) {
      let exact = 0;
      let scale = 0;
      for (let i = 0; i < r; i++) {
        const x = (cp.observables[o * r + i] as number) * (rho0[i] as number);
        exact += x;
        scale += Math.abs(x);
      }
      this.initialObs[o] = exact;
      this.initialScale[o] = scale;
    }
    return this.modes.reproduces(this.initialObs, this.initialScale);
  }

  /**
   * <O>(t) = ss + sum_k exp(-g_k t) (re_k cos w_k t - im_k sin w_k t): one decomposition
   * serves any time grid. Terms below exp(-50) of their amplitude are not evaluated (a fast
   * mode on a log grid is spent after a few points); a uniform grid from 0 multiplies by
   * exp(-g dt) instead of calling exp.
   */
  private trajectoryFromModes(out: ChunkResult, row: number, me: ModeExtractor = this.modes): void {
    const cp = this.cp;
    const nObs = cp.nObs;
    const times = cp.times;
    const nT = times.length;
    const base = row * nObs * nT;
    const traj = out.trajectories;
    for (let o = 0; o < nObs; o++) {
      const ss = me.steady[o] as number;
      for (let k = 0; k < nT; k++) traj[base + o * nT + k] = ss;
    }
    const dt = this.dt;
    // modes below 1e-17 of every observable's scale change no digit of the trajectory
    const scale = this.initialScale;
    for (let o = 0; o < nObs; o++) {
      let sc = Math.abs(me.steady[o] as number);
      for (let q = 0; q < me.trajCount; q++) sc += modulus(me.trajAmpRe[q * nObs + o] as number, me.trajAmpIm[q * nObs + o] as number);
      scale[o] = 1e-17 * sc;
    }
    // (modeSums exists only for grids without a common step)
    if (this.modeSums && this.realSums(out, base, me)) return;
    for (let q = 0; q < me.trajCount; q++) {
      if (!this.modeNeeded(me, q)) continue;
      const rate = me.trajRate[q] as number;
      const freq = me.trajFreq[q] as number;
      if (freq === 0) {
        if (dt !== undefined) {
          const z = Math.exp(-rate * dt);
          let e = 1;
          for (let k = 0; k < nT && e > 1e-22; k++) {
            for (let o = 0; o < nObs; o++) {
              const j = base + o * nT + k;
              traj[j] = (traj[j] as number) + (me.trajAmpRe[q * nObs + o] as number) * e;
            }
            e *= z;
          }
        } else {
          for (let k = 0; k < nT; k++) {
            const x = rate * (times[k] as number);
            if (x > 50) break;
            const e = Math.exp(-x);
            for (let o = 0; o < nObs; o++) {
              const j = base + o * nT + k;
              traj[j] = (traj[j] as number) + (me.trajAmpRe[q * nObs + o] as number) * e;
            }
          }
        }
      } else {
        for (let k = 0; k < nT; k++) {
          const t = times[k] as number;
          const x = rate * t;
          if (x > 50) break;
          const e = Math.exp(-x);
          const c = e * Math.cos(freq * t);
          const sn = e * Math.sin(freq * t);
          for (let o = 0; o < nObs; o++) {
            const j = base + o * nT + k;
            traj[j] = (traj[j] as number) + (me.trajAmpRe[q * nObs + o] as number) * c - (me.trajAmpIm[q * nObs + o] as number) * sn;
          }
        }
      }
    }
  }

  /** Whether mode q changes a digit of some observable's trajectory (initialScale holds 1e-17 of each observable's scale). */
  private modeNeeded(me: ModeExtractor, q: number): boolean {
    const nObs = this.cp.nObs;
    for (let o = 0; o < nObs; o++) if (modulus(me.trajAmpRe[q * nObs + o] as number, me.trajAmpIm[q * nObs + o] as number) > (this.initialScale[o] as number)) return true;
    return false;
  }

  /**
   * trajectoryFromModes on a grid without a common step when every mode is real: the needed
   * modes (the same test) summed by WasmModeSums, term for term the loop below with the
   * module's exp. False (nothing written) when a needed mode oscillates.
   */
  private realSums(out: ChunkResult, base: number, me: ModeExtractor): boolean {
    const sums = this.modeSums as WasmModeSums;
    const nObs = this.cp.nObs;
    let t = 0;
    for (let q = 0; q < me.trajCount; q++) {
      if (!this.modeNeeded(me, q)) continue;
      if ((me.trajFreq[q] as number) !== 0) return false;
      sums.rate[t] = me.trajRate[q] as number;
      for (let o = 0; o < nObs; o++) sums.amp[t * nObs + o] = me.trajAmpRe[q * nObs + o] as number;
      t++;
    }
    for (let o = 0; o < nObs; o++) sums.steady[o] = me.steady[o] as number;
    sums.sum(t, 50);
    out.trajectories.set(sums.out, base);
    return true;
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
          this.counters.intervalExponentials++;
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

/** A factor table of the rates-only path, with its per-point index array for the current chunk. */
interface FusedTable {
  readonly data: Float64Array;
  /** Stride of each grid dimension (0 where the table does not depend on it). */
  readonly strides: Int32Array;
  idx: Int32Array | undefined;
}

interface FusedRates {
  readonly tables: FusedTable[];
  /** Per observable: products of fused table ids; their sum is the projection rate (sign folded in). */
  readonly rates: number[][][];
  /** Per observable: table id of the Boltzmann value. */
  readonly boltzmann: number[];
}

/** Fuse the rate terms and the Boltzmann weights into as few per-axis tables as possible. */
function fuseRates(cp: CompiledProblem, ct: CoefficientTables, wantRates: boolean): FusedRates {
  const nDims = ct.grid.dims.length;
  const tables: FusedTable[] = [];
  const fromFactor = (id: number): FusedTable => {
    const t = ct.tables[id] as FactorTable;
    const strides = new Int32Array(nDims);
    for (const k of t.dims) strides[k] = t.strides[k] as number;
    return { data: t.data, strides, idx: undefined };
  };
  const tableIds = new Map<number, number>();
  const useFactor = (id: number): number => {
    let f = tableIds.get(id);
    if (f === undefined) {
      tables.push(fromFactor(id));
      f = tables.length - 1;
      tableIds.set(id, f);
    }
    return f;
  };
  // a table with one value everywhere (no axes, or e.g. the dc factor 1 of rodin-abergel) is a constant
  const constCache = new Map<number, boolean>();
  const isConst = (id: number): boolean => {
    let c = constCache.get(id);
    if (c === undefined) {
      const d = (ct.tables[id] as FactorTable).data;
      const v0 = d[0] as number;
      c = d.every((v) => v === v0);
      constCache.set(id, c);
    }
    return c;
  };
  const constValue = (id: number): number => (ct.tables[id] as FactorTable).data[0] as number;
  const nObs = cp.nObs;
  const tt = ct.termTables;
  const rates: number[][][] = [];
  for (let o = 0; o < nObs; o++) {
    // group: (strength table | const, thermal table | const, dims of the spectral table)
    const groups = new Map<string, { a: number | undefined; c: number | undefined; b: number; entries: Array<[number, number]> }>();
    for (let k = 0; wantRates && k < cp.nTerms; k++) {
      const w = -(cp.rateWeights[k * nObs + o] as number);
      if (w === 0) continue;
      const a = tt[3 * k] as number;
      const b = tt[3 * k + 1] as number;
      const c = tt[3 * k + 2] as number;
      let weight = w;
      if (isConst(a)) weight *= constValue(a);
      if (isConst(c)) weight *= constValue(c);
      if (weight === 0) continue;
      const bt = ct.tables[b] as FactorTable;
      const key = `${isConst(a) ? '-' : a}|${isConst(c) ? '-' : c}|${bt.dims.join(',')}|${Array.from(bt.strides).join(',')}`;
      let g = groups.get(key);
      if (!g) {
        g = { a: isConst(a) ? undefined : a, c: isConst(c) ? undefined : c, b, entries: [] };
        groups.set(key, g);
      }
      g.entries.push([weight, b]);
    }
    const prods: number[][] = [];
    for (const g of groups.values()) {
      const bt = ct.tables[g.b] as FactorTable;
      const data = new Float64Array(bt.data.length);
      for (const [w, b] of g.entries) {
        const d = (ct.tables[b] as FactorTable).data;
        for (let j = 0; j < data.length; j++) data[j] = (data[j] as number) + w * (d[j] as number);
      }
      const strides = new Int32Array(nDims);
      for (const k of bt.dims) strides[k] = bt.strides[k] as number;
      tables.push({ data, strides, idx: undefined });
      const prod = [tables.length - 1];
      if (g.a !== undefined) prod.push(useFactor(g.a));
      if (g.c !== undefined) prod.push(useFactor(g.c));
      prods.push(prod);
    }
    rates.push(prods);
  }
  // Boltzmann values: sum_i pops_i (o . P_i), tabulated over the population table's axes
  const pt = ct.tables[ct.populationTables.thermal] as FactorTable;
  const nStates = cp.nStates;
  const rowsOf = pt.data.length / nStates;
  const boltzmann: number[] = [];
  for (let o = 0; o < nObs; o++) {
    const data = new Float64Array(rowsOf);
    for (let j = 0; j < rowsOf; j++) {
      let b = 0;
      for (let i = 0; i < nStates; i++) b += (pt.data[j * nStates + i] as number) * (cp.boltzmannWeights[i * nObs + o] as number);
      data[j] = b;
    }
    // the population table's strides count nStates values per point
    const strides = new Int32Array(nDims);
    for (const k of pt.dims) strides[k] = (pt.strides[k] as number) / nStates;
    tables.push({ data, strides, idx: undefined });
    boltzmann.push(tables.length - 1);
  }
  return { tables, rates, boltzmann };
}
