/**
 * From a loaded run to figure specs: picks the variables, slices them according to the
 * layout plan and hands plain arrays to the spec builders. No rendering, no I/O.
 */
import { describeCoordinate, fieldTitle, safeFileName, unitText, withUnits } from './labels.js';
import { axisCandidates, axisCoordinate, fixedIndices, planSurface, MAX_CELLS, MAX_FACET, type AxisOptions, type SurfacePlan } from './layout.js';
import type { ContributionsFile, Dim, Field, RunData, RunFile } from './run-directory.js';
import { finiteRange, representativeIndices, sliceField } from './slice.js';
import { sequentialColor, spansDecades, type ColorSpec, type VlSpec } from './specs/common.js';
import { differencePlan } from './difference.js';
import { wrapText } from './text-metrics.js';
import { distinctLabels, shortNumber } from './ticks.js';
import { constancy, ROUNDOFF_REL, spectrumScale } from './value-scale.js';
import { contributionsSpec, muLabel, type ContributionPanel, type ContributionPoint } from './specs/contributions.js';
import { heatmapSpec, type FacetInput, type HeatAxis } from './specs/heatmap.js';
import { lineChartSpec, type LinePoint } from './specs/lines.js';

export interface FigureSpec {
  /** File name without extension. */
  readonly name: string;
  readonly spec: VlSpec;
}

export interface FigureSet {
  readonly figures: FigureSpec[];
  /** Why something expected was not drawn. */
  readonly notes: string[];
}

/** Eigenrates drawn as surfaces: the slowest few. */
export const EIGENRATE_FIGURES = 3;
/** Trajectory lines per panel. */
export const TRAJECTORY_SERIES = 5;

const dimByName = (file: RunFile, name: string): Dim => file.dims.find((d) => d.name === name) as Dim;

/** Title of a surface variable from its name (the file's long_name wins when it says more). */
export function surfaceTitle(field: Field, observables: RunData['observables']): string {
  const n = field.name;
  const expr = (o: string): string => {
    const e = observables.find((x) => x.name === o)?.expression;
    return e ? `${o} = ${e}` : o;
  };
  let m: RegExpExecArray | null;
  if ((m = /^rate_(.+)$/.exec(n))) return `Projection rate of ${expr(m[1] as string)}`;
  if ((m = /^ss_over_boltzmann_(.+)$/.exec(n))) return `Steady state over Boltzmann value, ${expr(m[1] as string)}`;
  if ((m = /^ss_(.+)$/.exec(n))) return `Steady state ⟨${m[1]}⟩, ${expr(m[1] as string)}`;
  if ((m = /^diff_(rate|ss)_(.+)$/.exec(n))) {
    const ref = typeof field.attrs.reference === 'string' ? field.attrs.reference : 'the first model';
    return `${m[1] === 'rate' ? 'Projection rate' : 'Steady state'} of ${m[2]}: difference from ${ref}`;
  }
  if (field.longName !== field.name) return field.longName;
  return field.name;
}

function facetInput(dim: Dim, idx?: readonly number[]): FacetInput {
  const labels = idx ? idx.map((i) => dim.labels[i] as string) : dim.labels;
  return { title: dim.values ? withUnits(dim.name, dim.units) : dim.name, labels };
}

function heatAxis(dim: Dim, idx?: readonly number[]): HeatAxis {
  const c = axisCoordinate(dim);
  const all = Array.from({ length: dim.length }, (_, i) => i);
  const take = idx ?? all;
  // band labels of the plotted coordinate (a zipped group's member, not its index)
  const labels = c.member ? distinctLabels(take.map((i) => c.values[i] as number)) : take.map((i) => dim.labels[i] as string);
  return { title: c.title, kind: c.kind, coords: take.map((i) => c.values[i] as number), labels };
}

/** Figure width in px for wrapping titles: the panels plus axes and a colour bar. */
function figureWidth(panelWidth: number, columns: number): number {
  return Math.max(420, columns * panelWidth + (columns - 1) * 20 + 140);
}

/** The title as lines no wider than the figure (bold 14 px), and the subtitles likewise (11 px). */
function wrapped(title: string, subtitle: readonly string[], width: number): { title: string[]; subtitle: string[] } {
  return { title: wrapText(title, width, 14, true), subtitle: subtitle.flatMap((l) => wrapText(l, width, 11)) };
}

