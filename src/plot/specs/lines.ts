/**
 * Vega-lite line charts: 1-D surfaces, trajectories, relaxation dispersion. Panels are
 * concatenated (not faceted) so that each gets its own value axis with planned ticks, and a
 * panel whose values are constant to round-off is drawn as a flat line around its value
 * instead of stretching the noise over the axis. Pure.
 */
import type { AxisKind } from '../run-directory.js';
import { constancy, type Constancy } from '../value-scale.js';
import { BASE_CONFIG, SCHEMA, axisScale, positionEncoding, valueAxisScale, type AxisScale, type VlSpec } from './common.js';
import type { FacetInput } from './heatmap.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  /** Series label (color). */
  readonly s?: string;
  readonly f0?: string;
  readonly f1?: string;
}

/** A second x axis on top, proportional to the first (1H Larmor frequency over B0). */
export interface SecondaryAxis {
  readonly title: string;
  readonly factor: number;
}

export interface LineChartInput {
  readonly title: string | readonly string[];
  readonly subtitle: readonly string[];
  readonly xTitle: string;
  readonly xKind: AxisKind;
  readonly yTitle: string;
  readonly yLog: boolean;
  /** Null: a single series per panel. */
  readonly seriesTitle: string | null;
  readonly seriesOrder: readonly string[];
  /** Column facet first, then row facet. */
  readonly facets: readonly FacetInput[];
  /** Non-finite values are left out (gaps). */
  readonly points: readonly LinePoint[];
  /** The observable's scale (largest |eigenvalue|) when the values are expectation values. */
  readonly spectrum?: number;
  readonly secondaryX?: SecondaryAxis;
  /** Draw points at the data (default: when there are at most 200). */
  readonly markers?: boolean;
  /** Formats the value of a constant panel for its title. */
  readonly formatValue?: (v: number) => string;
}

export interface LineChartResult {
  readonly spec: VlSpec;
  /** Panels drawn as constant, with the value. */
  readonly constantPanels: ReadonlyArray<{ readonly panel: string; readonly c: Constancy }>;
}

function xScaleOf(input: LineChartInput, pts: readonly LinePoint[]): AxisScale {
  let lo = Infinity;
  let hi = -Infinity;
  for (const p of pts) {
    lo = Math.min(lo, p.x);
    hi = Math.max(hi, p.x);
  }
  if (!(lo < hi)) {
    lo = Number.isFinite(lo) ? lo - 0.5 : 0;
    hi = Number.isFinite(hi) ? hi + 0.5 : 1;
  }
  return axisScale(lo, hi, input.xKind === 'log' && lo > 0);
}

export function lineChart(input: LineChartInput): LineChartResult {
  const pts = input.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!input.yLog || p.y > 0));
  const x = xScaleOf(input, pts);
  const f0 = input.facets[0];
  const f1 = input.facets[1];
  const cols = f0?.labels ?? [null];
  const rows = f1?.labels ?? [null];
  const faceted = input.facets.length > 0;
  const markers = input.markers ?? pts.length <= 200;
  const constantPanels: Array<{ panel: string; c: Constancy }> = [];
  const panel = (c0: string | null, c1: string | null): VlSpec => {
    const data = pts.filter((p) => (c0 === null || p.f0 === c0) && (c1 === null || p.f1 === c1));
    const ys = data.map((p) => p.y);
    const c = constancy(ys, input.spectrum ?? 0);
    let y: AxisScale;
    const name = [f0 && c0 !== null ? `${f0.title} = ${c0}` : '', f1 && c1 !== null ? `${f1.title} = ${c1}` : ''].filter((s) => s !== '').join(', ');
    if (c.constant) {
      constantPanels.push({ panel: name, c });
      y = valueAxisScale(c.value, c.value, false, c.scale);
    } else {
      let lo = Infinity;
      let hi = -Infinity;
      for (const v of ys) {
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      y = valueAxisScale(lo, hi, input.yLog, c.scale);
    }
    // A constant panel plots its value: the round-off spread would otherwise be the picture.
    const values = c.constant ? data.map((p) => ({ ...p, y: c.value })) : data;
    const encoding: VlSpec = {
      x: positionEncoding('x', input.xTitle, x),
      y: positionEncoding('y', input.yTitle, y),
    };
    if (input.seriesTitle !== null) {
      encoding.color = { field: 's', type: 'ordinal', title: input.seriesTitle, sort: [...input.seriesOrder], scale: { scheme: 'viridis', domain: [...input.seriesOrder] } };
    }
    const line: VlSpec = { mark: { type: 'line', point: markers ? { size: 16 } : false }, encoding };
    const size = faceted ? { width: 300, height: 200 } : { width: 460, height: 300 };
    const constText = c.constant && input.formatValue ? `constant: ${input.formatValue(c.value)}` : c.constant ? 'constant' : '';
    const title = [name, constText].filter((s) => s !== '').join(' · ');
    const head: VlSpec = { ...size, data: { values }, ...(faceted && title ? { title: { text: title, fontSize: 12, fontWeight: 'normal' } } : {}) };
    if (!input.secondaryX) return { ...head, ...line };
    // The top axis: an invisible layer over the same points in the proportional coordinate.
    const k = input.secondaryX.factor;
    const top = axisScale(x.domain[0] * k, x.domain[1] * k, x.log);
    const ghost: VlSpec = {
      // two invisible points at the ends of the domain carry the top axis
      data: { values: [{ xs: top.domain[0], y: y.domain[0] }, { xs: top.domain[1], y: y.domain[1] }] },
      mark: { type: 'point', opacity: 0 },
      encoding: { x: positionEncoding('xs', input.secondaryX.title, top, { orient: 'top' }), y: positionEncoding('y', input.yTitle, y) },
    };
    return { ...head, layer: [line, ghost], resolve: { scale: { x: 'independent' }, axis: { x: 'independent' } } };
  };
  const grid = rows.map((r) => cols.map((c) => panel(c, r)));
  const base: VlSpec = {
    $schema: SCHEMA,
    title: { text: typeof input.title === 'string' ? input.title : [...input.title], subtitle: [...input.subtitle] },
    config: BASE_CONFIG,
  };
  if (!faceted) {
    const only = grid[0]?.[0] as VlSpec;
    const single = constantPanels[0];
    const subtitle = single && input.formatValue ? [...input.subtitle, `constant to round-off: ${input.formatValue(single.c.value)} (spread ${single.c.spread.toExponential(1)})`] : [...input.subtitle];
    return { spec: { ...base, title: { ...(base.title as VlSpec), subtitle }, ...only }, constantPanels };
  }
  return { spec: { ...base, vconcat: grid.map((r) => ({ hconcat: r })), resolve: { scale: { color: 'shared' } } }, constantPanels };
}

/** The spec alone (callers that do not report constant panels). */
export function lineChartSpec(input: LineChartInput): VlSpec {
  return lineChart(input).spec;
}
