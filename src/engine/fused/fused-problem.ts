/**
 * Everything the fused float32 kernel (WGSL on a GPU, fused-js.ts on the CPU) needs for one
 * variant, built once on the host in float64 and rounded to float32 once: per-axis tables,
 * the generator as a few groups of tabulated matrices, projection-rate tables, initial and
 * equilibrium states, observables, and the time plan. Per point the kernel then only
 * looks values up, multiplies and sums; nothing is uploaded per chunk.
 *
 * Generator groups. G(p) = sum_k c_k(p) M_k with c_k = s_k(p) J_k(p) th_k(p) (strength,
 * spectral density, thermal factor: coefficient-tables.ts). Terms that share their
 * strength and thermal tables are summed in float64 over the spectral density's axes:
 *   G(p) = sum_g a_g(p) F_g[row_g(p)],   F_g = sum_{k in g} J_k (x factors that need no
 *   new axis) M_k,   a_g = the product of the remaining factors.
 * Why: terms at nearly equal frequencies (a J-coupled 1H-1H-13C system: w_H +- pi J) come in
 * pairs c M - c' M whose sum is 1e-4 of either term, and float32 keeps only u / 1e-4 of it
 * (the singlet -> Cz entry of that system lost 1e-3 relative, and Cz(t) 5.6e-4). Summed
 * in float64 the pair is one small, accurate entry. It also leaves fewer, denser groups than
 * terms (168 terms -> 87 groups there). A group whose table would be too large keeps its
 * terms as constant matrices with three factors each (then the error estimate, which sees
 * the absolute terms, has to catch the cancellation).
 *
 * All coordinates are the observable-aligned ones (aligned-basis.ts).
 */
import type { SweepGrid } from '../../sweep/grid.js';
import type { CoefficientTables, FactorTable } from '../coefficient-tables.js';
import type { CompiledProblem } from '../compiled-problem.js';
import { F64Kernel } from '../f64-kernel.js';
import { alignedBasis, rotateRows } from '../tfjs/aligned-basis.js';
import { blocking, timePlan } from './time-plan.js';

/** A table in FusedProblem.data: `width` values per row, rows indexed by grid dimensions. */
export interface FusedTableRef {
  readonly offset: number;
  readonly width: number;
  /** Per grid dimension: values to skip per step of that dimension (0: not spanned). */
  readonly strides: Int32Array;
}

/**
 * G[pattern[j]] += a F[row][j] for every j < nnz, a = the product of three factor tables (ONE
 * where unused). Every group uses the same element pattern (the union of all terms'), so a
 * thread that owns element slot j owns it in every group.
 */
export interface FusedGroup {
  readonly factors: readonly [number, number, number];
  /** Table of width nnz: the group's matrix entries per row. */
  readonly matrix: number;
  /** Table of width nObs: minus the rate weights summed the same way, or -1 (no rate contribution). */
  readonly rates: number;
}

export type FusedTime =
  | { readonly kind: 'none' }
  | { readonly kind: 'uniform'; readonly dt: number; readonly m: number; readonly nq: number }
  | { readonly kind: 'steps'; readonly steps: Float64Array; readonly stepOf: Int32Array };

export interface FusedProblem {
  readonly r: number;
  readonly nObs: number;
  readonly nTimes: number;
  readonly wantRates: boolean;
  readonly dimLengths: Int32Array;
  readonly gridStrides: Int32Array;
  /** Every table, float32. */
  readonly data: Float32Array;
  readonly tables: readonly FusedTableRef[];
  /** Id of the table holding the single value 1. */
  readonly one: number;
  readonly groups: readonly FusedGroup[];
  /** Element indices i * r + j of the group matrices' columns (row 0 of G is zero: never listed). */
  readonly pattern: Int32Array;
  /** Aligned observables [nObs][r]. */
  readonly observables: Float32Array;
  /** Initial state: fixed values [r], or a table of width r. */
  readonly initial: { readonly kind: 'fixed'; readonly values: Float32Array } | { readonly kind: 'table'; readonly table: number };
  /** Table of equilibrium states (width r) for the inhomogeneous model, else -1. */
  readonly equilibrium: number;
  /** sqrt(d): the inhomogeneous source column is -sqrt(d) G rho_eq. */
  readonly sqrtD: number;
  readonly time: FusedTime;
}

