import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { createNetcdf, writeNetcdf, type NcDimension, type NcWriter } from '../io/netcdf.js';
import { chunkLength, chunkViews, FLAG_NONFINITE, FLAG_UNPHYSICAL, type ChunkResult } from '../engine/chunk.js';
import { chunkShape, type Job } from '../engine/job.js';
import { evaluatePoint } from '../evaluate/point.js';
import type { Problem } from '../evaluate/problem.js';
import { readChunkFile, writeFileAtomic } from './checkpoint.js';
import { pointParams } from './grid.js';
import { outputLayout, surfaceVariables, trajectoryVariables, type OutputLayout } from './output-layout.js';
import { chunkOf, type RunPlan } from './plan.js';
import { flatRangeToSlabs } from './slabs.js';
import { VERSION } from '../version.js';
import { ContributionsBuilder } from './contributions-layout.js';

export interface NonFinitePoint {
  readonly index: number;
  readonly variant: string;
  readonly params: Record<string, number>;
}

/** Provenance repeated as global attributes of every NetCDF file (the same values as run.json). */
export interface OutputProvenance {
  /** run.json `created`. */
  readonly created: string;
  /** run.json `backend.name`. */
  readonly backend: string;
  /** run.json `backend.precision`: float64, or float32 for the tensor backends. */
  readonly precision: string;
}

export interface FinalizeResult {
  readonly files: string[];
  readonly nonFinite: number;
  readonly nonFiniteSample: NonFinitePoint[];
  /** Points flagged FLAG_UNPHYSICAL, and the first of them. */
  readonly unphysical: number;
  readonly unphysicalSample: NonFinitePoint[];
  readonly seconds: number;
}

/** Shortest round-trip text of a number (NaN for anything non-finite). */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'NaN');

