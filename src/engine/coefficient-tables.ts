import { betaOf } from '../physics/constants.js';
import type { GeneratorModel, CompactTerm } from '../physics/generator-model.js';
import type { PointBatch } from '../physics/scalar.js';
import { spectralBatch, spectralDeps, type SpectralDensity } from '../physics/spectral-density.js';
import { TEMPERATURE } from '../physics/system-description.js';
import { balancedFactors, evenDependsOnTemperature, evenPart, hasThermalPart, oddPart, type ThermalModel } from '../physics/thermalization.js';
import { normalisedOddPart } from '../physics/phenomenological.js';
import type { GridDim, SweepGrid } from '../sweep/grid.js';

/**
 * A factor tabulated over the sweep dimensions it depends on. On a product grid every
 * coefficient c_k = s(p) J(w(p)) e|o(beta w(p)) factors by axis: the strength depends on
 * e.g. kappa, J on (B0, tau_c), the thermal factor on (T, B0). Tabulating each factor on
 * its own small sub-grid turns the per-point work into table look-ups and products,
 * with every transcendental function evaluated once per distinct argument.
 */
export interface FactorTable {
  /** Grid dimensions the table spans (ascending). */
  readonly dims: readonly number[];
  /** Stride of each grid dimension in the table (0 for dimensions it does not span). */
  readonly strides: Int32Array;
  readonly data: Float64Array;
}

function depsToDims(grid: SweepGrid, deps: Iterable<string>): number[] {
  const out = new Set<number>();
  for (const d of deps) {
    const k = grid.dims.findIndex((g) => g.params.includes(d));
    if (k >= 0) out.add(k);
    else if (!Object.hasOwn(grid.fixed, d)) throw new Error(`parameter ${d} has neither a value nor an axis`);
  }
  return [...out].sort((a, b) => a - b);
}

// The tables' loops are module-level functions (README, "Layout": no per-job closures in set-up loops).

/** One axis's values repeated over a row-major sub-grid where the axis has stride s. */
function axisColumn(v: Float64Array, size: number, s: number, length: number): Float64Array {
  const col = new Float64Array(size);
  for (let i = 0; i < size; i++) col[i] = v[Math.floor(i / s) % length] as number;
  return col;
}

/** Enumerate a sub-grid as a point batch (row-major over `dims`), constants from grid.fixed. */
function subGridBatch(grid: SweepGrid, dims: readonly number[]): { batch: PointBatch; strides: Int32Array } {
  const lengths = dims.map((k) => (grid.dims[k] as GridDim).length);
  const size = lengths.reduce((a, b) => a * b, 1);
  const columns: Record<string, Float64Array | number> = Object.assign(Object.create(null) as Record<string, Float64Array | number>, grid.fixed);
  const strides = new Int32Array(grid.dims.length);
  let acc = 1;
  for (let j = dims.length - 1; j >= 0; j--) {
    strides[dims[j] as number] = acc;
    acc *= lengths[j] as number;
  }
  for (const k of dims) {
    const d = grid.dims[k] as GridDim;
    const s = strides[k] as number;
    for (let j = 0; j < d.params.length; j++) columns[d.params[j] as string] = axisColumn(d.values[j] as Float64Array, size, s, d.length);
  }
  return { batch: { size, columns }, strides };
}

/** Sub-grid batches by dimension set: the (T, B0) grid is shared by many tables. */
type BatchCache = Map<string, { batch: PointBatch; strides: Int32Array }>;

function tabulate(grid: SweepGrid, deps: Iterable<string>, fill: (b: PointBatch) => Float64Array | number, width = 1, cache?: BatchCache): FactorTable {
  const dims = depsToDims(grid, deps);
  const key = dims.join(',');
  let sub = cache?.get(key);
  if (!sub) {
    sub = subGridBatch(grid, dims);
    cache?.set(key, sub);
  }
  const { batch, strides } = sub;
  const v = fill(batch);
  const data = typeof v === 'number' ? new Float64Array(batch.size * width).fill(v) : v;
  if (data.length !== batch.size * width) throw new Error('factor table size mismatch');
  // a table of `width` values per point: the cursor's index is then the row offset
  return { dims, strides: width === 1 ? strides : strides.map((x) => x * width), data };
}

