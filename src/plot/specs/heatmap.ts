/** Vega-lite heatmap of one surface over two sweep axes, optionally faceted. Pure. */
import type { AxisKind } from '../run-directory.js';
import { tickProps } from '../ticks.js';
import { BASE_CONFIG, CONSTANT_COLOR, SCHEMA, axisScale, cellEdges, colorScaleSpec, colorTicks, num, positionEncoding, type ColorSpec, type VlSpec } from './common.js';

export interface HeatAxis {
  readonly title: string;
  readonly kind: AxisKind;
  /** Coordinate of each index. */
  readonly coords: ArrayLike<number>;
  /** Display label of each index (used as band labels on a `values` axis); distinct. */
  readonly labels: readonly string[];
}

export interface FacetInput {
  readonly title: string;
  readonly labels: readonly string[];
}

export interface HeatmapInput {
  /** One line, or several (wrapped to the figure width). */
  readonly title: string | readonly string[];
  readonly subtitle: readonly string[];
  readonly x: HeatAxis;
  readonly y: HeatAxis;
  /** Column facet first, then row facet. */
  readonly facets: readonly FacetInput[];
  /** Row-major over (facets..., y, x). */
  readonly values: ArrayLike<number>;
  readonly colorTitle: string;
  readonly color: ColorSpec;
}

const FACET_KEYS = ['f0', 'f1'] as const;

interface AxisEnc {
  readonly enc: VlSpec;
  readonly enc2: VlSpec | null;
  readonly row: (i: number) => Record<string, unknown>;
}

/**
 * A `values` axis (irregular list of values) is drawn as equal bands, which keeps every value
 * visible; lin and log axes get true cell extents so spacing reads correctly.
 */
function axisEncoding(a: HeatAxis, channel: 'x' | 'y'): AxisEnc {
  const key = channel;
  if (a.kind === 'values' || a.kind === 'category') {
    const order = a.labels.map((l, i) => ({ l, v: a.coords[i] as number }));
    if (a.kind === 'values') order.sort((p, q) => p.v - q.v);
    const sort = order.map((o) => o.l);
    return {
      // y bands run top to bottom, so reverse them to put small values at the bottom.
      enc: { field: key, type: 'ordinal', title: a.title, sort: channel === 'y' ? [...sort].reverse() : sort, axis: { labelAngle: 0 } },
      enc2: null,
      row: (i) => ({ [key]: a.labels[i] }),
    };
  }
  let lo = Infinity;
  let hi = -Infinity;
  const log = a.kind === 'log' && Array.from(a.coords).every((v) => v > 0);
  const edges = cellEdges(a.coords, log);
  for (let i = 0; i < a.coords.length; i++) {
    lo = Math.min(lo, edges.lo[i] as number);
    hi = Math.max(hi, edges.hi[i] as number);
  }
  return {
    enc: positionEncoding(`${key}0`, a.title, axisScale(lo, hi, log)),
    enc2: { field: `${key}1` },
    row: (i) => ({ [`${key}0`]: edges.lo[i], [`${key}1`]: edges.hi[i] }),
  };
}

/** Color and stroke channels; a constant surface is one colour with no colour bar. */
function colorEncoding(input: HeatmapInput): VlSpec {
  const c = input.color;
  if (c.kind === 'constant') return { color: { value: CONSTANT_COLOR }, stroke: { value: CONSTANT_COLOR } };
  const scale = colorScaleSpec(c);
  return {
    color: { field: 'v', type: 'quantitative', title: input.colorTitle, scale, legend: { ...tickProps(colorTicks(c)) } },
    // The same color as a hairline stroke closes the anti-aliasing seams between cells.
    // (A field of its own, or vega-lite merges the two legends.)
    stroke: { field: 'w', type: 'quantitative', scale, legend: null },
  };
}

export function heatmapSpec(input: HeatmapInput): VlSpec {
  const nx = input.x.coords.length;
  const ny = input.y.coords.length;
  const xe = axisEncoding(input.x, 'x');
  const ye = axisEncoding(input.y, 'y');
  const facetSizes = input.facets.map((f) => f.labels.length);
  const panels = facetSizes.reduce((a, b) => a * b, 1);
  const logColor = input.color.kind === 'sequential' && input.color.log;
  const rows: Record<string, unknown>[] = [];
  for (let p = 0; p < panels; p++) {
    const facetRow: Record<string, unknown> = {};
    let rem = p;
    for (let k = input.facets.length - 1; k >= 0; k--) {
      const n = facetSizes[k] as number;
      facetRow[FACET_KEYS[k] as string] = (input.facets[k] as FacetInput).labels[rem % n];
      rem = Math.floor(rem / n);
    }
    for (let j = 0; j < ny; j++) {
      for (let i = 0; i < nx; i++) {
        const v = num(input.values[(p * ny + j) * nx + i] as number);
        if (v === null || (logColor && v <= 0)) continue;
        rows.push({ ...facetRow, ...xe.row(i), ...ye.row(j), v, w: v });
      }
    }
  }
  const encoding: VlSpec = { x: xe.enc, y: ye.enc, ...colorEncoding(input) };
  if (xe.enc2) encoding.x2 = xe.enc2;
  if (ye.enc2) encoding.y2 = ye.enc2;
  const faceted = input.facets.length > 0;
  const size = faceted ? { width: 300, height: 220 } : { width: 440, height: 320 };
  const unit: VlSpec = { ...size, mark: { type: 'rect', tooltip: false, strokeWidth: 0.5 }, encoding };
  const base: VlSpec = {
    $schema: SCHEMA,
    title: { text: typeof input.title === 'string' ? input.title : [...input.title], subtitle: [...input.subtitle] },
    data: { values: rows },
    config: BASE_CONFIG,
  };
  if (!faceted) return { ...base, ...unit };
  const facet: VlSpec = {};
  input.facets.forEach((f, k) => {
    facet[k === 0 ? 'column' : 'row'] = { field: FACET_KEYS[k], type: 'nominal', title: f.title, sort: [...f.labels] };
  });
  return { ...base, facet, spec: unit, resolve: { scale: { color: 'shared' } } };
}
