import { createHash } from 'node:crypto';
import { chunkLength, type Chunk, type Want } from '../engine/chunk.js';
import { chunkShape, type Job } from '../engine/job.js';
import { UsageError } from '../spec/errors.js';
import type { Override } from '../spec/overrides.js';
import { totalPoints } from './grid.js';

/** Largest chunk: small enough for progress and load balance, large enough to amortise a task. */
export const MAX_CHUNK = 16_384;
/** Default upper bound of one chunk's result buffer. */
export const TARGET_CHUNK_BYTES = 64e6;
/** Contributions are evaluated point by point in float64: keep them to figure-sized sweeps. */
export const MAX_CONTRIBUTION_VALUES = 50_000_000;

/** The deterministic split of a job into chunks, plus size estimates. */
export interface RunPlan {
  readonly specSha256: string;
  readonly overrides: readonly Override[];
  readonly points: number;
  readonly variants: number;
  readonly pointsPerVariant: number;
  readonly chunkSize: number;
  readonly chunksPerVariant: number;
  readonly chunkCount: number;
  readonly want: Want;
  readonly nObs: number;
  readonly nModes: number;
  readonly nTimes: number;
  readonly bytesPerPoint: number;
  readonly chunkBytes: number;
  readonly outputBytes: { readonly surfaces: number; readonly trajectories: number; readonly contributions: number; readonly csv: number };
  readonly contributionTerms: number;
}

export function specHash(text: string, overrides: readonly Override[]): string {
  return createHash('sha256')
    .update(text)
    .update(JSON.stringify(overrides))
    .digest('hex');
}

export interface PlanOptions {
  /** Memory budget for chunks in flight, bytes: checked against one chunk, never changes the chunking. */
  readonly memoryBytes: number;
  /** Force a chunk size (tests, tuning; every shard of a sweep must use the same). */
  readonly chunkSize?: number;
}

export function makePlan(job: Job, options: PlanOptions): RunPlan {
  const points = totalPoints(job.grid);
  const variants = job.grid.variants.length;
  const perVariant = job.grid.pointsPerVariant;
  const shape1 = chunkShape(job, 1);
  const bytesPerPoint = chunkLength(shape1) * 8;
  // each chunk in flight holds its result buffer and, while being checkpointed, one copy
  if (options.memoryBytes < 2 * bytesPerPoint) {
    throw new UsageError(
      `one point's results take ${formatBytes(bytesPerPoint)} (${job.nObs} observables x ${job.nTimes} times): more than half the memory budget ${formatBytes(options.memoryBytes)} (a chunk in flight and its copy); raise --memory or use fewer time points`,
    );
  }
  // The chunking depends only on the job and --chunk-size, never on the machine's cores or
  // memory (nor a SLURM allocation), so that shards computed on different nodes merge: the
  // memory budget limits the chunks in flight instead (chunksInFlight).
  const balance = Math.max(256, Math.ceil(perVariant / 32));
  const byTarget = Math.max(1, Math.floor(TARGET_CHUNK_BYTES / bytesPerPoint));
  const chunkSize = Math.max(1, Math.min(options.chunkSize ?? Math.min(MAX_CHUNK, balance, byTarget), perVariant));
  const chunksPerVariant = Math.ceil(perVariant / chunkSize);
  const contributionTerms = job.spec.outputs.includes('contributions') ? countContributionTerms(job) : 0;
  const contributionValues = points * job.nObs * contributionTerms * job.nTimes;
  if (contributionValues > MAX_CONTRIBUTION_VALUES) {
    throw new UsageError(
      `outputs: contributions would hold ${contributionValues.toExponential(2)} values (${points} points x ${job.nObs} observables x ${contributionTerms} terms x ${job.nTimes} times), more than ${MAX_CONTRIBUTION_VALUES.toExponential(0)}: contributions are for figure-sized sweeps; drop them from outputs or sweep fewer points`,
    );
  }
  const nScalar = 3 * job.nObs + 1 + (job.want.modes ? job.nModes * (1 + job.nObs) + job.nObs : 0);
  return {
    specSha256: specHash(job.source.text, job.source.overrides),
    overrides: job.source.overrides,
    points,
    variants,
    pointsPerVariant: perVariant,
    chunkSize,
    chunksPerVariant,
    chunkCount: chunksPerVariant * variants,
    want: job.want,
    nObs: job.nObs,
    nModes: job.nModes,
    nTimes: job.nTimes,
    bytesPerPoint,
    chunkBytes: bytesPerPoint * chunkSize,
    outputBytes: {
      surfaces: points * nScalar * 8,
      trajectories: job.want.trajectories ? points * job.nObs * job.nTimes * (job.spec.outputs.includes('trajectories_float32') ? 4 : 8) : 0,
      contributions: contributionValues * 8,
      csv: points * (nScalar + job.grid.dims.length + 2) * 24,
    },
    contributionTerms,
  };
}

/**
 * Chunks to keep in flight: what the backend can use (`lanes`), as far as the memory budget
 * holds them (each needs its result buffer and one copy while checkpointed), at least one.
 * `fits` is false when even one chunk exceeds the budget.
 */
export function chunksInFlight(plan: RunPlan, memoryBytes: number, lanes: number): { inFlight: number; fits: boolean } {
  const byMemory = Math.floor(memoryBytes / (2 * plan.chunkBytes));
  return { inFlight: Math.max(1, Math.min(lanes, byMemory)), fits: byMemory >= 1 };
}

/** Number of contribution series per observable: mechanism x mu x part. */
function countContributionTerms(job: Job): number {
  const keys = new Set<string>();
  const model = job.model;
  if (model.path === 'fixed-basis') {
    for (const t of model.terms) keys.add(`${t.label.mechanism}|${t.label.mu}|${t.label.part}`);
  } else {
    for (const p of model.pairs) {
      keys.add(`${p.mechanism}|${p.mu}|dc`);
      keys.add(`${p.mechanism}|${p.mu}|thermal`);
    }
  }
  return keys.size;
}

export function chunkOf(plan: RunPlan, id: number): Chunk {
  const variant = Math.floor(id / plan.chunksPerVariant);
  const j = id % plan.chunksPerVariant;
  const start = j * plan.chunkSize;
  return { id, variant, start, count: Math.min(plan.chunkSize, plan.pointsPerVariant - start) };
}

/** Chunk ids of shard i of n: every n-th chunk, so shards stay balanced along every axis. */
export function shardChunks(plan: RunPlan, shard?: { index: number; count: number }): number[] {
  const ids: number[] = [];
  for (let id = 0; id < plan.chunkCount; id++) if (!shard || id % shard.count === shard.index) ids.push(id);
  return ids;
}

/** The parts of a plan that must match for checkpoints to be reused. */
export function planKey(plan: RunPlan): string {
  return JSON.stringify([plan.specSha256, plan.chunkSize, plan.points, plan.want, plan.nModes, plan.nTimes, plan.nObs]);
}

export function formatBytes(b: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let v = b;
  let k = 0;
  while (v >= 1000 && k < units.length - 1) {
    v /= 1000;
    k++;
  }
  return `${v < 10 && k > 0 ? v.toFixed(1) : Math.round(v)} ${units[k]}`;
}

export function parseBytes(s: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(i?)[bB]?\s*$/.exec(s);
  if (!m) throw new UsageError(`--memory ${s}: expected a size such as 512MB or 2GB`);
  const mult = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'];
  const bin = m[3] ? { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4 }[(m[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g' | 't'] : mult;
  return Number(m[1]) * (bin ?? 1);
}
