import { closeSync, fsyncSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { tempPathFor } from '../io/temp-files.js';
import { loadH5wasm } from '../io/h5wasm-load.js';
import { whenAborted } from './stop.js';
import { join } from 'node:path';
import { createNetcdf, writeNetcdf, type NcDimension, type NcWriter } from '../io/netcdf.js';
import { chunkLength, chunkViews, FLAG_NONFINITE, FLAG_UNPHYSICAL, type ChunkResult } from '../engine/chunk.js';
import { chunkShape, type Job } from '../engine/job.js';
import { evaluatePoint } from '../evaluate/point.js';
import type { Problem } from '../evaluate/problem.js';
import { writeFileAtomic } from './checkpoint.js';
import { readChunkFile } from './chunk-file.js';
import { writeFailure } from './os-errors.js';
import { InterruptedError } from './run-errors.js';
import { pointParams } from './grid.js';
import { isPowderAveraged, outputLayout, surfaceVariables, trajectoryVariables, type OutputLayout } from './output-layout.js';
import { PowderAccumulator } from './powder-average.js';
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

/** Note which output a failed write was for (the messages of HDF5 and of fs name temporary files, or none). */
function attributeTo(e: unknown, path: string): unknown {
  if (e !== null && typeof e === 'object' && !Object.hasOwn(e, 'outputPath')) Object.defineProperty(e, 'outputPath', { value: path });
  return e;
}

/** Shortest round-trip text of a number (NaN for anything non-finite). */
const num = (v: number): string => (Number.isFinite(v) ? String(v) : 'NaN');

class CsvWriter {
  private readonly fd: number;
  private buf: string[] = [];
  private size = 0;
  readonly tmp: string;
  constructor(readonly path: string) {
    this.tmp = tempPathFor(path);
    this.fd = openSync(this.tmp, 'w');
  }
  line(s: string): void {
    this.buf.push(s);
    this.size += s.length;
    if (this.size > 1 << 20) this.flush();
  }
  private flush(): void {
    if (this.buf.length === 0) return;
    try {
      writeSync(this.fd, `${this.buf.join('\n')}\n`);
    } catch (e) {
      throw attributeTo(e, this.path);
    }
    this.buf = [];
    this.size = 0;
  }
  close(): void {
    try {
      this.flush();
      fsyncSync(this.fd);
      closeSync(this.fd);
      renameSync(this.tmp, this.path);
    } catch (e) {
      throw attributeTo(e, this.path);
    }
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
  // element loops: a subarray per point would allocate a view per point (a million for a
  // million-point rate map)
  const base = offset * inner;
  if (inner === 1) for (let p = 0; p < count; p++) out[p] = src[p * stride + base] as number;
  else {
    for (let p = 0; p < count; p++) {
      const from = p * stride + base;
      const to = p * inner;
      for (let j = 0; j < inner; j++) out[to + j] = src[from + j] as number;
    }
  }
  return out;
}

export interface FinalizeOptions {
  /** sha256 of the plan key: every chunk file must carry it (src/sweep/chunk-file.ts). */
  readonly planHash: Buffer;
  /** A stop signal stops the writing between chunks (the temporary files are removed; exit 75). */
  readonly stop?: { readonly signal: AbortSignal; readonly stoppedBy: string | undefined };
  /** Bytes the outputs need, for a "no space" message. */
  readonly needBytes?: number;
  /** Called between chunks (the lock's heartbeat). */
  readonly heartbeat?: () => void;
  /** created, backend and precision for the global attributes (as in run.json). */
  readonly provenance?: OutputProvenance;
}

/** Milliseconds of writing between two returns to the event loop (signals, heartbeat). */
const WRITE_SLICE_MS = 50;

/**
 * Write the outputs of a run (surfaces.nc, trajectories.nc, contributions.nc, points.csv,
 * spec.yaml) from its chunk files, streaming chunk by chunk so that memory stays flat.
 * Every chunk file is verified (size, plan, SHA-256) before anything is written; each
 * output appears under its name only when complete.
 */
export async function finalizeRun(job: Job, plan: RunPlan, outDir: string, chunkPath: (id: number) => string, options: FinalizeOptions): Promise<FinalizeResult> {
  const len = (count: number): number => chunkLength(chunkShape(job, count));
  const readChunk = (id: number): Float64Array => readChunkFile(chunkPath(id), { id, length: len(chunkOf(plan, id).count), planHash: options.planHash }).values;
  for (let id = 0; id < plan.chunkCount; id++) readChunk(id);
  try {
    return await writeOutputs(job, plan, outDir, readChunk, options);
  } catch (e) {
    if (e instanceof InterruptedError) throw e;
    throw writeFailure(e, outDir, options.needBytes);
  }
}

async function writeOutputs(job: Job, plan: RunPlan, outDir: string, readChunk: (id: number) => Float64Array, options: FinalizeOptions): Promise<FinalizeResult> {
  const t0 = performance.now();
  let lastYield = performance.now();
  const checkpoint = async (): Promise<void> => {
    if (performance.now() - lastYield < WRITE_SLICE_MS) return;
    await new Promise<void>((ok) => setImmediate(ok));
    lastYield = performance.now();
    options.heartbeat?.();
    const sig = options.stop?.stoppedBy;
    if (sig) throw new InterruptedError(sig, plan.chunkCount, plan.chunkCount);
  };
  // loading the HDF5 library takes a moment (seconds from TypeScript sources): a stop must not wait for it
  const stop = options.stop;
  if (stop) {
    await Promise.race([loadH5wasm(), whenAborted(stop.signal)]);
    if (stop.stoppedBy) throw new InterruptedError(stop.stoppedBy, plan.chunkCount, plan.chunkCount);
  }
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
    ...(options.provenance ? { created: options.provenance.created, backend: options.provenance.backend, precision: options.provenance.precision } : {}),
  };
  const surfDims: NcDimension[] = [...layout.sweepDims, ...(layout.hasModes ? [layout.modeDim] : [])];
  const ncOptions = stop ? { signal: stop.signal } : {};
  let surfaces: NcWriter | undefined;
  let trajectories: NcWriter | undefined;
  let csv: CsvWriter | undefined;
  const powder = layout.powder ? new PowderAccumulator(layout.powder, layout.sweepShape) : undefined;
  try {
    surfaces = await createNetcdf(join(outDir, 'surfaces.nc'), { dims: surfDims, variables: surfaceVariables(layout), attrs: { ...attrs, ...extraAttrs(job) } }, ncOptions);
    if (plan.want.trajectories && plan.nTimes > 0) {
      const trajDims = layout.powder ? layout.sweepDims.filter((d) => d.name !== layout.powder?.dim) : layout.sweepDims;
      trajectories = await createNetcdf(join(outDir, 'trajectories.nc'), { dims: [...trajDims, layout.timeDim], variables: trajectoryVariables(layout), attrs: { ...attrs, trajectory_dtype: layout.trajectoryDtype } }, ncOptions);
    }
    csv = new CsvWriter(join(outDir, 'points.csv'));
    for (const c of layout.auxCoords) {
      surfaces.writeSlab(c.name, [0], [c.values.length], c.values);
      trajectories?.writeSlab(c.name, [0], [c.values.length], c.values);
    }
    csv.line(csvHeader(job, layout, plan).join(','));
    let nonFinite = 0;
    const nonFiniteSample: NonFinitePoint[] = [];
    let unphysical = 0;
    const unphysicalSample: NonFinitePoint[] = [];
    let refCache: { id: number; result: ChunkResult } | undefined;
    for (let id = 0; id < plan.chunkCount; id++) {
      const chunk = chunkOf(plan, id);
      await checkpoint();
      const r = chunkViews(chunkShape(job, chunk.count), readChunk(id));
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
          const rr = chunkViews(chunkShape(job, rc.count), readChunk(refId));
          sanitize(rr);
          refCache = { id: refId, result: rr };
        }
        ref = refCache.result;
      }
      writeChunk(job, plan, layout, chunk.variant, chunk.start, r, ref, surfaces, trajectories, csv, powder);
    }
    if (powder) writePowderAverages(layout, plan, powder, surfaces, trajectories);
    await checkpoint();
    const sf = surfaces;
    await sf.close().catch((e: unknown) => Promise.reject(attributeTo(e, sf.path)));
    files.push('surfaces.nc');
    if (trajectories) {
      const t = trajectories;
      await t.close().catch((e: unknown) => Promise.reject(attributeTo(e, t.path)));
      files.push('trajectories.nc');
    }
    csv.close();
    files.push('points.csv');
    if (job.spec.outputs.includes('contributions') && plan.nTimes > 0) {
      await checkpoint();
      await writeContributions(job, plan, layout, join(outDir, 'contributions.nc'), attrs);
      files.push('contributions.nc');
    }
    writeFileAtomic(join(outDir, 'spec.yaml'), job.source.text);
    files.push('spec.yaml');
    return { files, nonFinite, nonFiniteSample, unphysical, unphysicalSample, seconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    await surfaces?.abort().catch(() => undefined);
    await trajectories?.abort().catch(() => undefined);
    csv?.abort();
    if (stop?.stoppedBy && !(e instanceof InterruptedError)) throw new InterruptedError(stop.stoppedBy, plan.chunkCount, plan.chunkCount);
    throw e;
  }
}