class CsvWriter {
  private readonly fd: number;
  private buf: string[] = [];
  private size = 0;
  readonly tmp: string;
  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.tmp`;
    this.fd = openSync(this.tmp, 'w');
  }
  line(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    writeSync(this.fd, `${this.buf.join('\n')}\n`);
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    this.flush();
    fsyncSync(this.fd);
    closeSync(this.fd);
    renameSync(this.tmp, this.path);
  }
  abort(): void {
    try {
      closeSync(this.fd);
    } catch {
      // already closed
    }
    rmSync(this.tmp, { force: true });
  }
}

/** Replace non-finite values by NaN and mark their points; returns how many points had any. */
function sanitize(r: ChunkResult): number {
  const { count, nObs, nModes, nTimes } = r.shape;
  let bad = 0;
  for (let p = 0; p < count; p++) {
    let nonFinite = false;
    const check = (arr: Float64Array, from: number, len: number, nanAllowed: boolean): void => {
      for (let k = from; k < from + len; k++) {
        const v = arr[k] as number;
        if (!Number.isFinite(v) && !(nanAllowed && Number.isNaN(v))) {
          nonFinite = true;
          arr[k] = NaN;
        }
      }
    };
    check(r.rates, p * nObs, nObs, false);
    check(r.boltzmann, p * nObs, nObs, false);
    check(r.trajectories, p * nObs * nTimes, nObs * nTimes, false);
    // NaN padding of modes is normal; only infinities are faults there
    check(r.eigenrates, p * nModes, nModes, true);
    check(r.amplitudes, p * nObs * nModes, nObs * nModes, true);
    check(r.steady, p * nObs, nObs, true);
    if (nonFinite) r.flags[p] = (r.flags[p] as number) | FLAG_NONFINITE;
    if (((r.flags[p] as number) & FLAG_NONFINITE) !== 0) bad++;
  }
  return bad;
}

function gather(count: number, stride: number, offset: number, inner: number, src: Float64Array): Float64Array {
  const out = new Float64Array(count * inner);
  for (let p = 0; p < count; p++) out.set(src.subarray(p * stride + offset * inner, p * stride + offset * inner + inner), p * inner);
  return out;
}

/**
 * Write the outputs of a run (surfaces.nc, trajectories.nc, contributions.nc, points.csv,
 * spec.yaml) from its chunk files, streaming chunk by chunk so that memory stays flat.
 */
export async function finalizeRun(job: Job, plan: RunPlan, outDir: string, chunkPath: (id: number) => string, provenance?: OutputProvenance): Promise<FinalizeResult> {
  const t0 = performance.now();
  const layout = outputLayout(job, plan);
  const files: string[] = [];
  const attrs = {
    title: `relaxmap results: ${job.spec.spec.name ?? job.source.source}`,
    spec_name: job.spec.spec.name ?? '',
    spec_sha256: plan.specSha256,
    observables: (job.problems[0]?.observables ?? []).map((o) => `${o.name} = ${o.expression}`).join('; '),
    initial: job.grid.initials.join(', '),
    thermalization: job.grid.thermalizations.join(', '),
    Conventions: 'CF-1.8',
    relaxmap_version: VERSION,
    ...(provenance ? { created: provenance.created, backend: provenance.backend, precision: provenance.precision } : {}),
  };
  const surfDims: NcDimension[] = [...layout.sweepDims, ...(layout.hasModes ? [layout.modeDim] : [])];
  const surfaces = await createNetcdf(join(outDir, 'surfaces.nc'), { dims: surfDims, variables: surfaceVariables(layout), attrs: { ...attrs, ...extraAttrs(job) } });
  let trajectories: NcWriter | undefined;
  if (plan.want.trajectories && plan.nTimes > 0) {
    trajectories = await createNetcdf(join(outDir, 'trajectories.nc'), { dims: [...layout.sweepDims, layout.timeDim], variables: trajectoryVariables(layout), attrs: { ...attrs, trajectory_dtype: layout.trajectoryDtype } });
  }
  const csv = new CsvWriter(join(outDir, 'points.csv'));
  try {
    for (const c of layout.auxCoords) {
      surfaces.writeSlab(c.name, [0], [c.values.length], c.values);
      trajectories?.writeSlab(c.name, [0], [c.values.length], c.values);
    }
    csv.line(csvHeader(job, layout, plan).join(','));
    let nonFinite = 0;
    const nonFiniteSample: NonFinitePoint[] = [];
    let unphysical = 0;
    const unphysicalSample: NonFinitePoint[] = [];
    const len = (count: number): number => chunkLength(chunkShape(job, count));
    let refCache: { id: number; result: ChunkResult } | undefined;
    for (let id = 0; id < plan.chunkCount; id++) {
      const chunk = chunkOf(plan, id);
      const r = chunkViews(chunkShape(job, chunk.count), readChunkFile(chunkPath(id), len(chunk.count)));
      const bad = sanitize(r);
      const variant = job.grid.variants[chunk.variant];
      if (bad > 0) {
        nonFinite += bad;
        for (let p = 0; p < chunk.count && nonFiniteSample.length < 100; p++) {
          if (((r.flags[p] as number) & FLAG_NONFINITE) !== 0) {
            nonFiniteSample.push({
              index: chunk.variant * plan.pointsPerVariant + chunk.start + p,
              variant: `${variant?.thermal}, ${job.grid.initials[variant?.initial ?? 0]}`,
              params: pointParams(job.grid, chunk.start + p),
            });
          }
        }
      }
      for (let p = 0; p < chunk.count; p++) {
        if (((r.flags[p] as number) & FLAG_UNPHYSICAL) === 0) continue;
        unphysical++;
        if (unphysicalSample.length < 100) {
          unphysicalSample.push({ index: chunk.variant * plan.pointsPerVariant + chunk.start + p, variant: `${variant?.thermal}, ${job.grid.initials[variant?.initial ?? 0]}`, params: pointParams(job.grid, chunk.start + p) });
        }
      }
      // reference model for diff_*: thermalization index 0, same initial state, same range
      let ref: ChunkResult | undefined;
      if (layout.hasThermalDim && variant) {
        const refVariant = job.grid.variants.findIndex((v) => v.thermal === job.grid.thermalizations[0] && v.initial === variant.initial);
        const refId = refVariant * plan.chunksPerVariant + (id % plan.chunksPerVariant);
        if (refCache?.id !== refId) {
          const rc = chunkOf(plan, refId);
          const rr = chunkViews(chunkShape(job, rc.count), readChunkFile(chunkPath(refId), len(rc.count)));
          sanitize(rr);
          refCache = { id: refId, result: rr };
        }
        ref = refCache.result;
      }
      writeChunk(job, plan, layout, chunk.variant, chunk.start, r, ref, surfaces, trajectories, csv);
    }
    await surfaces.close();
    files.push('surfaces.nc');
    if (trajectories) {
      await trajectories.close();
      files.push('trajectories.nc');
    }
    csv.close();
    files.push('points.csv');
    if (job.spec.outputs.includes('contributions') && plan.nTimes > 0) {
      await writeContributions(job, plan, layout, join(outDir, 'contributions.nc'), attrs);
      files.push('contributions.nc');
    }
    writeFileAtomic(join(outDir, 'spec.yaml'), job.source.text);
    files.push('spec.yaml');
    return { files, nonFinite, nonFiniteSample, unphysical, unphysicalSample, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await surfaces.abort().catch(() => undefined);
    await trajectories?.abort().catch(() => undefined);
    csv.abort();
    throw e;
  }
}

function extraAttrs(job: Job): Record<string, string | number> {
  return { generator_path: job.model.path, reduced_dimension: job.problems.map((p) => p.reduction.r).join(', ') };
}

function csvHeader(job: Job, layout: OutputLayout, plan: RunPlan): string[] {
  const cols: string[] = job.grid.categorical.map((c) => c.name);
  for (const d of job.grid.dims) cols.push(...d.params);
  for (const o of layout.observables) {
    cols.push(`rate_${o}`);
    if (layout.hasModes) cols.push(`ss_${o}`);
    cols.push(`boltzmann_${o}`);
  }
  if (layout.hasModes) {
    for (let q = 1; q <= plan.nModes; q++) cols.push(`eigenrate_${q}`);
    for (const o of layout.observables) for (let q = 1; q <= plan.nModes; q++) cols.push(`amp_${o}_${q}`);
  }
  cols.push('flags');
  return cols;
}

function writeChunk(
  job: Job,
  plan: RunPlan,
  layout: OutputLayout,
  variant: number,
  start: number,
  r: ChunkResult,
  ref: ChunkResult | undefined,
  surfaces: NcWriter,
  trajectories: NcWriter | undefined,
  csv: CsvWriter,
): void {
  const { count, nObs, nModes, nTimes } = r.shape;
  const globalStart = variant * plan.pointsPerVariant + start;
  const slabs = flatRangeToSlabs(layout.sweepShape, globalStart, count);
  const put = (w: NcWriter, name: string, data: Float64Array | Float32Array, inner: number): void => {
    for (const s of slabs) {
      const cnt = inner > 1 ? [...s.count, inner] : s.count;
      const st = inner > 1 ? [...s.start, 0] : s.start;
      w.writeSlab(name, st, cnt, data.subarray(s.offset * inner, (s.offset + s.size) * inner));
    }
  };
  layout.observables.forEach((o, k) => {
    const rate = gather(count, nObs, k, 1, r.rates);
    put(surfaces, `rate_${o}`, rate, 1);
    const boltz = gather(count, nObs, k, 1, r.boltzmann);
    put(surfaces, `boltzmann_${o}`, boltz, 1);
    if (layout.hasModes) {
      const ss = gather(count, nObs, k, 1, r.steady);
      put(surfaces, `ss_${o}`, ss, 1);
      put(surfaces, `ss_over_boltzmann_${o}`, ss.map((v, p) => (boltz[p] === 0 ? NaN : v / (boltz[p] as number))), 1);
      put(surfaces, `amp_${o}`, gather(count, nObs * nModes, k, nModes, r.amplitudes), nModes);
    }
    if (layout.hasThermalDim && ref) {
      const refRate = gather(count, nObs, k, 1, ref.rates);
      put(surfaces, `diff_rate_${o}`, rate.map((v, p) => v - (refRate[p] as number)), 1);
      if (layout.hasModes) {
        const ss = gather(count, nObs, k, 1, r.steady);
        const refSs = gather(count, nObs, k, 1, ref.steady);
        put(surfaces, `diff_ss_${o}`, ss.map((v, p) => v - (refSs[p] as number)), 1);
      }
    }
    if (trajectories && nTimes > 0) put(trajectories, `traj_${o}`, gather(count, nObs * nTimes, k, nTimes, r.trajectories), nTimes);
  });
  if (layout.hasModes) put(surfaces, 'eigenrate', r.eigenrates.slice(), nModes);
  put(surfaces, 'flags', Float32Array.from(r.flags), 1);

  // points.csv rows
  const grid = job.grid;
  const v = grid.variants[variant];
  const cat = grid.categorical.map((c) => (c.name === 'thermalization' ? (v?.thermal ?? '') : (grid.initials[v?.initial ?? 0] ?? '')));
  const idx = new Int32Array(grid.dims.length);
  for (let p = 0; p < count; p++) {
    const flat = start + p;
    for (let d = 0; d < grid.dims.length; d++) idx[d] = Math.floor(flat / (grid.strides[d] as number)) % (grid.dims[d]?.length ?? 1);
    const row: string[] = [...cat];
    grid.dims.forEach((d, di) => d.values.forEach((vals) => row.push(num(vals[idx[di] as number] as number))));
    for (let k = 0; k < nObs; k++) {
      row.push(num(r.rates[p * nObs + k] as number));
      if (layout.hasModes) row.push(num(r.steady[p * nObs + k] as number));
      row.push(num(r.boltzmann[p * nObs + k] as number));
    }
    if (layout.hasModes) {
      for (let q = 0; q < nModes; q++) row.push(num(r.eigenrates[p * nModes + q] as number));
      for (let k = 0; k < nObs; k++) for (let q = 0; q < nModes; q++) row.push(num(r.amplitudes[(p * nObs + k) * nModes + q] as number));
    }
    row.push(String(r.flags[p]));
    csv.line(row.map((x) => (/[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x)).join(','));
  }
}

/** contributions.nc: evaluated point by point in float64 (figure-sized sweeps; see the planner). */
async function writeContributions(job: Job, plan: RunPlan, layout: OutputLayout, path: string, attrs: Record<string, string>): Promise<void> {
  const builder = new ContributionsBuilder(layout, plan.nTimes, plan.points);
  for (let v = 0; v < job.grid.variants.length; v++) {
    const variant = job.grid.variants[v];
    if (!variant) continue;
    const problem = job.problems[variant.initial] as Problem;
    for (let i = 0; i < plan.pointsPerVariant; i++) {
      const res = evaluatePoint(problem, pointParams(job.grid, i), variant.thermal, { contributions: true });
      builder.add(v * plan.pointsPerVariant + i, res.contributions ?? []);
    }
  }
  await writeNetcdf(path, builder.dataset(attrs));
}

/** The end-of-run warning for points flagged unphysical (docs/run-directory.md). */
export function unphysicalSummary(fin: FinalizeResult): string {
  const first = fin.unphysicalSample[0];
  const where = first ? ` (first: ${first.variant}, ${Object.entries(first.params).map(([k, v]) => `${k}=${v}`).join(' ')})` : '';
  return `${fin.unphysical} point${fin.unphysical === 1 ? '' : 's'} left the physical range or the model's validity (flags bit 32: an expectation value outside its operator's spectrum, or the high-temperature model at beta*w_max > 1); listed in run.json${where}`;
}