function frequencyDeps(model: GeneratorModel, f: number): string[] {
  const es = model.eigen;
  const entry = model.frequencies[f];
  if (!es || !entry) throw new Error('frequencies exist only on the fixed-basis path');
  const out: string[] = [];
  for (let m = 0; m < es.parts.length; m++) if ((entry.signature[m] as number) !== 0) out.push(...(es.parts[m] as (typeof es.parts)[number]).theta.deps);
  return out;
}

function frequencyBatch(model: GeneratorModel, f: number, b: PointBatch): Float64Array | number {
  const es = model.eigen;
  const entry = model.frequencies[f];
  if (!es || !entry) throw new Error('frequencies exist only on the fixed-basis path');
  let out: Float64Array | number = 0;
  for (let m = 0; m < es.parts.length; m++) {
    const s = entry.signature[m] as number;
    if (s === 0) continue;
    const th = (es.parts[m] as (typeof es.parts)[number]).theta.batch(b);
    if (typeof th === 'number' && typeof out === 'number') out += s * th;
    else {
      const o: Float64Array = typeof out === 'number' ? new Float64Array(b.size).fill(out) : out;
      for (let i = 0; i < b.size; i++) o[i] = (o[i] as number) + s * (typeof th === 'number' ? th : (th[i] as number));
      out = o;
    }
  }
  return out;
}

/** The table id of `key`, made and appended on first use. */
function cachedTable(cache: Map<string, number>, tables: FactorTable[], key: string, make: () => FactorTable): number {
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  tables.push(make());
  cache.set(key, tables.length - 1);
  return tables.length - 1;
}

/** Which thermal factor of a coefficient a table holds. */
type FactorPart = 'even' | 'odd' | 'normalised-odd';

/** e(x), o(x) or the normalised o(x)/e(x) at x = beta w for every point of b. */
function thermalFactorColumn(model: GeneratorModel, frequency: number, part: FactorPart, thermal: ThermalModel, b: PointBatch): Float64Array {
  const w = frequencyBatch(model, frequency, b);
  const temps = b.columns[TEMPERATURE];
  const out = new Float64Array(b.size);
  for (let i = 0; i < b.size; i++) {
    const T = typeof temps === 'number' ? temps : ((temps as Float64Array)[i] as number);
    const x = betaOf(T) * (typeof w === 'number' ? w : (w[i] as number));
    out[i] = part === 'even' ? evenPart(thermal, x) : part === 'odd' ? oddPart(thermal, x) : normalisedOddPart(thermal, x);
  }
  return out;
}

/** f(x), f(-x) and g(x) of the symmetric route for every point of b (one call per argument, stored apart). */
function balancedColumns(model: GeneratorModel, f: number, thermal: ThermalModel, b: PointBatch): Float64Array[] {
  const w = frequencyBatch(model, f, b);
  const temps = b.columns[TEMPERATURE];
  const p0 = new Float64Array(b.size);
  const p1 = new Float64Array(b.size);
  const p2 = new Float64Array(b.size);
  const three = new Float64Array(3);
  for (let i = 0; i < b.size; i++) {
    const T = typeof temps === 'number' ? temps : ((temps as Float64Array)[i] as number);
    balancedFactors(thermal, betaOf(T) * (typeof w === 'number' ? w : (w[i] as number)), three);
    p0[i] = three[0] as number;
    p1[i] = three[1] as number;
    p2[i] = three[2] as number;
  }
  return [p0, p1, p2];
}

