import { evaluatePoint } from '../evaluate/point.js';
import type { Problem } from '../evaluate/problem.js';
import { buildGeneratorModel, type GeneratorModel } from '../physics/generator-model.js';
import type { Override } from '../spec/overrides.js';
import type { LoadedSpec } from '../spec/load.js';
import { buildProblem, systemDescription } from '../spec/resolve.js';
import { buildGrid, pointParams, type SweepGrid } from '../sweep/grid.js';
import { type ChunkResult, type ChunkShape, FLAG_NONFINITE, FLAG_OSCILLATING, FLAG_STIFF, FLAG_UNPHYSICAL, type Want } from './chunk.js';
import { CoefficientTables } from './coefficient-tables.js';
import { compileProblem, termNonZeros, type CompiledProblem, type TermNonZeros } from './compiled-problem.js';
import { emptyKernelCounters, type KernelCounters } from './backend.js';
import { F64Kernel } from './f64-kernel.js';
import { buildSymmetricForm, type SymmetricForm } from '../evaluate/symmetric-form.js';

/** What a worker needs to rebuild a job exactly: the spec text and the command-line overrides. */
export interface JobSource {
  readonly text: string;
  readonly source: string;
  readonly overrides: readonly Override[];
}

/**
 * Everything derived from a spec for batched evaluation. Built identically in the main
 * thread and in each worker (deterministic), so tasks only carry chunk ranges. Workers
 * get the already validated spec (plain, structured-cloneable data) and never load the
 * YAML parser or the schema library: that halves a worker's start-up.
 */
export interface Job {
  readonly source: JobSource;
  readonly spec: LoadedSpec;
  readonly grid: SweepGrid;
  readonly model: GeneratorModel;
  /** One problem per initial state. */
  readonly problems: readonly Problem[];
  /** Compiled reduced problems (fixed-basis path only), per initial state. */
  readonly compiled: ReadonlyArray<CompiledProblem | undefined>;
  readonly want: Want;
  readonly nObs: number;
  readonly nModes: number;
  readonly nTimes: number;
}

export function wantFromOutputs(outputs: readonly string[]): Want {
  const buildup = outputs.includes('buildup');
  return {
    rates: true,
    modes: outputs.includes('eigenrates') || outputs.includes('steady_state') || outputs.includes('enhancement') || buildup,
    trajectories: outputs.includes('trajectories') || outputs.includes('trajectories_float32'),
    ...(buildup ? { buildup: true } : {}),
  };
}

export function buildJob(spec: LoadedSpec, source: JobSource, want?: Want): Job {
  const model = buildGeneratorModel(systemDescription(spec));
  const problems = spec.initials.map((_, k) => buildProblem(spec, model, k));
  const compiled = problems.map((p) => (model.path === 'fixed-basis' ? compileProblem(p) : undefined));
  const nModes = Math.max(1, ...problems.map((p) => p.reduction.r - 1));
  return {
    source,
    spec,
    grid: buildGrid(spec),
    model,
    problems,
    compiled,
    want: want ?? wantFromOutputs(spec.outputs),
    nObs: problems[0]?.observables.length ?? 0,
    nModes,
    nTimes: problems[0]?.times.length ?? 0,
  };
}

export function chunkShape(job: Job, count: number): ChunkShape {
  // no mode slots when modes are not computed (rates-only sweeps move 16 -> 7 values per point)
  return { count, nObs: job.nObs, nModes: job.want.modes ? job.nModes : 0, nTimes: job.want.trajectories ? job.nTimes : 0, ...(job.want.buildup ? { buildup: true } : {}) };
}

/** Evaluates ranges of one variant into chunk results. */
export interface ChunkKernel {
  run(start: number, count: number, out: ChunkResult, offset?: number): void;
  /** Routes taken so far. */
  readonly counters?: KernelCounters;
}

/** What a float64 kernel of one variant needs: plain, structured-cloneable arrays. */
export interface KernelData {
  /** Without its term matrices (an empty array) where `terms` carries their non-zeros (a worker's payload). */
  readonly cp: CompiledProblem;
  readonly terms?: TermNonZeros;
  readonly tables: CoefficientTables;
  /** Symmetric form of the generator (undefined: the general route), see symmetric-form.ts. */
  readonly sym?: SymmetricForm | undefined;
  /** Why the symmetric form does or does not apply. */
  readonly route?: string;
}