/** Above this many float32 values of group tables, the largest groups fall back to per-term constant matrices. */
export const MAX_GROUP_TABLE_VALUES = 8_000_000;

interface Builder {
  readonly chunks: Float64Array[];
  size: number;
  readonly refs: FusedTableRef[];
}

function addTable(b: Builder, values: Float64Array, width: number, strides: Int32Array): number {
  b.refs.push({ offset: b.size, width, strides });
  b.chunks.push(values);
  b.size += values.length;
  return b.refs.length - 1;
}

/** Rows of the sub-grid over `dims` and the strides (in rows) of each grid dimension. */
function subGrid(grid: SweepGrid, dims: readonly number[]): { rows: number; rowStrides: Int32Array } {
  const rowStrides = new Int32Array(grid.dims.length);
  let acc = 1;
  for (let j = dims.length - 1; j >= 0; j--) {
    const d = dims[j] as number;
    rowStrides[d] = acc;
    acc *= grid.dims[d]?.length ?? 1;
  }
  return { rows: acc, rowStrides };
}

/** Index into a factor table at the sub-grid position `idx` (per grid dimension). */
function factorAt(t: FactorTable, idx: Int32Array): number {
  let s = 0;
  for (const d of t.dims) s += (idx[d] as number) * (t.strides[d] as number);
  return t.data[s] as number;
}

function subset(a: readonly number[], b: readonly number[]): boolean {
  return a.every((x) => b.includes(x));
}

/** Grid flat index of the point whose dimensions in `dims` are at `idx` (others 0). */
function flatOf(grid: SweepGrid, dims: readonly number[], idx: Int32Array): number {
  let f = 0;
  for (const d of dims) f += (idx[d] as number) * (grid.strides[d] as number);
  return f;
}

/** Walks every row of the sub-grid over `dims`, with the per-dimension index array. */
function forRows(grid: SweepGrid, dims: readonly number[], body: (row: number, idx: Int32Array) => void): void {
  const idx = new Int32Array(grid.dims.length);
  const { rows } = subGrid(grid, dims);
  for (let row = 0; row < rows; row++) {
    body(row, idx);
    for (let j = dims.length - 1; j >= 0; j--) {
      const d = dims[j] as number;
      const v = (idx[d] as number) + 1;
      if (v < (grid.dims[d]?.length ?? 1)) {
        idx[d] = v;
        break;
      }
      idx[d] = 0;
    }
  }
}

export interface FusedProblemOptions {
  readonly wantRates: boolean;
  readonly wantTrajectories: boolean;
  /** Cap on group table values (default MAX_GROUP_TABLE_VALUES). */
  readonly maxGroupValues?: number;
  /**
   * Test and calibration hook: 'folded' (everything in one table per factor set, the first
   * choice), 'by-axes' (strength and thermal tables kept apart when they add axes: the last
   * choice before single terms), 'terms' (one group per term). Default: the first that fits.
   */
  readonly grouping?: 'auto' | 'folded' | 'by-axes' | 'terms';
}