function extraAttrs(job: Job): Record<string, string | number> {
  return { generator_path: job.model.path, reduced_dimension: job.problems.map((p) => p.reduction.r).join(', '), ...dnpAttrs(job) };
}

/** DNP runs: the rotating frame, and the sweep dimension of the irradiation offset (for the profile figure). */
function dnpAttrs(job: Job): Record<string, string> {
  if (job.model.coherent.length === 0) return {};
  const out: Record<string, string> = { rotating_frame: job.model.frameNotes.join('; ') };
  for (const h of job.spec.spec.hamiltonian ?? []) {
    if (h.type !== 'irradiation' || typeof h.offset_hz !== 'string') continue;
    const name = h.offset_hz;
    const dim = job.grid.dims.find((d) => d.params.includes(name));
    if (dim) out.dnp_offset_axis = dim.name;
  }
  return out;
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
  powder?: PowderAccumulator,
): void {
  const { count, nObs, nModes, nTimes } = r.shape;
  const globalStart = variant * plan.pointsPerVariant + start;
  const slabs = flatRangeToSlabs(layout.sweepShape, globalStart, count);
  const put = (w: NcWriter, name: string, data: Float64Array | Float32Array, inner: number): void => {
    if (powder && isPowderAveraged(name)) {
      // ratios of averages are formed at the end (writePowderAverages)
      if (!/^(ss_over_boltzmann|enh)_/.test(name)) powder.add(name, globalStart, count, Float64Array.from(data), inner);
      return;
    }
    for (const s of slabs) {
      const cnt = inner > 1 ? [...s.count, inner] : s.count;
      const st = inner > 1 ? [...s.start, 0] : s.start;
      try {
        w.writeSlab(name, st, cnt, data.subarray(s.offset * inner, (s.offset + s.size) * inner));
      } catch (e) {
        throw attributeTo(e, w.path);
      }
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
    if (layout.hasEnhancement) {
      const ss = gather(count, nObs, k, 1, r.steady);
      put(surfaces, `enh_${o}`, ss.map((v, p) => (boltz[p] === 0 ? NaN : v / (boltz[p] as number))), 1);
    }
    if (layout.hasBuildup) put(surfaces, `buildup_${o}`, gather(count, nObs, k, 1, r.buildup), 1);
  });
  if (layout.hasModes) put(surfaces, 'eigenrate', r.eigenrates.slice(), nModes);
  put(surfaces, 'flags', Float32Array.from(r.flags), 1);

  // points.csv rows. Numbers never need quoting; the categorical labels (an initial state
  // such as singlet(a,b)) may, and are the same for the whole chunk. The parameter columns
  // are formatted once per grid index (csvParameterText), not once per point.
  const grid = job.grid;
  const v = grid.variants[variant];
  const cat = grid.categorical.map((c) => (c.name === 'thermalization' ? (v?.thermal ?? '') : (grid.initials[v?.initial ?? 0] ?? '')));
  const dimText = csvParameterText(job);
  const parts: string[] = cat.map(csvQuote);
  const fixed = parts.length;
  const nDims = grid.dims.length;
  for (let p = 0; p < count; p++) {
    parts.length = fixed;
    const flat = start + p;
    for (let d = 0; d < nDims; d++) {
      const text = dimText[d] as readonly string[];
      if (text.length > 0) parts.push(text[Math.floor(flat / (grid.strides[d] as number)) % text.length] as string);
    }
    for (let k = 0; k < nObs; k++) {
      parts.push(num(r.rates[p * nObs + k] as number));
      if (layout.hasModes) parts.push(num(r.steady[p * nObs + k] as number));
      parts.push(num(r.boltzmann[p * nObs + k] as number));
    }
    if (layout.hasModes) {
      for (let q = 0; q < nModes; q++) parts.push(num(r.eigenrates[p * nModes + q] as number));
      for (let k = 0; k < nObs; k++) for (let q = 0; q < nModes; q++) parts.push(num(r.amplitudes[(p * nObs + k) * nModes + q] as number));
    }
    parts.push(String(r.flags[p]));
    csv.line(parts.join(','));
  }
}

