/**
 * The DNP profile figure: enhancement enh_<O> = <O>_ss / <O>_Boltzmann against the
 * irradiation offset, one line per thermalization model, panels by the other small sweep
 * axes (temperature, field). The offset axis is the sweep dimension the run names in its
 * `dnp_offset_axis` attribute (the parameter of the irradiation's offset_hz).
 */
import { describeCoordinate, safeFileName, withUnits } from './labels.js';
import { axisCoordinate, fixedIndices, MAX_FACET, type AxisOptions } from './layout.js';
import type { Dim, RunData } from './run-directory.js';
import { finiteRange, sliceField } from './slice.js';
import { lineChartSpec, type LinePoint } from './specs/lines.js';
import type { FigureSet, FigureSpec } from './figures.js';
import { FLAG_UNPHYSICAL } from '../engine/chunk.js';

export function dnpProfileFigures(run: RunData, opts: AxisOptions): FigureSet {
  const file = run.surfaces;
  const axis = file.attrs.dnp_offset_axis;
  if (typeof axis !== 'string') return { figures: [], notes: [] };
  const figures: FigureSpec[] = [];
  const notes: string[] = [];
  const at = opts.at ?? {};
  for (const o of run.observables) {
    const field = file.fields.get(`enh_${o.name}`);
    if (!field || !field.dims.includes(axis)) continue;
    const dims = field.dims.map((n) => file.dims.find((d) => d.name === n) as Dim);
    const xDim = dims.find((d) => d.name === axis) as Dim;
    const series = dims.find((d) => d.role === 'thermalization' && at[d.name] === undefined) ?? null;
    // panels: up to two further sweep (or initial) dims with a few values each
    const panels = dims.filter((d) => d !== xDim && d !== series && at[d.name] === undefined && d.length > 1 && d.length <= MAX_FACET).slice(0, 2);
    const fixed = fixedIndices(dims, at);
    for (const d of dims) if (d !== xDim && d !== series && !panels.includes(d) && fixed[d.name] === undefined) fixed[d.name] = 0;
    const keep = [...(series ? [series.name] : []), ...panels.map((d) => d.name), xDim.name];
    const { data } = sliceField(field, keep, fixed);
    const xc = axisCoordinate(xDim);
    // offsets in Hz read better in MHz
    const mhz = xDim.units === 'Hz' && Math.max(...Array.from(xc.values, Math.abs)) >= 1e6;
    const xScale = mhz ? 1e-6 : 1;
    const nx = xDim.length;
    const nS = series?.length ?? 1;
    const n0 = panels[0]?.length ?? 1;
    const n1 = panels[1]?.length ?? 1;
    const points: LinePoint[] = [];
    for (let s = 0; s < nS; s++)
      for (let a = 0; a < n0; a++)
        for (let b = 0; b < n1; b++)
          for (let i = 0; i < nx; i++) {
            points.push({
              x: (xc.values[i] as number) * xScale,
              y: data[((s * n0 + a) * n1 + b) * nx + i] as number,
              ...(series ? { s: series.labels[s] as string } : {}),
              ...(panels[0] ? { f0: describeCoordinate(panels[0], a) } : {}),
              ...(panels[1] ? { f1: describeCoordinate(panels[1], b) } : {}),
            });
          }
    const [lo] = finiteRange(data);
    if (!Number.isFinite(lo)) {
      notes.push(`enh_${o.name}: no finite values, no DNP profile`);
      continue;
    }
    const others = Object.entries(fixed)
      .map(([name, i]) => ({ d: dims.find((x) => x.name === name) as Dim, i }))
      .filter(({ d }) => d.length > 1)
      .map(({ d, i }) => describeCoordinate(d, i));
    const flagged = unphysicalSeries(run, series);
    const powder = file.fields.has('powder_weight') ? ['powder average (steady states averaged over orientations, then divided by the Boltzmann value)'] : [];
    figures.push({
      name: `dnp_profile_${safeFileName(o.name)}`,
      spec: lineChartSpec({
        title: `DNP profile: enhancement of ${o.name}${o.expression ? ` = ${o.expression}` : ''}`,
        subtitle: [`⟨${o.name}⟩ steady state over its Boltzmann value; irradiation offset ν_irr − ν₀`, ...powder, ...flagged, ...(others.length > 0 ? [`at ${others.join(' · ')}`] : [])],
        xTitle: mhz ? `${xDim.name} (MHz)` : withUnits(xDim.name, xDim.units),
        xKind: xc.kind === 'log' ? 'log' : 'lin',
        yTitle: `ε = ⟨${o.name}⟩ / ⟨${o.name}⟩_B`,
        yLog: false,
        seriesTitle: series ? series.name : null,
        seriesOrder: series?.labels ?? [],
        seriesScheme: 'category10',
        seriesDash: true,
        facets: panels.map((d) => ({ title: d.name, labels: Array.from({ length: d.length }, (_, i) => describeCoordinate(d, i)) })),
        points,
      }),
    });
  }
  return { figures, notes };
}

/** "flagged unphysical: high-temperature (n of m points)" for each model with FLAG_UNPHYSICAL points. */
function unphysicalSeries(run: RunData, series: Dim | null): string[] {
  const flags = run.surfaces.fields.get('flags');
  if (!flags) return [];
  const k = series ? flags.dims.indexOf(series.name) : -1;
  const per = series ? series.length : 1;
  const counts = new Array<number>(per).fill(0);
  const inner = k < 0 ? flags.data.length : flags.shape.slice(k + 1).reduce((a, b) => a * b, 1);
  for (let i = 0; i < flags.data.length; i++) {
    if (((flags.data[i] as number) & FLAG_UNPHYSICAL) === 0) continue;
    counts[k < 0 ? 0 : Math.floor(i / inner) % per] = (counts[k < 0 ? 0 : Math.floor(i / inner) % per] as number) + 1;
  }
  const total = flags.data.length / per;
  const parts = counts.flatMap((c, s) => (c > 0 ? [`${series ? series.labels[s] : 'all'} (${c} of ${total} points)`] : []));
  return parts.length > 0 ? [`flagged unphysical (beyond the model's validity): ${parts.join(', ')}`] : [];
}