/** Populations exp(-s beta E_i)/Z of H0's eigenstates for every point of b, nStates values per point. */
function populationColumns(es: NonNullable<GeneratorModel['eigen']>, sign: 1 | -1, b: PointBatch): Float64Array {
  const nStates = es.dim;
  const temps = b.columns[TEMPERATURE];
  const nParts = es.parts.length;
  const thetas: Array<Float64Array | number> = [];
  for (let m = 0; m < nParts; m++) thetas.push((es.parts[m] as (typeof es.parts)[number]).theta.batch(b));
  const out = new Float64Array(b.size * nStates);
  const e = new Float64Array(nStates);
  for (let i = 0; i < b.size; i++) {
    const T = typeof temps === 'number' ? temps : ((temps as Float64Array)[i] as number);
    const beta = betaOf(T);
    e.fill(0);
    for (let m = 0; m < nParts; m++) {
      const th = thetas[m] as Float64Array | number;
      const t = typeof th === 'number' ? th : (th[i] as number);
      const em = es.energies[m] as Float64Array;
      for (let k = 0; k < nStates; k++) e[k] = (e[k] as number) + t * (em[k] as number);
    }
    // shift by the extreme level so that millikelvin temperatures do not overflow
    let ref = sign > 0 ? Infinity : -Infinity;
    for (let k = 0; k < nStates; k++) ref = sign > 0 ? Math.min(ref, e[k] as number) : Math.max(ref, e[k] as number);
    let z = 0;
    for (let k = 0; k < nStates; k++) {
      const w = Math.exp(-sign * beta * ((e[k] as number) - ref));
      out[i * nStates + k] = w;
      z += w;
    }
    const iz = 1 / z;
    for (let k = 0; k < nStates; k++) out[i * nStates + k] = (out[i * nStates + k] as number) * iz;
  }
  return out;
}

/** Coefficient factor tables for one spec, grid and thermal model. */
export class CoefficientTables {
  readonly grid: SweepGrid;
  readonly thermal: ThermalModel;
  readonly tables: FactorTable[] = [];
  /** For compact term k: table ids of its strength, spectral density and thermal factor. */
  readonly termTables: Int32Array;
  /**
   * Populations exp(-s beta E_i)/Z of H0's eigenstates (s = +1 Boltzmann, -1 inverted), as
   * tables of nStates values per point over the dimensions of T and H0's coefficients.
   */
  readonly populationTables: { readonly thermal: number; readonly inverted: number | undefined };
  readonly nStates: number;
  readonly nTerms: number;
  /**
   * Symmetric route of the detailed-balance models: table ids of f(x), f(-x) and
   * g(x) = sqrt(f(x) f(-x)) per frequency index, [3 f + 0..2] (-1 where not tabulated).
   */
  readonly balancedIndex: Int32Array;

