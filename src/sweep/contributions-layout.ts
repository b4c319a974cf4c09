/**
 * The layout of contributions.nc (docs/run-directory.md): d<O>/dt split over a `term`
 * dimension (mechanism x eigenoperator component mu) and a `term_part` dimension (dc,
 * thermal), so that `ds.sel(term_part='dc')` works in xarray; the mechanism, its type and mu
 * are coordinates over `term`.
 */
import type { ContributionSeries } from '../evaluate/point.js';
import type { NcDataset, NcStringVariable, NcVariable } from '../io/netcdf.js';
import type { OutputLayout } from './output-layout.js';

export const TERM_PARTS = ['dc', 'thermal'] as const;

export interface TermKey {
  /** `dipolar(a,b) mu=+1`: the coordinate value of `term`. */
  readonly label: string;
  readonly mechanism: string;
  readonly type: string;
  readonly mu: number;
}

export function termLabel(mechanism: string, mu: number): string {
  return `${mechanism} mu=${mu > 0 ? '+' : ''}${mu}`;
}

/**
 * Collects the series of every point (in flat order) into one array per observable over
 * (points, term, term_part, time). A (term, part) a point does not list contributes 0: the
 * term is absent from the generator there.
 */
export class ContributionsBuilder {
  private terms: TermKey[] | undefined;
  private readonly index = new Map<string, number>();
  private readonly data = new Map<string, Float64Array>();

  constructor(
    private readonly layout: OutputLayout,
    private readonly nTimes: number,
    private readonly nPoints: number,
  ) {}

  add(point: number, series: readonly ContributionSeries[]): void {
    if (!this.terms) this.discover(series);
    const terms = this.terms as TermKey[];
    const nParts = TERM_PARTS.length;
    for (const s of series) {
      const term = this.index.get(termLabel(s.mechanism, s.mu));
      const part = TERM_PARTS.indexOf(s.part);
      const arr = this.data.get(s.observable);
      if (term === undefined || part < 0 || !arr) continue;
      arr.set(s.values, ((point * terms.length + term) * nParts + part) * this.nTimes);
    }
  }

  private discover(series: readonly ContributionSeries[]): void {
    const terms: TermKey[] = [];
    for (const s of series) {
      const label = termLabel(s.mechanism, s.mu);
      if (this.index.has(label)) continue;
      this.index.set(label, terms.length);
      terms.push({ label, mechanism: s.mechanism, type: s.mechanismType, mu: s.mu });
    }
    this.terms = terms;
    const size = this.nPoints * terms.length * TERM_PARTS.length * this.nTimes;
    for (const o of this.layout.observables) this.data.set(o, new Float64Array(size));
  }

  dataset(attrs: Record<string, string>): NcDataset {
    const terms = this.terms ?? [];
    const sweep = this.layout.sweepDims.map((d) => d.name);
    const coords = ['term_mechanism', 'term_type', 'term_mu', ...this.layout.auxCoords.map((c) => c.name)].join(' ');
    const variables: NcVariable[] = this.layout.observables.map((o) => ({
      name: `dOdt_${o}`,
      dims: [...sweep, 'term', 'term_part', 'time'],
      data: this.data.get(o) ?? new Float64Array(0),
      attrs: { units: 's-1', long_name: `contribution to d<${o}>/dt by mechanism, mu and part`, coordinates: coords },
    }));
    variables.push({ name: 'term_mu', dims: ['term'], data: Float64Array.from(terms, (t) => t.mu), attrs: { units: '1', long_name: 'eigenoperator component mu' } });
    for (const c of this.layout.auxCoords) variables.push({ name: c.name, dims: [c.dim], data: c.values, attrs: c.attrs });
    const strings: NcStringVariable[] = [
      { name: 'term_mechanism', dim: 'term', values: terms.map((t) => t.mechanism), attrs: { long_name: 'relaxation mechanism (its label)' } },
      { name: 'term_type', dim: 'term', values: terms.map((t) => t.type), attrs: { long_name: 'mechanism type: dipolar, random_field or csa' } },
    ];
    return {
      dims: [
        ...this.layout.sweepDims,
        { name: 'term', values: terms.map((t) => t.label), attrs: { long_name: 'mechanism and eigenoperator component mu' } },
        { name: 'term_part', values: [...TERM_PARTS], attrs: { long_name: 'dc: double commutator (even part of the thermal factor); thermal: odd part' } },
        this.layout.timeDim,
      ],
      variables,
      strings,
      attrs,
    };
  }
}