/** Evenly spaced subsets of the heatmap axes when the figure would exceed MAX_CELLS. */
function thinAxes(file: RunFile, plan: SurfacePlan): Record<string, number[]> {
  if (!plan.y) return {};
  const nx = dimByName(file, plan.x).length;
  const ny = dimByName(file, plan.y).length;
  const panels = plan.facets.reduce((p, f) => p * dimByName(file, f).length, 1);
  const total = nx * ny * panels;
  if (total <= MAX_CELLS) return {};
  const f = Math.sqrt(total / MAX_CELLS);
  const out: Record<string, number[]> = {};
  for (const [name, n] of [[plan.x, nx], [plan.y, ny]] as const) {
    const k = Math.max(2, Math.floor(n / f));
    if (k < n) out[name] = representativeIndices(n, k);
  }
  return out;
}

/** `T = 300 K · kappa = 0` for every fixed dim that has a choice. */
function fixedSubtitle(file: RunFile, fixed: Readonly<Record<string, number>>, extra: readonly string[] = [], shown: readonly string[] = []): string[] {
  const parts = Object.entries(fixed)
    .filter(([name]) => {
      const d = file.dims.find((x) => x.name === name);
      return d !== undefined && d.length > 1 && !shown.includes(name);
    })
    .map(([name, i]) => describeCoordinate(dimByName(file, name), i));
  return [...extra, ...(parts.length > 0 ? [`at ${parts.join(' · ')}`] : [])];
}

function nanNote(data: Float64Array): string[] {
  let nan = 0;
  for (const v of data) if (!Number.isFinite(v)) nan++;
  return nan > 0 ? [`${nan} of ${data.length} values undefined (NaN), left blank`] : [];
}

/** Variables drawn as surfaces, in order: per observable, then the eigenrates. */
export function surfaceVariables(file: RunFile, observables: RunData['observables']): { field: Field; mode: number | null; name: string }[] {
  const out: { field: Field; mode: number | null; name: string }[] = [];
  const add = (name: string): void => {
    const f = file.fields.get(name);
    if (f) out.push({ field: f, mode: null, name });
  };
  for (const o of observables) {
    add(`rate_${o.name}`);
    add(`ss_over_boltzmann_${o.name}`);
    add(`diff_rate_${o.name}`);
    add(`diff_ss_${o.name}`);
  }
  const eig = file.fields.get('eigenrate');
  const modeIdx = eig?.dims.indexOf('mode') ?? -1;
  if (eig && modeIdx >= 0) {
    const m = Math.min(EIGENRATE_FIGURES, eig.shape[modeIdx] as number);
    for (let k = 0; k < m; k++) out.push({ field: eig, mode: k, name: `eigenrate_${k + 1}` });
  }
  return out;
}

/** `diff_rate_Mz` -> `rate_Mz`: the variable a difference is taken of. */
function differenceBase(field: Field): string | null {
  const m = /^diff_(.+)$/.exec(field.name);
  return m ? (m[1] as string) : null;
}