  constructor(model: GeneratorModel, compact: readonly CompactTerm[], grid: SweepGrid, thermal: ThermalModel, options: { inverted?: boolean; balanced?: readonly number[] } = {}) {
    this.grid = grid;
    this.thermal = thermal;
    this.nTerms = compact.length;
    const cache = new Map<string, number>();
    const batches: BatchCache = new Map();
    const tables = this.tables;
    this.termTables = new Int32Array(3 * compact.length);
    for (let k = 0; k < compact.length; k++) {
      const c = (compact[k] as CompactTerm).coefficient;
      if (c.part === 'coherent') {
        // -i [H_m, .] times h_m(p): the strength table alone, J and thermal factor are 1
        const st = model.strengths[c.strength];
        if (!st) throw new Error('strength index out of range');
        const one = cachedTable(cache, tables, 'const1', () => tabulate(grid, [], () => 1));
        this.termTables[3 * k] = cachedTable(cache, tables, `s${c.strength}`, () => tabulate(grid, st.value.deps, (b) => st.value.batch(b), 1, batches));
        this.termTables[3 * k + 1] = one;
        this.termTables[3 * k + 2] = one;
        continue;
      }
      const strength = model.strengths[c.strength];
      const sd = model.spectrals[c.spectral] as SpectralDensity;
      if (!strength) throw new Error('strength index out of range');
      const sid = cachedTable(cache, tables, `s${c.strength}`, () => tabulate(grid, strength.value.deps, (b) => strength.value.batch(b), 1, batches));
      const fdeps = frequencyDeps(model, c.frequency);
      const jid = cachedTable(cache, tables, `J${c.spectral}|${c.frequency}`, () =>
        tabulate(grid, [...spectralDeps(sd), ...fdeps], (b) => spectralBatch(sd, frequencyBatch(model, c.frequency, b), b, new Float64Array(b.size)), 1, batches),
      );
      // the even part is 1 except for bengs-levitt, the odd part 0 for the semiclassical
      // models: those factors are constants, not (T, B0) tables
      // normalised thermal factors (t1t2): e/e = 1 in every model, o/e a (T, B0) table
      const constant = c.part === 'dc' ? (!c.normalised && evenDependsOnTemperature(thermal) ? undefined : 1) : hasThermalPart(thermal) ? undefined : 0;
      const tid = cachedTable(cache, tables, constant !== undefined ? `const${constant}` : `${c.normalised ? 'n' : ''}${c.part}${c.frequency}`, () =>
        constant !== undefined ? tabulate(grid, [], () => constant) : tabulate(grid, [TEMPERATURE, ...fdeps], (b) => thermalFactorColumn(model, c.frequency, c.part === 'dc' ? 'even' : c.normalised ? 'normalised-odd' : 'odd', thermal, b), 1, batches),
      );
      this.termTables[3 * k] = sid;
      this.termTables[3 * k + 1] = jid;
      this.termTables[3 * k + 2] = tid;
    }
    this.balancedIndex = new Int32Array(3 * model.frequencies.length).fill(-1);
    for (const f of options.balanced ?? []) {
      if (this.balancedIndex[3 * f] !== -1) continue;
      const fdeps = frequencyDeps(model, f);
      // the three factors of an argument come from one call: tabulated together, stored apart
      let parts: Float64Array[] | undefined;
      for (let part = 0; part < 3; part++) {
        this.balancedIndex[3 * f + part] = cachedTable(cache, tables, `bal${part}|${f}`, () =>
          tabulate(grid, [TEMPERATURE, ...fdeps], (b) => {
            parts ??= balancedColumns(model, f, thermal, b);
            return parts[part] as Float64Array;
          }, 1, batches),
        );
      }
    }
    const es = model.eigen;
    if (!es) throw new Error('coefficient tables exist only on the fixed-basis path');
    const nStates = es.dim;
    this.nStates = nStates;
    const popDeps = [TEMPERATURE, ...es.parts.flatMap((p) => [...p.theta.deps])];
    this.populationTables = {
      thermal: cachedTable(cache, tables, 'pop+', () => tabulate(grid, popDeps, (b) => populationColumns(es, 1, b), nStates, batches)),
      // only a spec whose initial state is `inverted` needs these (exp per level per point)
      inverted: options.inverted ? cachedTable(cache, tables, 'pop-', () => tabulate(grid, popDeps, (b) => populationColumns(es, -1, b), nStates, batches)) : undefined,
    };
  }
}

/**
 * Walks a flat range of the grid keeping every table's index current with an odometer:
 * advancing the last dimension costs one add per table.
 */
export class TableCursor {
  readonly index: Int32Array;
  private readonly dimIndex: Int32Array;
  private readonly lengths: Int32Array;
  private readonly strides: Int32Array; // [table][dim]
  private readonly nDims: number;
  private readonly nTables: number;

