/**
 * Numeric spec fields are either constants or the name of a parameter. Keeping the
 * distinction (instead of resolving to numbers early) is what lets the generator model
 * know which factors depend on which sweep axes.
 */
export type Scalar = { readonly kind: 'const'; readonly value: number } | { readonly kind: 'param'; readonly name: string };

export type ParamValues = Readonly<Record<string, number>>;

/**
 * A batch of parameter points by column: each parameter is either one value per point
 * or a single number shared by the whole batch.
 */
export interface PointBatch {
  readonly size: number;
  readonly columns: Readonly<Record<string, Float64Array | number>>;
}

export const constant = (value: number): Scalar => ({ kind: 'const', value });
export const param = (name: string): Scalar => ({ kind: 'param', name });

export function scalarDeps(s: Scalar): string[] {
  return s.kind === 'param' ? [s.name] : [];
}

export function evalScalar(s: Scalar, p: ParamValues): number {
  if (s.kind === 'const') return s.value;
  // user-named parameters: never a look-up on Object.prototype (`constructor`, `toString`)
  const v = Object.hasOwn(p, s.name) ? p[s.name] : undefined;
  if (v === undefined) throw new Error(`parameter '${s.name}' has no value`);
  return v;
}

export function batchColumn(batch: PointBatch, name: string): Float64Array | number {
  const c = Object.hasOwn(batch.columns, name) ? batch.columns[name] : undefined;
  if (c === undefined) throw new Error(`parameter '${name}' has no value in the batch`);
  if (typeof c !== 'number' && c.length !== batch.size) {
    throw new Error(`parameter '${name}': column length ${c.length}, batch size ${batch.size}`);
  }
  return c;
}

export function evalScalarBatch(s: Scalar, batch: PointBatch): Float64Array | number {
  return s.kind === 'const' ? s.value : batchColumn(batch, s.name);
}

/** Value of a column-or-scalar at point i. */
export function at(c: Float64Array | number, i: number): number {
  return typeof c === 'number' ? c : (c[i] as number);
}

/** One point of a batch as a record. */
export function pointOf(batch: PointBatch, i: number): Record<string, number> {
  const out: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const [k, c] of Object.entries(batch.columns)) out[k] = at(c, i);
  return out;
}

/** A batch holding a single point. */
export function singlePointBatch(p: ParamValues): PointBatch {
  return { size: 1, columns: Object.assign(Object.create(null) as Record<string, number>, p) };
}

/**
 * A scalar derived from parameters, with its dependencies declared so that batched
 * evaluation can tell constants from per-point columns.
 */
export interface Derived {
  readonly deps: readonly string[];
  at(p: ParamValues): number;
  batch(b: PointBatch): Float64Array | number;
}

/** fn applied to the values of `inputs` (scalars), point by point. */
export function derived(inputs: readonly Scalar[], fn: (...v: number[]) => number): Derived {
  const deps = [...new Set(inputs.flatMap(scalarDeps))];
  // the methods only forward to module-level loops (README, "Layout": no per-job closures in set-up loops)
  return { deps, at: (p) => derivedAt(inputs, fn, p), batch: (b) => derivedBatch(inputs, fn, b) };
}

function derivedAt(inputs: readonly Scalar[], fn: (...v: number[]) => number, p: ParamValues): number {
  const args = new Array<number>(inputs.length);
  for (let k = 0; k < inputs.length; k++) args[k] = evalScalar(inputs[k] as Scalar, p);
  return fn(...args);
}

function derivedBatch(inputs: readonly Scalar[], fn: (...v: number[]) => number, b: PointBatch): Float64Array | number {
  const cols: Array<Float64Array | number> = [];
  let constant = true;
  for (const s of inputs) {
    const c = evalScalarBatch(s, b);
    if (typeof c !== 'number') constant = false;
    cols.push(c);
  }
  if (constant) return fn(...(cols as number[]));
  const out = new Float64Array(b.size);
  // one and two inputs without a spread per point (tables of 1e5 points are built this way)
  if (cols.length === 1) {
    const c0 = cols[0] as Float64Array;
    for (let i = 0; i < b.size; i++) out[i] = fn(c0[i] as number);
    return out;
  }
  if (cols.length === 2) {
    const [c0, c1] = cols as [Float64Array | number, Float64Array | number];
    for (let i = 0; i < b.size; i++) out[i] = fn(at(c0, i), at(c1, i));
    return out;
  }
  const args = new Array<number>(cols.length);
  for (let i = 0; i < b.size; i++) {
    for (let k = 0; k < cols.length; k++) args[k] = at(cols[k] as Float64Array | number, i);
    out[i] = fn(...args);
  }
  return out;
}