function surfaceFigure(run: RunData, plan: SurfacePlan, field: Field, mode: number | null, name: string): FigureSpec | null {
  const file = run.surfaces;
  const fixed: Record<string, number> = { ...plan.fixed };
  if (mode !== null) fixed.mode = mode;
  const keep = [...plan.facets, ...(plan.y ? [plan.y] : []), plan.x];
  const pick: Record<string, number[]> = thinAxes(file, plan);
  const baseName = differenceBase(field);
  const thermal = file.dims.find((d) => d.role === 'thermalization');
  // A difference from the reference model: leave the reference (identically zero) out.
  let refIndex = -1;
  if (baseName && thermal) {
    const reference = typeof field.attrs.reference === 'string' ? field.attrs.reference : (thermal.labels[0] as string);
    refIndex = Math.max(0, thermal.labels.indexOf(reference));
    const others = thermal.labels.map((_, i) => i).filter((i) => i !== refIndex);
    if (plan.facets.includes(thermal.name)) pick[thermal.name] = others;
    else if (fixed[thermal.name] === refIndex && others.length > 0) fixed[thermal.name] = others[0] as number;
  }
  const { data } = sliceField(field, keep, fixed, pick);
  const [lo, hi] = finiteRange(data);
  if (!Number.isFinite(lo)) return null;
  const spectrum = spectrumScale(field);
  let title = mode !== null ? `Eigenrate ${mode + 1} (ascending; 1 is the slowest mode reachable from the initial state)` : surfaceTitle(field, run.observables);
  let colorTitle = mode !== null ? withUnits(`eigenrate ${mode + 1}`, field.units) : fieldTitle(field);
  const thinned = Object.entries(pick)
    .filter(([d]) => d !== thermal?.name)
    .map(([d, idx]) => `${d}: ${idx.length} of ${dimByName(file, d).length} values shown, evenly spaced`);
  const notes: string[] = [...thinned, ...nanNote(data)];
  const facets = plan.facets.map((f) => facetInput(dimByName(file, f), pick[f]));
  let values: ArrayLike<number> = data;
  let color: ColorSpec;
  const base = baseName ? file.fields.get(baseName) : undefined;
  if (base && thermal && refIndex >= 0) {
    // reference values aligned with the plotted cells
    const refPick = { ...pick, ...(pick[thermal.name] ? { [thermal.name]: (pick[thermal.name] as number[]).map(() => refIndex) } : {}) };
    const refFixed = { ...fixed, ...(fixed[thermal.name] !== undefined ? { [thermal.name]: refIndex } : {}) };
    const reference = sliceField(base, keep, refFixed, refPick).data;
    const d = differencePlan(data, reference, spectrumScale(base));
    values = d.values;
    color = d.color;
    const refName = thermal.labels[refIndex] as string;
    if (d.relative) {
      title = `${surfaceTitle(base, run.observables)}: relative difference from ${refName} (reference)`;
      colorTitle = `(model − ${refName}) / |${refName}|`;
    } else {
      title = `${surfaceTitle(base, run.observables)}: difference from ${refName} (reference)`;
      colorTitle = withUnits(`model − ${refName}`, field.units);
    }
    if (d.roundoff > 0) notes.push(`${d.roundoff} of ${data.length} differences within float64 round-off of the values, drawn as 0`);
    if (d.color.kind === 'diverging' && d.color.symlog !== null) notes.push(`symmetric log colour scale, linear within ±${shortNumber(d.color.symlog, 2)}`);
    if (d.color.kind === 'constant') title += ': none above round-off';
  } else {
    const c = constancy(data, spectrum);
    if (c.constant) {
      color = { kind: 'constant', value: c.value };
      title += ` = ${shortNumber(c.value, 6)} everywhere`;
      notes.push(`constant to float64 round-off: values spread by ${shortNumber(c.spread, 2)}, below ${shortNumber(ROUNDOFF_REL, 1)} of their scale ${shortNumber(c.scale, 3)}`);
    } else {
      color = sequentialColor(lo, hi);
    }
  }
  const subtitle = fixedSubtitle(file, fixed, notes, [...plan.facets]);
  if (plan.y) {
    const x = heatAxis(dimByName(file, plan.x), pick[plan.x]);
    const y = heatAxis(dimByName(file, plan.y), pick[plan.y]);
    const columns = facets[0]?.labels.length ?? 1;
    const w = wrapped(title, subtitle, figureWidth(facets.length > 0 ? 300 : 440, columns));
    const spec = heatmapSpec({ title: w.title, subtitle: w.subtitle, x, y, facets, values, colorTitle, color });
    return { name, spec };
  }
  // One numeric axis: a line per value of the first facet dim, panels by the second.
  const xDim = dimByName(file, plan.x);
  const xc = axisCoordinate(xDim);
  const nx = xDim.length;
  const series = facets[0];
  const panelFacet = facets[1];
  const points: LinePoint[] = [];
  const nS = series?.labels.length ?? 1;
  const nP = panelFacet?.labels.length ?? 1;
  for (let s = 0; s < nS; s++) {
    for (let p = 0; p < nP; p++) {
      for (let i = 0; i < nx; i++) {
        points.push({
          x: xc.values[i] as number,
          y: values[(s * nP + p) * nx + i] as number,
          ...(series ? { s: series.labels[s] as string } : {}),
          ...(panelFacet ? { f0: panelFacet.labels[p] as string } : {}),
        });
      }
    }
  }
  const [vlo, vhi] = finiteRange(values);
  const w = wrapped(title, subtitle, figureWidth(panelFacet ? 300 : 460, nP));
  const spec = lineChartSpec({
    title: w.title,
    subtitle: w.subtitle,
    xTitle: xc.title,
    xKind: xc.kind,
    yTitle: colorTitle,
    yLog: color.kind === 'sequential' && spansDecades(vlo, vhi),
    seriesTitle: series?.title ?? null,
    seriesOrder: series?.labels ?? [],
    facets: panelFacet ? [panelFacet] : [],
    points,
    spectrum,
    formatValue: (v) => shortNumber(v, 6),
  });
  return { name, spec };
}

