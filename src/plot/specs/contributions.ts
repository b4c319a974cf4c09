/**
 * The seed's Figures 1 and 2 as a vega-lite spec: one panel per (initial state, mechanism),
 * the contributions to d<O>/dt of each eigenoperator component mu, double-commutator part in
 * red and thermal part in blue, against time. Pure.
 */
import { BASE_CONFIG, NUMBER_LABEL, SCHEMA, type VlSpec } from './common.js';

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

function panelSpec(panel: ContributionPanel, input: ContributionsInput): VlSpec {
  const pts = panel.points.filter((p) => Number.isFinite(p.t) && Number.isFinite(p.v));
  return {
    width: 300,
    height: 200,
    title: { text: panel.title, fontSize: 12, fontWeight: 'normal' },
    data: { values: pts },
    layer: [
      { mark: { type: 'rule', color: '#bbb', strokeWidth: 0.6 }, encoding: { y: { datum: 0, type: 'quantitative' } } },
      {
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: {
          x: { field: 't', type: 'quantitative', title: input.timeTitle, axis: { labelExpr: NUMBER_LABEL } },
          y: { field: 'v', type: 'quantitative', title: input.yTitle, axis: { labelExpr: NUMBER_LABEL } },
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
  return {
    $schema: SCHEMA,
    title: { text: input.title, subtitle: [...input.subtitle] },
    config: BASE_CONFIG,
    vconcat: input.panels.map((row) => ({ hconcat: row.map((p) => panelSpec(p, input)) })),
    resolve: { scale: { color: 'shared', strokeDash: 'shared' } },
  };
}