/** A CSV field: quoted when it holds a quote, a comma or a newline. */
function csvQuote(x: string): string {
  return /[",\n]/.test(x) ? `"${x.replace(/"/g, '""')}"` : x;
}

const parameterText = new WeakMap<Job, ReadonlyArray<readonly string[]>>();

/**
 * Per sweep dimension, per grid index: the CSV text of its parameters' values (several
 * for a zipped group, comma-joined; empty for a dimension without parameters).
 */
function csvParameterText(job: Job): ReadonlyArray<readonly string[]> {
  let t = parameterText.get(job);
  if (!t) {
    t = job.grid.dims.map((d) => (d.values.length === 0 ? [] : Array.from({ length: d.length }, (_, i) => d.values.map((vals) => num(vals[i] as number)).join(','))));
    parameterText.set(job, t);
  }
  return t;
}

/** The powder averages, whole: sums of w x value, and ratios of averages (enh, ss_over_boltzmann). */
function writePowderAverages(layout: OutputLayout, plan: RunPlan, powder: PowderAccumulator, surfaces: NcWriter, trajectories: NcWriter | undefined): void {
  const lp = layout.powder;
  if (!lp) return;
  surfaces.writeSlab('powder_weight', [0], [lp.weights.length], lp.weights);
  for (const o of layout.observables) {
    const boltz = powder.get(`boltzmann_${o}`);
    if (boltz) powder.write(surfaces, `boltzmann_${o}`, boltz);
    if (layout.hasModes) {
      const ss = powder.get(`ss_${o}`);
      if (ss && boltz) {
        powder.write(surfaces, `ss_${o}`, ss);
        const ratio = ss.map((v, i) => ((boltz[i] as number) === 0 ? NaN : v / (boltz[i] as number)));
        powder.write(surfaces, `ss_over_boltzmann_${o}`, ratio);
        if (layout.hasEnhancement) powder.write(surfaces, `enh_${o}`, ratio);
      }
      const diff = powder.get(`diff_ss_${o}`);
      if (diff) powder.write(surfaces, `diff_ss_${o}`, diff);
    }
    const traj = powder.get(`traj_${o}`);
    if (trajectories && traj) powder.write(trajectories, `traj_${o}`, traj, plan.nTimes);
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
  return `${fin.unphysical} point${fin.unphysical === 1 ? '' : 's'} left the physical range or the model's validity (flags bit 32: an expectation value outside its operator's spectrum, a negative population in a steady state with coherent terms, or the high-temperature model at beta*w_max > 1); listed in run.json${where}`;
}