  constructor(ct: CoefficientTables) {
    const grid = ct.grid;
    this.nDims = grid.dims.length;
    this.nTables = ct.tables.length;
    this.lengths = Int32Array.from(grid.dims.map((d) => d.length));
    this.strides = new Int32Array(this.nTables * this.nDims);
    for (let j = 0; j < ct.tables.length; j++) this.strides.set((ct.tables[j] as FactorTable).strides, j * this.nDims);
    this.index = new Int32Array(this.nTables);
    this.dimIndex = new Int32Array(this.nDims);
  }

  /** Position at a per-model flat index. */
  seek(flat: number, gridStrides: readonly number[]): void {
    for (let k = 0; k < this.nDims; k++) this.dimIndex[k] = Math.floor(flat / (gridStrides[k] as number)) % (this.lengths[k] as number);
    for (let t = 0; t < this.nTables; t++) {
      let s = 0;
      for (let k = 0; k < this.nDims; k++) s += (this.dimIndex[k] as number) * (this.strides[t * this.nDims + k] as number);
      this.index[t] = s;
    }
  }

  next(): void {
    let k = this.nDims - 1;
    while (k >= 0) {
      const i = (this.dimIndex[k] as number) + 1;
      if (i < (this.lengths[k] as number)) {
        this.dimIndex[k] = i;
        for (let t = 0; t < this.nTables; t++) this.index[t] = (this.index[t] as number) + (this.strides[t * this.nDims + k] as number);
        return;
      }
      this.dimIndex[k] = 0;
      const back = (this.lengths[k] as number) - 1;
      for (let t = 0; t < this.nTables; t++) this.index[t] = (this.index[t] as number) - back * (this.strides[t * this.nDims + k] as number);
      k--;
    }
  }
}

/**
 * Bytes the coefficient tables of one variant take, computed from the dependencies alone
 * (nothing is allocated): the tables, plus the sub-grid batches they are tabulated from.
 * The admission check compares it with the memory budget before a run starts.
 */
export function coefficientTableBytes(model: GeneratorModel, compact: readonly CompactTerm[], grid: SweepGrid, options: { inverted?: boolean } = {}): { bytes: number; largest: { values: number; dims: string[] } } {
  const es = model.eigen;
  if (!es) return { bytes: 0, largest: { values: 0, dims: [] } };
  const sizes = new Map<string, { values: number; dims: number[] }>();
  const batches = new Map<string, number>();
  const note = (key: string, deps: Iterable<string>, width = 1): void => {
    if (sizes.has(key)) return;
    const dims = depsToDims(grid, deps);
    const size = dims.reduce((a, k) => a * (grid.dims[k] as GridDim).length, 1);
    sizes.set(key, { values: size * width, dims });
    const bk = dims.join(',');
    if (!batches.has(bk)) batches.set(bk, size * dims.reduce((a, k) => a + (grid.dims[k] as GridDim).params.length, 0));
  };
  for (const t of compact) {
    const c = t.coefficient;
    const strength = model.strengths[c.strength];
    const sd = model.spectrals[c.spectral] as SpectralDensity;
    if (!strength) continue;
    note(`s${c.strength}`, strength.value.deps);
    // a coherent term's coefficient is its strength alone (no frequency, no spectral density)
    if (c.part === 'coherent') continue;
    const fdeps = frequencyDeps(model, c.frequency);
    note(`J${c.spectral}|${c.frequency}`, [...spectralDeps(sd), ...fdeps]);
    note(`${c.part}${c.frequency}`, [TEMPERATURE, ...fdeps]);
  }
  const popDeps = [TEMPERATURE, ...es.parts.flatMap((p) => [...p.theta.deps])];
  note('pop+', popDeps, es.dim);
  if (options.inverted) note('pop-', popDeps, es.dim);
  let values = 0;
  let largest = { values: 0, dims: [] as string[] };
  for (const s of sizes.values()) {
    values += s.values;
    if (s.values > largest.values) largest = { values: s.values, dims: s.dims.map((k) => (grid.dims[k] as GridDim).name) };
  }
  for (const b of batches.values()) values += b;
  return { bytes: values * 8, largest };
}