export function surfaceFigures(run: RunData, opts: AxisOptions): FigureSet {
  const notes: string[] = [];
  const plan = planSurface(run.surfaces.dims, opts);
  if (!plan) {
    notes.push('surfaces.nc has no numeric sweep axis: no surface figures (the values are in points.csv)');
    return { figures: [], notes };
  }
  const figures: FigureSpec[] = [];
  for (const { field, mode, name } of surfaceVariables(run.surfaces, run.observables)) {
    const fig = surfaceFigure(run, plan, field, mode, name);
    if (fig) figures.push(fig);
    else notes.push(`${name}: no finite values in the plotted slice, no figure`);
  }
  return { figures, notes };
}

/**
 * <O>(t) at a few representative points: up to five values of the first sweep axis (--x),
 * panels by thermalization model and initial state, other axes fixed.
 */
export function trajectoryFigures(run: RunData, opts: AxisOptions): FigureSet {
  const file = run.trajectories;
  if (!file) return { figures: [], notes: [] };
  const timeDim = file.dims.find((d) => d.role === 'time');
  if (!timeDim || !timeDim.values) return { figures: [], notes: ['trajectories.nc has no time coordinate: no trajectory figures'] };
  const at = opts.at ?? {};
  const fixed = fixedIndices(file.dims, at);
  const cands = axisCandidates(file.dims).filter((d) => at[d.name] === undefined);
  const seriesDim = (opts.x !== undefined ? cands.find((d) => d.name === opts.x) : undefined) ?? cands.find((d) => d.length > 1) ?? null;
  const facetDims = file.dims.filter((d) => (d.role === 'thermalization' || d.role === 'initial') && at[d.name] === undefined && d.length > 1 && d.length <= MAX_FACET);
  for (const d of file.dims) {
    if (d.role === 'time' || d === seriesDim || facetDims.includes(d) || fixed[d.name] !== undefined) continue;
    fixed[d.name] = 0;
  }
  const seriesIdx = seriesDim ? representativeIndices(seriesDim.length, TRAJECTORY_SERIES) : [];
  const seriesLabels = seriesDim ? seriesIdx.map((i) => describeCoordinate(seriesDim, i)) : [];
  const figures: FigureSpec[] = [];
  const time = timeDim.values;
  for (const o of run.observables) {
    const field = file.fields.get(`traj_${o.name}`);
    if (!field) continue;
    const keep = [...facetDims.map((d) => d.name), ...(seriesDim ? [seriesDim.name] : []), timeDim.name];
    const pick: Record<string, number[]> = seriesDim ? { [seriesDim.name]: seriesIdx } : {};
    const { data } = sliceField(field, keep, fixed, pick);
    const nT = time.length;
    const nS = Math.max(1, seriesIdx.length);
    const f0 = facetDims[0];
    const f1 = facetDims[1];
    const points: LinePoint[] = [];
    const n0 = f0?.length ?? 1;
    const n1 = f1?.length ?? 1;
    for (let a = 0; a < n0; a++) {
      for (let b = 0; b < n1; b++) {
        for (let s = 0; s < nS; s++) {
          const base = ((a * n1 + b) * nS + s) * nT;
          for (let t = 0; t < nT; t++) {
            points.push({
              x: time[t] as number,
              y: data[base + t] as number,
              ...(seriesDim ? { s: seriesLabels[s] as string } : {}),
              ...(f0 ? { f0: f0.labels[a] as string } : {}),
              ...(f1 ? { f1: f1.labels[b] as string } : {}),
            });
          }
        }
      }
    }
    const [lo, hi] = finiteRange(data);
    const expr = o.expression ? ` (${o.name} = ${o.expression})` : '';
    const initialAttr = typeof file.attrs.initial === 'string' && !file.dims.some((d) => d.role === 'initial') ? [`from ${file.attrs.initial}`] : [];
    const w = wrapped(
      `⟨${o.name}⟩(t)${expr}`,
      fixedSubtitle(file, Object.fromEntries(Object.entries(fixed).filter(([k]) => k !== timeDim.name)), [...initialAttr, ...nanNote(data)]),
      figureWidth(facetDims.length > 0 ? 300 : 460, facetDims[0]?.length ?? 1),
    );
    figures.push({
      name: `traj_${safeFileName(o.name)}`,
      spec: lineChartSpec({
        title: w.title,
        subtitle: w.subtitle,
        spectrum: spectrumScale(field),
        formatValue: (v) => shortNumber(v, 6),
        xTitle: withUnits('time', timeDim.units || 's'),
        xKind: timeDim.axisKind === 'log' ? 'log' : 'lin',
        yTitle: withUnits(`⟨${o.name}⟩`, field.units),
        yLog: spansDecades(lo, hi),
        seriesTitle: seriesDim ? seriesDim.name : null,
        seriesOrder: seriesLabels,
        facets: facetDims.map((d) => facetInput(d)),
        points,
      }),
    });
  }
  return { figures, notes: [] };
}

