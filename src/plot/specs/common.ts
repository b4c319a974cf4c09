/** Shared pieces of the vega-lite specs: config, axes, color scales, cell edges. Pure functions. */
import { linearTicks, logTicks, symlogTicks, tickProps, type TickPlan } from '../ticks.js';

/** A vega-lite spec as built here; render.ts hands it to vega-lite's compiler, which checks it. */
export type VlSpec = Record<string, unknown>;

/**
 * DejaVu Sans first: it is what the PNG renderer finds on Debian (fonts-dejavu-core), and
 * vega sizes text by estimate, so a wider fallback font would overflow labels.
 */
export const FONT = 'DejaVu Sans, Verdana, Arial, sans-serif';

export const BASE_CONFIG: VlSpec = {
  // Per-mark ARIA labels repeat every data field of every heatmap cell: most of the SVG.
  aria: false,
  font: FONT,
  background: 'white',
  padding: 8,
  view: { stroke: '#888', strokeWidth: 0.5 },
  axis: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', grid: false, tickColor: '#444', domainColor: '#444' },
  // No length limits: a truncated legend title or label (`ss_over_boltzmann…`) hides what is drawn.
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gradientLength: 220, labelLimit: 0, titleLimit: 0, titlePadding: 10 },
  header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal', labelLimit: 0 },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start', subtitleColor: '#444', offset: 10, limit: 0 },
  line: { strokeWidth: 1.6 },
};

/** A numeric position axis: scale type, explicit domain and the ticks drawn on it. */
export interface AxisScale {
  readonly log: boolean;
  readonly domain: readonly [number, number];
  readonly ticks: TickPlan;
}

/** Log when asked and possible (positive domain), with ticks planned for the domain. */
export function axisScale(lo: number, hi: number, log: boolean): AxisScale {
  const isLog = log && lo > 0 && hi > 0;
  return { log: isLog, domain: [lo, hi], ticks: isLog ? logTicks(lo, hi) : linearTicks(lo, hi) };
}

/**
 * A value axis over data in [lo, hi], padded so lines do not run along the frame. A point
 * range (a constant) is widened around the value, by `scale` when the value is 0.
 */
export function valueAxisScale(lo: number, hi: number, log: boolean, scale = 0): AxisScale {
  if (log && lo > 0 && hi > lo) return axisScale(lo / 1.15, hi * 1.15, true);
  if (!(hi > lo)) {
    const w = Math.abs(lo) > 0 ? 0.1 * Math.abs(lo) : scale > 0 ? 0.1 * scale : 1;
    return axisScale(lo - w, lo + w, false);
  }
  const pad = 0.05 * (hi - lo);
  return axisScale(lo - pad, hi + pad, false);
}

export function scaleSpec(a: AxisScale): VlSpec {
  return a.log ? { type: 'log', domain: [...a.domain], nice: false } : { type: 'linear', domain: [...a.domain], nice: false, zero: false };
}

/** Encoding of a quantitative position channel with the planned ticks. */
export function positionEncoding(field: string, title: string, a: AxisScale, axis: VlSpec = {}): VlSpec {
  return { field, type: 'quantitative', title, scale: scaleSpec(a), axis: { ...tickProps(a.ticks), ...axis } };
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

/** The one colour of a constant surface (viridis at its middle). */
export const CONSTANT_COLOR = '#21918c';

/**
 * Colour of a heatmap. Sequential viridis (log when positive over two decades or more); a
 * diverging red-blue scale symmetric about 0 (symlog when the differences span decades,
 * linear below `symlog`); or one colour for a surface that is constant to round-off.
 */
export type ColorSpec =
  | { readonly kind: 'sequential'; readonly log: boolean; readonly domain: readonly [number, number] }
  | { readonly kind: 'diverging'; readonly max: number; readonly symlog: number | null }
  | { readonly kind: 'constant'; readonly value: number };

/** Whether values spread over at least two decades and are all positive: log axis or colour. */
export function spansDecades(lo: number, hi: number): boolean {
  return Number.isFinite(lo) && lo > 0 && hi / lo >= 100;
}

export function sequentialColor(lo: number, hi: number): ColorSpec {
  return { kind: 'sequential', log: spansDecades(lo, hi), domain: [lo, hi] };
}

export function colorTicks(c: ColorSpec): TickPlan {
  switch (c.kind) {
    case 'sequential':
      return c.log ? logTicks(c.domain[0], c.domain[1]) : linearTicks(c.domain[0], c.domain[1]);
    case 'diverging':
      return c.symlog !== null ? symlogTicks(c.max, c.symlog) : linearTicks(-c.max, c.max, 4);
    case 'constant':
      return linearTicks(c.value, c.value);
  }
}

export function colorScaleSpec(c: ColorSpec): VlSpec {
  switch (c.kind) {
    case 'sequential':
      return c.log ? { type: 'log', scheme: 'viridis', domain: [...c.domain], nice: false } : { type: 'linear', scheme: 'viridis', domain: [...c.domain], zero: false, nice: false };
    case 'diverging':
      return {
        type: c.symlog !== null ? 'symlog' : 'linear',
        ...(c.symlog !== null ? { constant: c.symlog } : {}),
        scheme: 'redblue',
        reverse: true,
        domain: [-c.max, c.max],
        nice: false,
      };
    case 'constant':
      return { range: [CONSTANT_COLOR] };
  }
}

/**
 * Cell boundaries around each coordinate: arithmetic midpoints on a linear axis, geometric
 * ones on a log axis, the outer cells mirrored. Works for ascending or descending values.
 */
export function cellEdges(values: ArrayLike<number>, log: boolean): { lo: Float64Array; hi: Float64Array } {
  const n = values.length;
  const t = (v: number): number => (log ? Math.log(v) : v);
  const u = (v: number): number => (log ? Math.exp(v) : v);
  const lo = new Float64Array(n);
  const hi = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const c = t(values[i] as number);
    const prev = i > 0 ? t(values[i - 1] as number) : undefined;
    const next = i < n - 1 ? t(values[i + 1] as number) : undefined;
    let half: number;
    if (prev !== undefined && next !== undefined) half = NaN;
    else if (prev !== undefined) half = (c - prev) / 2;
    else if (next !== undefined) half = (next - c) / 2;
    else half = log ? Math.log(10) / 2 : Math.abs(c) > 0 ? Math.abs(c) / 2 : 0.5;
    const a = prev !== undefined ? (prev + c) / 2 : c - half;
    const b = next !== undefined ? (c + next) / 2 : c + half;
    lo[i] = u(Math.min(a, b));
    hi[i] = u(Math.max(a, b));
  }
  return { lo, hi };
}

/** Plain number for data rows: vega treats null as missing, NaN as a number. */
export function num(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}