export function buildFusedProblem(cp: CompiledProblem, ct: CoefficientTables, grid: SweepGrid, inhomogeneous: boolean, options: FusedProblemOptions): FusedProblem {
  const { r, nObs, nTerms } = cp;
  const aligned = alignedBasis(cp);
  const nDims = grid.dims.length;
  const b: Builder = { chunks: [], size: 0, refs: [] };
  const one = addTable(b, Float64Array.of(1), 1, new Int32Array(nDims));
  const factorIds = new Map<number, number>();
  const factor = (id: number): number => {
    let f = factorIds.get(id);
    if (f === undefined) {
      const t = ct.tables[id] as FactorTable;
      const strides = new Int32Array(nDims);
      for (const d of t.dims) strides[d] = t.strides[d] as number;
      f = addTable(b, t.data, 1, strides);
      factorIds.set(id, f);
    }
    return f;
  };

  // Group the terms. J always folds into the group matrix; a strength or thermal table folds
  // too when it spans no axis beyond J's, or (policies tried first) whatever its axes, as long
  // as the group tables stay small: everything folded is the generator summed in float64 over
  // the axes it depends on, which also removes cancellations between thermal factors at nearly
  // equal frequencies (tanh(beta w / 2) at w_H +- pi J: the 13C thermal source of the system above).
  interface Draft {
    readonly keep: number[];
    readonly terms: Array<{ k: number; folded: number[] }>;
    dims: number[];
  }
  const tt = ct.termTables;
  const rr = r * r;
  const nzOf = (k: number): number[] => {
    const out: number[] = [];
    for (let e = r; e < rr; e++) if ((aligned.termMatrices[k * rr + e] as number) !== 0) out.push(e);
    return out;
  };
  const dimsOf = (id: number): readonly number[] => (ct.tables[id] as FactorTable).dims;
  const unionSet = new Set<number>();
  for (let k = 0; k < nTerms; k++) for (const e of nzOf(k)) unionSet.add(e);
  const union = [...unionSet].sort((x, y) => x - y);
  const where = new Map(union.map((e, j) => [e, j]));
  const nnz = union.length;
  type Policy = (role: 'strength' | 'thermal', id: number, jd: readonly number[]) => boolean;
  const draftsFor = (fold: Policy): Array<{ draft: Draft; values: number }> => {
    const drafts = new Map<string, Draft>();
    for (let k = 0; k < nTerms; k++) {
      const s = tt[3 * k] as number;
      const j = tt[3 * k + 1] as number;
      const th = tt[3 * k + 2] as number;
      const jd = dimsOf(j);
      const keep: number[] = [];
      const folded: number[] = [j];
      (fold('strength', s, jd) || subset(dimsOf(s), jd) ? folded : keep).push(s);
      (fold('thermal', th, jd) || subset(dimsOf(th), jd) ? folded : keep).push(th);
      keep.sort((x, y) => x - y);
      const key = keep.join(',');
      let d = drafts.get(key);
      if (!d) {
        d = { keep, terms: [], dims: [] };
        drafts.set(key, d);
      }
      d.terms.push({ k, folded });
      for (const f of folded) for (const dim of dimsOf(f)) if (!d.dims.includes(dim)) d.dims.push(dim);
    }
    return [...drafts.values()].map((d) => {
      d.dims.sort((x, y) => x - y);
      return { draft: d, values: subGrid(grid, d.dims).rows * (union.length + (wantRatesOpt ? nObs : 0)) };
    });
  };
  const wantRatesOpt = options.wantRates;
  const cap = options.maxGroupValues ?? MAX_GROUP_TABLE_VALUES;
  const grouping = options.grouping ?? 'auto';
  const policies: Policy[] =
    grouping === 'folded' ? [() => true] : grouping === 'by-axes' || grouping === 'terms' ? [() => false] : [() => true, (role) => role === 'thermal', (role) => role === 'strength', () => false];
  let plans = draftsFor(policies[policies.length - 1] as Policy);
  for (const policy of policies) {
    const p = draftsFor(policy);
    if (p.reduce((s, x) => s + x.values, 0) <= cap || grouping !== 'auto') {
      plans = p;
      break;
    }
  }
  plans.sort((x, y) => y.values - x.values);
  let total = plans.reduce((s, p) => s + p.values, 0);
  const perTerm = new Set<Draft>();
  for (const p of plans) {
    if (total <= cap && grouping !== 'terms') break;
    perTerm.add(p.draft);
    total -= p.values;
  }

  const groups: FusedGroup[] = [];
  const wantRates = options.wantRates;
  const rateWeight = (k: number, o: number): number => -(cp.rateWeights[k * nObs + o] as number);
  for (const { draft } of plans) {
    if (perTerm.has(draft)) {
      for (const { k } of draft.terms) {
        const vals = new Float64Array(nnz);
        for (const e of nzOf(k)) vals[where.get(e) as number] = aligned.termMatrices[k * rr + e] as number;
        const matrix = addTable(b, vals, nnz, new Int32Array(nDims));
        let rates = -1;
        if (wantRates) {
          const rw = Float64Array.from({ length: nObs }, (_, o) => rateWeight(k, o));
          if (rw.some((v) => v !== 0)) rates = addTable(b, rw, nObs, new Int32Array(nDims));
        }
        groups.push({ factors: [factor(tt[3 * k] as number), factor(tt[3 * k + 1] as number), factor(tt[3 * k + 2] as number)], matrix, rates });
      }
      continue;
    }
    const { rows, rowStrides } = subGrid(grid, draft.dims);
    const f = new Float64Array(rows * nnz);
    const rw = wantRates ? new Float64Array(rows * nObs) : undefined;
    const nzs = draft.terms.map(({ k }) => nzOf(k).map((e) => [where.get(e) as number, aligned.termMatrices[k * rr + e] as number] as const));
    forRows(grid, draft.dims, (row, idx) => {
      draft.terms.forEach(({ k, folded }, q) => {
        let c = 1;
        for (const id of folded) c *= factorAt(ct.tables[id] as FactorTable, idx);
        if (c === 0) return;
        for (const [j, m] of nzs[q] ?? []) f[row * nnz + j] = (f[row * nnz + j] as number) + c * m;
        if (rw) for (let o = 0; o < nObs; o++) rw[row * nObs + o] = (rw[row * nObs + o] as number) + c * rateWeight(k, o);
      });
    });
    const strides = (width: number): Int32Array => rowStrides.map((s) => s * width);
    if (nnz === 0 && !(rw && rw.some((v) => v !== 0))) continue;
    const matrix = addTable(b, f, nnz, strides(nnz));
    const rates = rw && rw.some((v) => v !== 0) ? addTable(b, rw, nObs, strides(nObs)) : -1;
    const keep = draft.keep.map(factor);
    while (keep.length < 3) keep.push(one);
    groups.push({ factors: [keep[0] as number, keep[1] as number, keep[2] as number], matrix, rates });
  }

  // states over the population table's axes, from the float64 kernel's accessors, rotated
  const probe = new F64Kernel(cp, ct, { rates: false, modes: false, trajectories: false });
  const popDims = (ct.tables[ct.populationTables.thermal] as FactorTable).dims;
  const stateTable = (fill: (flat: number, out: Float64Array) => void): number => {
    const { rows, rowStrides } = subGrid(grid, popDims);
    const raw = new Float64Array(rows * r);
    const one = new Float64Array(r);
    forRows(grid, popDims, (row, idx) => {
      fill(flatOf(grid, popDims, idx), one);
      raw.set(one, row * r);
    });
    const rotated = new Float64Array(rows * r);
    rotateRows(aligned.rotation, r, raw, rows, rotated);
    return addTable(b, rotated, r, rowStrides.map((s) => s * r));
  };
  const traj = options.wantTrajectories && cp.times.length > 0;
  const initial: FusedProblem['initial'] = aligned.initialFixed
    ? { kind: 'fixed', values: Float32Array.from(aligned.initialFixed) }
    : { kind: 'table', table: traj ? stateTable((flat, out) => probe.initialStates(flat, 1, out)) : one };
  const equilibrium = inhomogeneous ? stateTable((flat, out) => probe.equilibriumStates(flat, 1, out)) : -1;

  let time: FusedTime = { kind: 'none' };
  if (traj) {
    const plan = timePlan(cp.times);
    if (plan.kind === 'uniform') time = { kind: 'uniform', dt: plan.dt, ...blocking(cp.times.length) };
    else time = { kind: 'steps', steps: Float64Array.from(plan.steps), stepOf: plan.stepOf };
  }

  const data = new Float32Array(b.size);
  let off = 0;
  for (const c of b.chunks) {
    data.set(c, off);
    off += c.length;
  }
  return {
    r,
    nObs,
    nTimes: traj ? cp.times.length : 0,
    wantRates,
    dimLengths: Int32Array.from(grid.dims, (d) => d.length),
    gridStrides: Int32Array.from(grid.strides),
    data,
    tables: b.refs,
    one,
    groups,
    pattern: Int32Array.from(union),
    observables: Float32Array.from(aligned.observables),
    initial,
    equilibrium,
    sqrtD: Math.sqrt(cp.dim),
    time,
  };
}