const kernelDataCache = new WeakMap<Job, Map<number, KernelData>>();

/**
 * A variant's kernel data as sent to a worker: the term matrices' non-zeros instead of the
 * dense matrices (an electron and three 1H: 371 to ~130 KB to copy, on the main thread before
 * the worker can start).
 */
export function slimKernelData(d: KernelData): KernelData {
  return { ...d, cp: { ...d.cp, termMatrices: new Float64Array(0) }, terms: d.terms ?? termNonZeros(d.cp) };
}

/** Compiled problem and coefficient tables of a variant (fixed-basis path), built once per job. */
export function kernelData(job: Job, variant: number): KernelData | undefined {
  const v = job.grid.variants[variant];
  if (!v) throw new Error(`variant ${variant} out of range`);
  const cp = job.compiled[v.initial];
  if (!cp) return undefined;
  let cache = kernelDataCache.get(job);
  if (!cache) {
    cache = new Map();
    kernelDataCache.set(job, cache);
  }
  let d = cache.get(variant);
  if (!d) {
    // modes (eigenrates, steady states, trajectories on any grid) need the symmetric form
    const dynamics = job.want.modes || job.want.trajectories;
    const sf = dynamics ? buildSymmetricForm(job.model, job.problems[v.initial] as Problem, cp, v.thermal) : { form: undefined, why: 'rates only' };
    const balanced = sf.form?.route === 'weighted' ? Array.from(sf.form.groupFrequency) : [];
    d = { cp, tables: new CoefficientTables(job.model, job.model.compact, job.grid, v.thermal, { inverted: cp.initialSign === -1, balanced }), sym: sf.form, route: sf.why };
    cache.set(variant, d);
  }
  return d;
}

/** The float64 kernel of a variant: batched tables on the fixed-basis path, point by point otherwise. */
export function kernelFor(job: Job, variant: number): ChunkKernel {
  const v = job.grid.variants[variant];
  if (!v) throw new Error(`variant ${variant} out of range`);
  const problem = job.problems[v.initial] as Problem;
  const data = kernelData(job, variant);
  if (data) return new F64Kernel(data.cp, data.tables, job.want, data.sym);
  const counters = emptyKernelCounters();
  return {
    counters,
    run(start, count, out, offset = 0) {
      const { nObs, nModes, nTimes } = out.shape;
      for (let j = 0; j < count; j++) {
        const row = offset + j;
        const res = evaluatePoint(problem, pointParams(job.grid, start + j), v.thermal, { populations: false, propagation: 'modes', counters });
        let flags = 0;
        problem.observables.forEach((o, k) => {
          out.rates[row * nObs + k] = res.rates[o.name] as number;
          out.steady[row * nObs + k] = res.steady_state[o.name] as number;
          out.boltzmann[row * nObs + k] = res.boltzmann[o.name] as number;
          const amps = res.amplitudes[o.name] as number[];
          for (let q = 0; q < nModes; q++) out.amplitudes[(row * nObs + k) * nModes + q] = q < amps.length ? (amps[q] as number) : NaN;
          const traj = res.trajectories[o.name] as number[];
          for (let t = 0; t < nTimes; t++) out.trajectories[(row * nObs + k) * nTimes + t] = traj[t] as number;
        });
        for (let q = 0; q < nModes; q++) out.eigenrates[row * nModes + q] = q < res.eigenrates.length ? (res.eigenrates[q] as number) : NaN;
        if (out.shape.buildup) problem.observables.forEach((o, k) => (out.buildup[row * nObs + k] = res.buildup[o.name] as number));
        for (const w of res.warnings ?? []) {
          if (w.includes('decades')) flags |= FLAG_STIFF;
          else if (w.includes('oscillate')) flags |= FLAG_OSCILLATING;
          else if (w.includes('unphysical')) flags |= FLAG_UNPHYSICAL;
          else flags |= FLAG_NONFINITE;
        }
        out.flags[row] = flags;
      }
    },
  };
}
