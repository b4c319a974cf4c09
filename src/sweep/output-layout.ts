import type { NcDimension, NcVariableHeader } from '../io/netcdf.js';
import type { Job } from '../engine/job.js';
import { FLAG_MODES_FAILED, FLAG_NONFINITE, FLAG_OSCILLATING, FLAG_RECOMPUTED_F64, FLAG_STIFF, FLAG_UNPHYSICAL } from '../engine/chunk.js';
import type { GridDim } from './grid.js';
import type { RunPlan } from './plan.js';
import { parameterUnits } from './units.js';
import { observableSpectra } from './observable-spectrum.js';

/**
 * The dimensions and variables of the NetCDF outputs (docs/run-directory.md), derived
 * from a job: the one place that knows the names, units and order.
 */
export interface OutputLayout {
  /** Sweep dimensions (categorical, then numeric), shared by every file. */
  readonly sweepDims: readonly NcDimension[];
  readonly sweepShape: readonly number[];
  /** Non-dimension coordinates (members of zipped groups), written as 1-D variables. */
  readonly auxCoords: ReadonlyArray<{ name: string; dim: string; values: Float64Array; attrs: Record<string, string> }>;
  readonly observables: readonly string[];
  /** Smallest and largest eigenvalue of each observable (`spectrum_range`). */
  readonly spectra: ReadonlyMap<string, readonly [number, number]>;
  readonly hasModes: boolean;
  readonly hasThermalDim: boolean;
  /** The model the `diff_*` variables are taken against: the first listed thermalization. */
  readonly referenceModel: string;
  readonly modeDim: NcDimension;
  readonly timeDim: NcDimension;
  /** enh_<O> = <O>_ss / <O>_Boltzmann (outputs: enhancement). */
  readonly hasEnhancement: boolean;
  /** buildup_<O> (outputs: buildup). */
  readonly hasBuildup: boolean;
  /** A powder axis: linear outputs are averaged over it (powder-average.ts). */
  readonly powder: PowderLayout | undefined;
  /** Storage type of the trajectories (float32 with outputs: [..., trajectories_float32]). */
  readonly trajectoryDtype: 'float32' | 'float64';
}

export interface PowderLayout {
  readonly dim: string;
  /** Position of the powder dimension among sweepDims. */
  readonly position: number;
  readonly weights: Float64Array;
  /** Sweep dimensions without the powder one: the dims of averaged variables. */
  readonly averagedNames: readonly string[];
  readonly averagedShape: readonly number[];
}

/**
 * Variables averaged over a powder axis: linear in the density operator (steady states,
 * Boltzmann values, their ratio, differences, trajectories). Rates, eigenrates, amplitudes and
 * build-up rates are not linear in it (the rate of an average is not the average rate): they
 * keep the powder dimension, one value per orientation.
 */
export function isPowderAveraged(name: string): boolean {
  return /^(ss|boltzmann|ss_over_boltzmann|diff_ss|enh|traj)_/.test(name);
}

