/**
 * How a sweep splits into shards (array tasks): points and estimated time per shard from the
 * chunk plan and a calibration, and the shard count that fits a wall-time limit. Pure.
 */
import { POOL_STARTUP_S } from '../engine/select-backend.js';
import { chunkOf, type RunPlan } from '../sweep/plan.js';

/** Seconds a task spends before its first chunk: node start-up, spec and job build, calibration. */
export const TASK_STARTUP_S = 2;
/** A proposed shard count leaves this share of the wall time unused (slower nodes, shared cores). */
export const WALLTIME_MARGIN = 0.5;

export interface ShardPlan {
  readonly shards: number;
  readonly cpus: number;
  readonly chunks: { readonly min: number; readonly max: number };
  readonly points: { readonly min: number; readonly max: number };
  /** Estimated seconds of the longest shard. */
  readonly seconds: number;
  /** Shards that get no chunk at all (more shards than chunks). */
  readonly empty: number;
}

export function shardSeconds(points: number, perPointSeconds: number, cpus: number): number {
  return TASK_STARTUP_S + (cpus > 1 ? POOL_STARTUP_S : 0) + (points * perPointSeconds) / cpus;
}

export function shardPlan(plan: RunPlan, shards: number, perPointSeconds: number, cpus: number): ShardPlan {
  // one pass over the chunks (shard i holds chunks i, i + N, ...: see shardChunks)
  const chunks = new Array<number>(shards).fill(0);
  const points = new Array<number>(shards).fill(0);
  for (let id = 0; id < plan.chunkCount; id++) {
    const i = id % shards;
    chunks[i] = (chunks[i] as number) + 1;
    points[i] = (points[i] as number) + chunkOf(plan, id).count;
  }
  const lo = (a: number[]): number => a.reduce((m, v) => Math.min(m, v), Infinity);
  const hi = (a: number[]): number => a.reduce((m, v) => Math.max(m, v), 0);
  const maxP = hi(points);
  return {
    shards,
    cpus,
    chunks: { min: lo(chunks), max: hi(chunks) },
    points: { min: lo(points), max: maxP },
    seconds: shardSeconds(maxP, perPointSeconds, cpus),
    empty: chunks.filter((c) => c === 0).length,
  };
}

/**
 * The fewest shards whose longest one is estimated to take at most (1 - margin) of the wall
 * time; `fits` is false when even one chunk per shard would not (then more shards do not help:
 * a smaller --chunk-size or a longer limit does).
 */
export function proposeShards(plan: RunPlan, walltimeSeconds: number, perPointSeconds: number, cpus: number): { shards: number; fits: boolean; plan: ShardPlan } {
  const target = walltimeSeconds * (1 - WALLTIME_MARGIN);
  const maxShards = Math.max(1, plan.chunkCount);
  const total = plan.points * perPointSeconds;
  const budget = target - shardSeconds(0, perPointSeconds, cpus);
  let n = budget > 0 ? Math.min(maxShards, Math.max(1, Math.ceil(total / (cpus * budget)))) : maxShards;
  let sp = shardPlan(plan, n, perPointSeconds, cpus);
  // shards are whole chunks: step up until the longest shard fits
  while (sp.seconds > target && n < maxShards) {
    n = Math.min(maxShards, n + Math.max(1, Math.ceil(n * 0.05)));
    sp = shardPlan(plan, n, perPointSeconds, cpus);
  }
  return { shards: n, fits: sp.seconds <= target, plan: sp };
}
