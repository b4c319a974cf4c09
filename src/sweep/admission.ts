/**
 * The one admission check that validate, plan and run share: what a run would need
 * (points, chunk files, memory for chunks in flight and coefficient tables, disk for the
 * checkpoints and outputs, threads) against what it may use. Refusals are UsageErrors
 * (exit 2) naming the field or flag to change, raised before anything is written.
 */
import { availableParallelism } from 'node:os';
import { coefficientTableBytes } from '../engine/coefficient-tables.js';
import type { Job } from '../engine/job.js';
import { UsageError } from '../spec/errors.js';
import { totalPoints } from './grid.js';
import { freeBytes } from './os-errors.js';
import { CHUNK_HEADER_BYTES } from './chunk-file.js';
import { formatBytes, makePlan, MAX_CHUNK, type RunPlan } from './plan.js';

/** Chunk files of one run directory (checkpoints, shard chunks): beyond this a file system and a merge suffer. */
export const MAX_CHUNK_COUNT = 200_000;
/** Points of one run directory. */
export const MAX_POINTS = MAX_CHUNK * MAX_CHUNK_COUNT;

export interface AdmissionOptions {
  /** Memory budget for chunks in flight and tables, bytes (--memory). */
  readonly memoryBytes: number;
  /** Whether the budget was given with --memory (messages name the flag only then). */
  readonly memoryGiven?: boolean;
  /** Threads asked for with --workers (checked against the cores). */
  readonly workers?: number;
  /** Threads that will hold the coefficient tables and chunks (default workers, else 2). */
  readonly threads?: number;
  readonly chunkSize?: number;
  /** Where the outputs go: the free space there is checked. */
  readonly outDir?: string;
  /** Shard run: only checkpoints are written (the outputs come with merge). */
  readonly shardCount?: number;
  /** Bytes of checkpoints already on disk (a resumed run). */
  readonly presentBytes?: number;
}

export interface Admission {
  readonly plan: RunPlan;
  /** Bytes the run writes: checkpoints plus outputs (a shard: its chunks). */
  readonly diskBytes: number;
  readonly freeBytes: number | undefined;
  readonly tableBytes: number;
}

function dimsText(job: Job): string {
  const parts = [...job.grid.categorical.map((c) => `${c.name}[${c.labels.length}]`), ...job.grid.dims.map((d) => `${d.name}[${d.length}]`)];
  return parts.join(' x ') || 'one point';
}

export function admit(job: Job, options: AdmissionOptions): Admission {
  const points = totalPoints(job.grid);
  if (!(points <= MAX_POINTS)) {
    throw new UsageError(
      `sweep: ${points.toExponential(2)} points (${dimsText(job)}), more than the ${MAX_POINTS.toExponential(2)} one run directory takes: use fewer points on an axis (sweep.<name>.points)`,
    );
  }
  const cores = availableParallelism();
  if (options.workers !== undefined && options.workers > cores) {
    throw new UsageError(`--workers ${options.workers}: relaxmap may use ${cores} core${cores === 1 ? '' : 's'} here; more threads than cores only slow the run down: use --workers ${cores} or fewer`);
  }
  // as the planner always did: chunking must not depend on the machine (shards agree)
  const threads = options.threads ?? options.workers ?? 2;
  const memFlag = options.memoryGiven ? `--memory ${formatBytes(options.memoryBytes)}` : `the memory budget (${formatBytes(options.memoryBytes)}; --memory)`;

  // coefficient tables: built per variant in the main thread, copied to every worker
  let tableBytes = 0;
  let largest = { values: 0, dims: [] as string[] };
  job.grid.variants.forEach((v) => {
    const cp = job.compiled[v.initial];
    if (!cp) return;
    const t = coefficientTableBytes(job.model, job.model.compact, job.grid, { inverted: cp.initialSign === -1 });
    tableBytes += t.bytes;
    if (t.largest.values > largest.values) largest = t.largest;
  });
  if (largest.values > 2 ** 31 - 1) {
    throw new UsageError(`sweep: a coefficient table over ${largest.dims.join(' x ')} would hold ${largest.values.toExponential(2)} values, more than 2^31: use fewer points on ${largest.dims.map((d) => `sweep.${d}`).join(' or ')}`);
  }
  const tableCopies = threads + 1;
  if (tableBytes * tableCopies > options.memoryBytes) {
    throw new UsageError(
      `sweep: the coefficient tables (largest over ${largest.dims.join(' x ')}) take ${formatBytes(tableBytes)}, ${tableCopies} copies (main thread and ${threads} worker${threads === 1 ? '' : 's'}) more than ${memFlag}: use fewer points on ${largest.dims.map((d) => `sweep.${d}`).join(' or ')}, or raise --memory`,
    );
  }

  // the chunking never depends on the memory budget (shards from different machines must
  // merge): the budget limits the chunks in flight, so it has to hold at least one
  const plan = makePlan(job, {
    memoryBytes: options.memoryBytes - tableBytes * tableCopies,
    ...(options.chunkSize ? { chunkSize: options.chunkSize } : {}),
  });
  if (plan.chunkCount > MAX_CHUNK_COUNT) {
    const fix = options.chunkSize ? `raise --chunk-size to at least ${Math.ceil(plan.points / MAX_CHUNK_COUNT)}` : 'use fewer points on an axis (sweep.<name>.points)';
    throw new UsageError(`${plan.points} points in chunks of ${plan.chunkSize} would write ${plan.chunkCount} chunk files, more than ${MAX_CHUNK_COUNT}: ${fix}`);
  }
  const oneChunk = 2 * plan.chunkBytes + tableBytes * tableCopies;
  if (options.memoryGiven && oneChunk > options.memoryBytes) {
    throw new UsageError(
      `--memory ${formatBytes(options.memoryBytes)} holds no chunk of ${plan.chunkSize} point${plan.chunkSize === 1 ? '' : 's'} (${formatBytes(plan.chunkBytes)}, twice that while checkpointed): raise --memory to at least ${formatBytes(oneChunk)}, or give a smaller --chunk-size (the same for every shard of a sweep)`,
    );
  }

  const checkpointBytes = plan.chunkCount * CHUNK_HEADER_BYTES + plan.points * plan.bytesPerPoint;
  const o = plan.outputBytes;
  const outputs = o.surfaces + o.trajectories + o.contributions + o.csv;
  const diskBytes = Math.max(0, (options.shardCount ? Math.ceil(checkpointBytes / options.shardCount) : checkpointBytes + outputs) - (options.presentBytes ?? 0));
  const free = options.outDir !== undefined ? freeBytes(options.outDir) : undefined;
  if (free !== undefined && diskBytes > free) {
    throw new UsageError(
      `the run would write about ${formatBytes(diskBytes)} (${options.shardCount ? 'this shard\'s chunks' : `checkpoints ${formatBytes(checkpointBytes)}, outputs ${formatBytes(outputs)}`}) but ${options.outDir} has ${formatBytes(free)} free: free space, use another --out, drop trajectories from outputs, use fewer time points, or shard the run (--shard I/N) across machines`,
    );
  }
  return { plan, diskBytes, freeBytes: free, tableBytes };
}