/**
 * The seed's Figures 1 (O = Mz) and 2 (O = singlet): one figure per observable (and per
 * thermalization model), rows = initial states, columns = mechanisms, dc red, thermal blue,
 * one line per mu.
 */
export function contributionFigures(run: RunData, opts: AxisOptions): FigureSet {
  const file: ContributionsFile | null = run.contributions;
  if (!file) return { figures: [], notes: [] };
  const timeDim = file.dims.find((d) => d.role === 'time');
  if (!timeDim || !timeDim.values) return { figures: [], notes: ['contributions.nc has no time coordinate: no contribution figures'] };
  const at = opts.at ?? {};
  const fixedBase = fixedIndices(file.dims, at);
  const thermal = file.dims.find((d) => d.role === 'thermalization');
  const initial = file.dims.find((d) => d.role === 'initial');
  for (const d of file.dims) {
    if (d.role === 'time' || d.role === 'term' || d.role === 'part' || d === thermal || d === initial || fixedBase[d.name] !== undefined) continue;
    fixedBase[d.name] = 0;
  }
  const models = thermal ? (at[thermal.name] !== undefined ? [fixedBase[thermal.name] as number] : thermal.labels.map((_, i) => i)) : [null];
  const initials = initial ? (at[initial.name] !== undefined ? [fixedBase[initial.name] as number] : initial.labels.map((_, i) => i)) : [null];
  const mechanisms: string[] = [];
  for (const t of file.terms) if (!mechanisms.includes(t.mechanism)) mechanisms.push(t.mechanism);
  const mus = [...new Set(file.terms.map((t) => t.mu))].sort((a, b) => b - a).map(muLabel);
  const initialAttr = typeof file.attrs.initial === 'string' ? file.attrs.initial : '';
  const time = timeDim.values;
  const figures: FigureSpec[] = [];
  for (const o of run.observables) {
    const field = file.fields.get(`dOdt_${o.name}`);
    if (!field) continue;
    for (const m of models) {
      const fixed: Record<string, number> = { ...fixedBase };
      if (thermal && m !== null) fixed[thermal.name] = m;
      let letter = 0;
      const panels: ContributionPanel[][] = initials.map((ini) => {
        if (initial && ini !== null) fixed[initial.name] = ini;
        const { data } = sliceField(field, ['term', 'term_part', timeDim.name], fixed);
        const from = initial && ini !== null ? initial.labels[ini] : initialAttr;
        const nP = file.parts.length;
        return mechanisms.map((mech) => {
          const points = file.terms.flatMap((t, k) =>
            t.mechanism !== mech
              ? []
              : file.parts.flatMap((part, q) =>
                  part === 'dc' || part === 'thermal' ? Array.from(time, (tv, j): ContributionPoint => ({ t: tv, v: data[(k * nP + q) * time.length + j] as number, mu: muLabel(t.mu), part })) : [],
                ),
          );
          const title = `(${String.fromCharCode(97 + letter++)}) ${mech}${from ? `, from ${from}` : ''}`;
          return { title, points };
        });
      });
      const others = Object.fromEntries(Object.entries(fixed).filter(([k]) => k !== thermal?.name && k !== initial?.name));
      const modelText = thermal && m !== null ? [`thermalization: ${thermal.labels[m]}`] : typeof file.attrs.thermalization === 'string' ? [`thermalization: ${file.attrs.thermalization}`] : [];
      const suffix = thermal && m !== null && models.length > 1 ? `_${safeFileName(thermal.labels[m] as string)}` : '';
      figures.push({
        name: `contributions_${safeFileName(o.name)}${suffix}`,
        spec: contributionsSpec({
          title: `Contributions to d⟨${o.name}⟩/dt${o.expression ? `, ${o.name} = ${o.expression}` : ''}`,
          subtitle: fixedSubtitle(file, others, ['red: double-commutator part, blue: thermal part; one line per component μ', ...modelText]),
          timeTitle: withUnits('time', timeDim.units || 's'),
          yTitle: `d⟨${o.name}⟩/dt${unitText(field.units) ? ` (${unitText(field.units)})` : ''}`,
          panels,
          muOrder: mus,
        }),
      });
    }
  }
  return { figures, notes: [] };
}