export function outputLayout(job: Job, plan: RunPlan): OutputLayout {
  const units = parameterUnits(job.spec.spec);
  const sweepDims: NcDimension[] = [];
  for (const c of job.grid.categorical) {
    sweepDims.push({
      name: c.name,
      values: c.labels,
      attrs: { long_name: c.name === 'thermalization' ? 'thermalization model of the relaxation superoperator' : 'initial state' },
    });
  }
  const auxCoords: Array<{ name: string; dim: string; values: Float64Array; attrs: Record<string, string> }> = [];
  job.grid.dims.forEach((d: GridDim) => {
    if (d.params.length === 1) {
      const name = d.params[0] as string;
      const u = units[name];
      sweepDims.push({ name: d.name, values: d.values[0] as Float64Array, attrs: { units: u?.units ?? '1', long_name: u?.longName ?? name, axis_kind: d.kind } });
    } else {
      sweepDims.push({
        name: d.name,
        values: Float64Array.from({ length: d.length }, (_, i) => i),
        attrs: { units: '1', long_name: `index of the zipped axes ${d.params.join(', ')}`, axis_kind: 'values' },
      });
      d.params.forEach((p, j) => {
        const u = units[p];
        auxCoords.push({ name: p, dim: d.name, values: d.values[j] as Float64Array, attrs: { units: u?.units ?? '1', long_name: u?.longName ?? p, axis_kind: d.kind } });
      });
    }
  });
  // a sweep without axes is one point: its variables get a dimension `point` of length 1
  // (NetCDF variables without dimensions are not what readers of a sweep expect)
  const single = sweepDims.length === 0;
  if (single) sweepDims.push({ name: 'point', values: Float64Array.of(0), attrs: { units: '1', long_name: 'the single point of a sweep without axes' } });
  const hasThermalDim = job.grid.categorical.some((c) => c.name === 'thermalization') && job.grid.thermalizations.length > 1;
  const pd = job.grid.dims.find((d) => d.powderWeights !== undefined);
  const powder: PowderLayout | undefined = pd?.powderWeights
    ? {
        dim: pd.name,
        position: sweepDims.findIndex((d) => d.name === pd.name),
        weights: pd.powderWeights,
        averagedNames: sweepDims.filter((d) => d.name !== pd.name).map((d) => d.name),
        averagedShape: sweepDims.filter((d) => d.name !== pd.name).map((d) => d.values.length),
      }
    : undefined;
  if (powder) {
    const d = sweepDims[powder.position] as NcDimension;
    sweepDims[powder.position] = { ...d, attrs: { ...d.attrs, long_name: `${d.attrs?.long_name ?? d.name}: powder orientations (Gauss-Legendre nodes of cos theta, weights in powder_weight)` } };
  }
  return {
    sweepDims,
    sweepShape: single ? [1] : [...job.grid.categorical.map((c) => c.labels.length), ...job.grid.dims.map((d) => d.length)],
    auxCoords,
    observables: job.problems[0]?.observables.map((o) => o.name) ?? [],
    spectra: observableSpectra(job.spec.observables, job.model.system),
    hasModes: plan.want.modes,
    hasThermalDim,
    referenceModel: job.grid.thermalizations[0] ?? '',
    modeDim: { name: 'mode', values: Int32Array.from({ length: plan.nModes }, (_, i) => i + 1), attrs: { units: '1', long_name: 'relaxation mode, by ascending rate' } },
    timeDim: { name: 'time', values: job.problems[0]?.times ?? new Float64Array(0), attrs: { units: 's', long_name: 'time' } },
    hasEnhancement: plan.want.modes && job.spec.outputs.includes('enhancement'),
    hasBuildup: plan.want.buildup === true,
    powder,
    trajectoryDtype: job.spec.outputs.includes('trajectories_float32') ? 'float32' : 'float64',
  };
}

/** The bits of `flags` (src/engine/chunk.ts), in CF form: `ds.flags & 2` selects stiff points. */
const FLAG_BITS: ReadonlyArray<readonly [number, string]> = [
  [FLAG_NONFINITE, 'non_finite'],
  [FLAG_STIFF, 'stiff_rates_span_12_decades'],
  [FLAG_RECOMPUTED_F64, 'recomputed_in_float64'],
  [FLAG_MODES_FAILED, 'eigen_decomposition_failed'],
  [FLAG_OSCILLATING, 'oscillating_modes'],
  [FLAG_UNPHYSICAL, 'unphysical'],
];

/** Storage type of `flags`: unsigned, no _FillValue, so xarray keeps it an integer. */
export const FLAG_DTYPE = 'uint16' as const;

export const FLAG_ATTRS = {
  units: '1',
  long_name: 'point status bits',
  flag_masks: FLAG_BITS.map(([bit]) => bit),
  flag_meanings: FLAG_BITS.map(([, name]) => name).join(' '),
};

