/**
 * Relaxation dispersion (NMRD) figures: the projection rate of each observable against B0 on
 * log-log axes, the 1H Larmor frequency in MHz as a second axis on top, one line per
 * thermalization model (when there are several) or per value of the other sweep axis (tau_c
 * in a field map). Drawn when the run sweeps B0 over at least a decade. Pure.
 */
import { lookupIsotope } from '../spin/isotopes.js';
import { describeCoordinate, safeFileName, withUnits } from './labels.js';
import { axisCandidates, fixedIndices, type AxisOptions } from './layout.js';
import type { Dim, RunData } from './run-directory.js';
import { finiteRange, representativeIndices, sliceField } from './slice.js';
import { lineChart, type LinePoint } from './specs/lines.js';
import { wrapText } from './text-metrics.js';
import { shortNumber } from './ticks.js';
import type { FigureSet, FigureSpec } from './figures.js';

/** Lines per NMRD figure at most (representative values beyond). */
export const NMRD_LINES = 9;

/** 1H Larmor frequency per tesla in MHz (gamma_p / 2 pi). */
export const PROTON_MHZ_PER_T = (lookupIsotope('1H')?.gamma ?? 2.6752218744e8) / (2 * Math.PI) / 1e6;

function fieldAxis(dims: readonly Dim[]): Dim | undefined {
  const b0 = dims.find((d) => d.name === 'B0' && d.role === 'sweep' && d.values !== null);
  if (!b0 || !b0.values || b0.length < 3) return undefined;
  const [lo, hi] = finiteRange(b0.values);
  return lo > 0 && hi / lo >= 10 ? b0 : undefined;
}

export function nmrdFigures(run: RunData, opts: AxisOptions): FigureSet {
  const file = run.surfaces;
  const b0 = fieldAxis(file.dims);
  if (!b0 || !b0.values || (opts.at ?? {})[b0.name] !== undefined) return { figures: [], notes: [] };
  const at = opts.at ?? {};
  const fixed = fixedIndices(file.dims, at);
  const thermal = file.dims.find((d) => d.role === 'thermalization' && d.length > 1 && at[d.name] === undefined);
  const others = axisCandidates(file.dims).filter((d) => d !== b0 && d.length > 1 && at[d.name] === undefined);
  const seriesDim = thermal ?? others[0] ?? null;
  for (const d of file.dims) {
    if (d === b0 || d === seriesDim || d.role === 'mode' || fixed[d.name] !== undefined) continue;
    fixed[d.name] = 0;
  }
  const seriesIdx = seriesDim ? representativeIndices(seriesDim.length, NMRD_LINES) : [];
  const seriesLabels = seriesDim ? seriesIdx.map((i) => describeCoordinate(seriesDim, i)) : [];
  const figures: FigureSpec[] = [];
  for (const o of run.observables) {
    const field = file.fields.get(`rate_${o.name}`);
    if (!field) continue;
    const keep = [...(seriesDim ? [seriesDim.name] : []), b0.name];
    const { data } = sliceField(field, keep, fixed, seriesDim ? { [seriesDim.name]: seriesIdx } : {});
    const [lo] = finiteRange(data);
    if (!(lo > 0)) continue;
    const n = b0.length;
    const points: LinePoint[] = [];
    for (let s = 0; s < Math.max(1, seriesIdx.length); s++) {
      for (let i = 0; i < n; i++) points.push({ x: b0.values[i] as number, y: data[s * n + i] as number, ...(seriesDim ? { s: seriesLabels[s] as string } : {}) });
    }
    const shownFixed = Object.entries(fixed)
      .filter(([name]) => (file.dims.find((d) => d.name === name)?.length ?? 1) > 1)
      .map(([name, i]) => describeCoordinate(file.dims.find((d) => d.name === name) as Dim, i));
    const title = `Relaxation dispersion (NMRD): projection rate of ${o.name}${o.expression ? ` = ${o.expression}` : ''}`;
    const subtitle = [`top axis: ¹H Larmor frequency (${shortNumber(PROTON_MHZ_PER_T, 6)} MHz/T × B0)`, ...(shownFixed.length > 0 ? [`at ${shownFixed.join(' · ')}`] : [])];
    const { spec } = lineChart({
      title: wrapText(title, 620, 14, true),
      subtitle: subtitle.flatMap((l) => wrapText(l, 620, 11)),
      xTitle: withUnits('B0', b0.units || 'T'),
      xKind: 'log',
      yTitle: withUnits(`rate_${o.name}`, field.units),
      yLog: true,
      seriesTitle: seriesDim ? seriesDim.name : null,
      seriesOrder: seriesLabels,
      facets: [],
      points,
      secondaryX: { title: '¹H Larmor frequency (MHz)', factor: PROTON_MHZ_PER_T },
      markers: false,
      formatValue: (v) => shortNumber(v, 6),
    });
    figures.push({ name: `nmrd_${safeFileName(o.name)}`, spec });
  }
  return { figures, notes: [] };
}
