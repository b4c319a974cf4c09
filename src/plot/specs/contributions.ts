/**
 * The seed's Figures 1 and 2 as a vega-lite spec: one panel per (initial state, mechanism),
 * the contributions to d<O>/dt of each eigenoperator component mu, double-commutator part in
 * red and thermal part in blue, against time. Pure.
 */
import { finiteRange } from '../slice.js';
import { constancy } from '../value-scale.js';
import { BASE_CONFIG, SCHEMA, axisScale, positionEncoding, valueAxisScale, type VlSpec } from './common.js';

export const DC_COLOR = '#d62728';
export const THERMAL_COLOR = '#1f77b4';

export interface ContributionPoint {
  readonly t: number;
  readonly v: number;
  /** Component label, e.g. `+2`. */
  readonly mu: string;
  readonly part: 'dc' | 'thermal';
}

export interface ContributionPanel {
  readonly title: string;
  readonly points: readonly ContributionPoint[];
}

export interface ContributionsInput {
  readonly title: string;
  readonly subtitle: readonly string[];
  readonly timeTitle: string;
  readonly yTitle: string;
  /** Rows (initial states) of columns (mechanisms). */
  readonly panels: readonly (readonly ContributionPanel[])[];
  readonly muOrder: readonly string[];
}

/** `+2`, `0`, `-1`: the sign is kept so legend entries line up. */
export function muLabel(mu: number): string {
  const s = String(Math.abs(mu));
  return mu > 0 ? `+${s}` : mu < 0 ? `-${s}` : s;
}

function panelSpec(panel: ContributionPanel, input: ContributionsInput, figureScale: number): VlSpec {
  const pts = panel.points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  const [t0, t1] = finiteRange(pts.map((p) => p.t));
  const x = axisScale(t0, t1 > t0 ? t1 : t0 + 1, false);
  // A panel whose contributions all vanish (singlet order under the dipolar mechanism) is a
  // flat zero line: measured against the figure's largest contribution, not its own noise.
  const c = constancy(pts.map((p) => p.v), figureScale);
  const [lo, hi] = finiteRange(pts.map((p) => p.v));
  const y = c.constant ? valueAxisScale(c.value, c.value, false, figureScale) : valueAxisScale(lo, hi, false);
  const values = c.constant ? pts.map((p) => ({ ...p, v: c.value })) : pts;
  return {
    width: 300,
    height: 200,
    title: { text: c.constant ? `${panel.title} · ${Math.abs(c.value) <= 1e-9 * figureScale ? 'all zero' : 'constant'}` : panel.title, fontSize: 12, fontWeight: 'normal' },
    data: { values },
    layer: [
      { mark: { type: 'rule', color: '#bbb', strokeWidth: 0.6 }, encoding: { y: { datum: 0, type: 'quantitative' } } },
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: positionEncoding('t', input.timeTitle, x),
          y: positionEncoding('v', input.yTitle, y),
          color: {
            field: 'part',
            type: 'nominal',
            title: 'part',
            scale: { domain: ['dc', 'thermal'], range: [DC_COLOR, THERMAL_COLOR] },
            legend: { labelExpr: "datum.label == 'dc' ? 'double commutator (dc)' : 'thermal'" },
          },
          strokeDash: { field: 'mu', type: 'ordinal', title: 'μ', sort: [...input.muOrder], scale: { domain: [...input.muOrder] } },
        },
      },
    ],
  };
}

export function contributionsSpec(input: ContributionsInput): VlSpec {
  let scale = 0;
  for (const row of input.panels) for (const p of row) for (const q of p.points) if (Number.isFinite(q.v)) scale = Math.max(scale, Math.abs(q.v));
  return {
    $schema: SCHEMA,
    title: { text: input.title, subtitle: [...input.subtitle] },
    config: BASE_CONFIG,
    vconcat: input.panels.map((row) => ({ hconcat: row.map((p) => panelSpec(p, input, scale)) })),
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  };
}
