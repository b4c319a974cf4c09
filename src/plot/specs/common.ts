/** Shared pieces of the vega-lite specs: config, color scales, cell edges. Pure functions. */
import type { AxisKind } from '../run-directory.js';

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
  legend: { labelFontSize: 11, titleFontSize: 12, titleFontWeight: 'normal', gradientLength: 220, labelLimit: 260 },
  header: { labelFontSize: 12, titleFontSize: 12, titleFontWeight: 'normal' },
  title: { fontSize: 14, subtitleFontSize: 11, anchor: 'start', subtitleColor: '#444', offset: 10 },
  line: { strokeWidth: 1.6 },
};

/**
 * Tick labels readable over any range: plain digits between 1e-3 and 1e5, otherwise
 * scientific (vega's defaults would print SI prefixes on log axes: 100p for 1e-10).
 */
export const NUMBER_LABEL = "datum.value == 0 ? '0' : abs(datum.value) >= 1e-3 && abs(datum.value) < 1e5 ? format(datum.value, '~r') : format(datum.value, '.2~e')";

/**
 * Axis label settings: on log axes a plain format, so vega keeps thinning the labels of the
 * minor ticks (a labelExpr would label every one of them).
 */
export function axisLabels(log: boolean): VlSpec {
  return log ? { format: '~g' } : { labelExpr: NUMBER_LABEL };
}

export const SCHEMA = 'https://vega.github.io/schema/vega-lite/v6.json';

export interface ColorScale {
  readonly type: 'linear' | 'log';
  readonly diverging: boolean;
}

/**
 * Log color when every value is positive and they span at least two decades; a diverging
 * scheme centred on 0 for differences and signed data.
 */
export function chooseColorScale(lo: number, hi: number, signedHint: boolean): ColorScale {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return { type: 'linear', diverging: false };
  if (signedHint || (lo < 0 && hi > 0)) return { type: 'linear', diverging: true };
  if (lo > 0 && hi / lo >= 100) return { type: 'log', diverging: false };
  return { type: 'linear', diverging: false };
}

export function colorScaleSpec(c: ColorScale): VlSpec {
  if (c.diverging) return { type: 'linear', scheme: 'redblue', reverse: true, domainMid: 0 };
  return { type: c.type, scheme: 'viridis', ...(c.type === 'log' ? {} : { zero: false }), nice: false };
}

/** Positional scale for a numeric axis of the given kind (values axes are drawn linearly). */
export function positionScale(kind: AxisKind, lo: number, hi: number): VlSpec {
  const log = kind === 'log' && lo > 0;
  return log ? { type: 'log', domain: [lo, hi], nice: false } : { type: 'linear', domain: [lo, hi], nice: false, zero: false };
}

/** Whether values spread over at least two decades and are all positive: log y axis. */
export function spansDecades(lo: number, hi: number): boolean {
  return Number.isFinite(lo) && lo > 0 && hi / lo >= 100;
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
