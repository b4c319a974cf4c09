/** Vega-lite line charts: 1-D surfaces and trajectories. Pure. */
import type { AxisKind } from '../run-directory.js';
import { BASE_CONFIG, SCHEMA, axisLabels, positionScale, type VlSpec } from './common.js';
import type { FacetInput } from './heatmap.js';

export interface LinePoint {
  readonly x: number;
  readonly y: number;
  /** Series label (color). */
  readonly s?: string;
  readonly f0?: string;
  readonly f1?: string;
}

export interface LineChartInput {
  readonly title: string;
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
  /** Color scheme of the series (default viridis; categorical series such as models read better with category10). */
  readonly seriesScheme?: string;
  /** Dash pattern by series as well as color: lines that coincide stay visible. */
  readonly seriesDash?: boolean;
}

export function lineChartSpec(input: LineChartInput): VlSpec {
  const pts = input.points.filter((p) => Number.isFinite(p.x) && Number.isFinite(p.y) && (!input.yLog || p.y > 0));
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
  const encoding: VlSpec = {
    x: { field: 'x', type: 'quantitative', title: input.xTitle, scale: positionScale(input.xKind, lo, hi), axis: axisLabels(input.xKind === 'log' && lo > 0) },
    y: { field: 'y', type: 'quantitative', title: input.yTitle, scale: input.yLog ? { type: 'log' } : { zero: false }, axis: axisLabels(input.yLog) },
  };
  if (input.seriesTitle !== null) {
    encoding.color = { field: 's', type: 'ordinal', title: input.seriesTitle, sort: [...input.seriesOrder], scale: { scheme: input.seriesScheme ?? 'viridis' } };
    if (input.seriesDash) encoding.strokeDash = { field: 's', type: 'nominal', title: input.seriesTitle, sort: [...input.seriesOrder] };
  }
  const faceted = input.facets.length > 0;
  const unit: VlSpec = {
    ...(faceted ? { width: 300, height: 200 } : { width: 460, height: 300 }),
    mark: { type: 'line', point: pts.length <= 200 ? { size: 16 } : false },
    encoding,
  };
  const base: VlSpec = {
    $schema: SCHEMA,
    title: { text: input.title, subtitle: [...input.subtitle] },
    data: { values: pts },
    config: BASE_CONFIG,
  };
  if (!faceted) return { ...base, ...unit };
  const facet: VlSpec = {};
  input.facets.forEach((f, k) => {
    facet[k === 0 ? 'column' : 'row'] = { field: k === 0 ? 'f0' : 'f1', type: 'nominal', title: f.title, sort: [...f.labels] };
  });
  return { ...base, facet, spec: unit, resolve: { scale: { y: 'independent' } } };
}
