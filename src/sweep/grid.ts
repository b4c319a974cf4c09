import type { ThermalModel } from '../physics/thermalization.js';
import type { CheckedSpec } from '../spec/semantic.js';
import { axisKind, axisValues } from './axis-values.js';
import { powderNodes } from './powder.js';

/**
 * One dimension of a sweep: a single parameter axis, or several parameters zipped
 * together (same length, varying in lockstep) under a group name.
 */
export interface GridDim {
  /** Dimension name in the outputs: the parameter name, or the group name. */
  readonly name: string;
  readonly params: readonly string[];
  /** values[k] are the values of params[k] along the dimension. */
  readonly values: readonly Float64Array[];
  readonly length: number;
  /** lin | log | values, of the first parameter (decides log axes in plots). */
  readonly kind: 'lin' | 'log' | 'values';
  /** Powder axis (`{ powder: n }`): quadrature weights of the orientations (sum 1). */
  readonly powderWeights?: Float64Array;
}

/** A categorical combination: one thermalization model and one initial state. */
export interface Variant {
  readonly thermal: ThermalModel;
  /** Index into the spec's initial states. */
  readonly initial: number;
}

/** A categorical dimension of the outputs (present when the spec gives a list). */
export interface CategoricalDim {
  readonly name: 'thermalization' | 'initial';
  readonly labels: readonly string[];
}

/**
 * The full product of the numeric dimensions, in row-major order (last dimension
 * fastest), for each variant (thermalization model x initial state, thermalization
 * outermost). Parameters not swept keep their `parameters:` value.
 */
export interface SweepGrid {
  readonly dims: readonly GridDim[];
  /** Categorical dimensions, outermost first. */
  readonly categorical: readonly CategoricalDim[];
  readonly variants: readonly Variant[];
  readonly thermalizations: readonly ThermalModel[];
  readonly initials: readonly string[];
  /** Values of the used parameters that are not swept. */
  readonly fixed: Readonly<Record<string, number>>;
  /** Points per variant: product of the numeric dimension lengths. */
  readonly pointsPerVariant: number;
  /** Strides of the per-variant flat index over dims. */
  readonly strides: readonly number[];
}

export function buildGrid(checked: CheckedSpec): SweepGrid {
  const sweep = checked.spec.sweep ?? {};
  const dims: GridDim[] = [];
  const byGroup = new Map<string, { params: string[]; values: Float64Array[]; kind: GridDim['kind'] }>();
  for (const [name, axis] of Object.entries(sweep)) {
    const values = axisValues(axis);
    if (axis.group === undefined) {
      const powder = 'powder' in axis ? { powderWeights: powderNodes(axis.powder).weights } : {};
      dims.push({ name, params: [name], values: [values], length: values.length, kind: axisKind(axis), ...powder });
      continue;
    }
    let g = byGroup.get(axis.group);
    if (!g) {
      g = { params: [], values: [], kind: axisKind(axis) };
      byGroup.set(axis.group, g);
      // the group takes the position of its first member
      dims.push({ name: axis.group, params: g.params, values: g.values, length: values.length, kind: g.kind });
    }
    g.params.push(name);
    g.values.push(values);
  }
  const fixed: Record<string, number> = Object.create(null) as Record<string, number>;
  const params = checked.spec.parameters ?? {};
  const swept = new Set(dims.flatMap((d) => d.params));
  for (const name of checked.usedParameters) {
    if (swept.has(name)) continue;
    const v = Object.hasOwn(params, name) ? params[name] : undefined;
    if (v === undefined) throw new Error(`parameter ${name} has neither a value nor an axis`);
    fixed[name] = v;
  }
  const strides = new Array<number>(dims.length);
  let acc = 1;
  for (let k = dims.length - 1; k >= 0; k--) {
    strides[k] = acc;
    acc *= (dims[k] as GridDim).length;
  }
  const categorical: CategoricalDim[] = [];
  if (checked.thermalizationIsDimension) categorical.push({ name: 'thermalization', labels: checked.thermalizations });
  if (checked.initialIsDimension) categorical.push({ name: 'initial', labels: checked.initials.map((i) => i.label) });
  const variants: Variant[] = [];
  for (const thermal of checked.thermalizations) checked.initials.forEach((_, initial) => variants.push({ thermal, initial }));
  return {
    dims,
    categorical,
    variants,
    thermalizations: checked.thermalizations,
    initials: checked.initials.map((i) => i.label),
    fixed,
    pointsPerVariant: acc,
    strides,
  };
}

/** Total points including the categorical dimensions. */
export function totalPoints(grid: SweepGrid): number {
  return grid.pointsPerVariant * grid.variants.length;
}

/** Dimension indices of a flat (per-variant) index. */
export function dimIndices(grid: SweepGrid, flat: number, out: Int32Array = new Int32Array(grid.dims.length)): Int32Array {
  for (let k = 0; k < grid.dims.length; k++) {
    const s = grid.strides[k] as number;
    out[k] = Math.floor(flat / s) % (grid.dims[k] as GridDim).length;
  }
  return out;
}

/** Parameter values of one point (per-variant flat index). */
export function pointParams(grid: SweepGrid, flat: number): Record<string, number> {
  const p: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, grid.fixed);
  const idx = dimIndices(grid, flat);
  grid.dims.forEach((d, k) => d.params.forEach((name, j) => (p[name] = (d.values[j] as Float64Array)[idx[k] as number] as number)));
  return p;
}

/** Parameter ranges covered by a flat index range, for messages ("T 0.01..3.2 K"). */
export function rangeDescription(grid: SweepGrid, start: number, count: number): string {
  const parts: string[] = [];
  const lo = dimIndices(grid, start);
  const hi = dimIndices(grid, start + count - 1);
  grid.dims.forEach((d, k) => {
    const a = lo[k] as number;
    const b = hi[k] as number;
    // if the range wraps an inner dimension, the whole inner dimension is covered
    const wraps = grid.dims.slice(0, k).some((_, j) => lo[j] !== hi[j]);
    const [i0, i1] = wraps ? [0, d.length - 1] : [Math.min(a, b), Math.max(a, b)];
    d.params.forEach((name, j) => {
      const v = d.values[j] as Float64Array;
      parts.push(i0 === i1 ? `${name}=${v[i0]}` : `${name}=${v[i0]}..${v[i1]}`);
    });
  });
  return parts.join(', ');
}