/** Variables of surfaces.nc. */
export function surfaceVariables(layout: OutputLayout): NcVariableHeader[] {
  const sweep = layout.sweepDims.map((d) => d.name);
  const coords = layout.auxCoords.map((c) => c.name).join(' ');
  const extra = (attrs: Record<string, string | number | readonly number[]>): Record<string, string | number | readonly number[]> =>
    coords ? { ...attrs, coordinates: coords } : attrs;
  const out: NcVariableHeader[] = [];
  dnpVariables(layout, sweep, extra, out);
  for (const o of layout.observables) {
    const range = layout.spectra.get(o);
    const spectrum: Record<string, readonly number[]> = range ? { spectrum_range: [...range] } : {};
    out.push({ name: `rate_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: 's-1', long_name: `projection rate of ${o}` }) });
    out.push({ name: `boltzmann_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: '1', long_name: `<${o}> in the Boltzmann state exp(-beta H0)/Z`, ...spectrum }) });
    if (layout.hasModes) {
      out.push({ name: `ss_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: '1', long_name: `steady-state <${o}>`, ...spectrum }) });
      out.push({ name: `ss_over_boltzmann_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: '1', long_name: `steady-state <${o}> / Boltzmann <${o}>` }) });
      out.push({ name: `amp_${o}`, dims: [...sweep, 'mode'], dtype: 'float64', attrs: extra({ units: '1', long_name: `amplitude of each mode in <${o}>(t)` }) });
    }
    if (layout.hasThermalDim) {
      const reference = layout.referenceModel;
      out.push({ name: `diff_rate_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: 's-1', long_name: `rate_${o} minus its value for the reference model ${reference}`, reference }) });
      if (layout.hasModes) out.push({ name: `diff_ss_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: '1', long_name: `ss_${o} minus its value for the reference model ${reference}`, reference, ...spectrum }) });
    }
  }
  if (layout.hasModes) out.push({ name: 'eigenrate', dims: [...sweep, 'mode'], dtype: 'float64', attrs: extra({ units: 's-1', long_name: 'decay rates of the modes reachable from the initial state' }) });
  out.push({ name: 'flags', dims: sweep, dtype: FLAG_DTYPE, attrs: extra(FLAG_ATTRS) });
  for (const c of layout.auxCoords) out.push({ name: c.name, dims: [c.dim], dtype: 'float64', attrs: c.attrs });
  if (layout.powder) out.push({ name: 'powder_weight', dims: [layout.powder.dim], dtype: 'float64', attrs: { units: '1', long_name: 'quadrature weight of each orientation (sum 1)' } });
  // averaged variables lose the powder dimension
  if (layout.powder) {
    const avg = layout.powder.averagedNames;
    for (const v of out) if (isPowderAveraged(v.name)) v.dims = avg;
  }
  return out;
}

/** enh_<O> and buildup_<O> (docs/run-directory.md). */
function dnpVariables(
  layout: OutputLayout,
  sweep: readonly string[],
  extra: (a: Record<string, string | number | readonly number[]>) => Record<string, string | number | readonly number[]>,
  out: NcVariableHeader[],
): void {
  for (const o of layout.observables) {
    if (layout.hasEnhancement) {
      out.push({ name: `enh_${o}`, dims: sweep, dtype: 'float64', attrs: extra({ units: '1', long_name: `enhancement <${o}>_ss / <${o}>_Boltzmann${layout.powder ? ' (powder average of both)' : ''}` }) });
    }
    if (layout.hasBuildup) {
      out.push({
        name: `buildup_${o}`,
        dims: sweep,
        dtype: 'float64',
        attrs: extra({ units: 's-1', long_name: `build-up rate of <${o}> from the initial state: (<${o}>(0) - <${o}>_ss) / integral (<${o}>(t) - <${o}>_ss) dt` }),
      });
    }
  }
}

export function trajectoryVariables(layout: OutputLayout): NcVariableHeader[] {
  const sweep = layout.powder ? layout.powder.averagedNames : layout.sweepDims.map((d) => d.name);
  const coords = layout.auxCoords.map((c) => c.name).join(' ');
  return [
    ...layout.observables.map((o) => ({
      name: `traj_${o}`,
      dims: [...sweep, 'time'],
      dtype: layout.trajectoryDtype,
      attrs: {
        units: '1',
        long_name: `<${o}>(t)`,
        ...(layout.spectra.get(o) ? { spectrum_range: [...(layout.spectra.get(o) as readonly [number, number])] } : {}),
        ...(coords ? { coordinates: coords } : {}),
        ...(layout.trajectoryDtype === 'float32' ? { relaxmap_storage: 'float32 (outputs: trajectories_float32): values computed in the run precision, rounded once on writing' } : {}),
      },
    })),
    ...layout.auxCoords.map((c) => ({ name: c.name, dims: [c.dim], dtype: 'float64' as const, attrs: c.attrs })),
  ];
}
