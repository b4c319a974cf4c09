/**
 * `relaxmap run --shard slurm`: the shard index from SLURM_ARRAY_TASK_ID, the shard count
 * from --shards or the sweep.json that `relaxmap slurm` wrote next to the shard directories.
 */
import { UsageError } from '../spec/errors.js';
import { findSweepManifest } from './sweep-manifest.js';

export interface SlurmShard {
  readonly index: number;
  readonly count: number;
  /** The plan key sweep.json recorded: the run must plan exactly this (same spec, same chunking). */
  readonly planKey: string | undefined;
  readonly sweepDir: string | undefined;
}

export function resolveSlurmShard(outDir: string, shards: number | undefined, env: NodeJS.ProcessEnv = process.env): SlurmShard {
  const id = env.SLURM_ARRAY_TASK_ID;
  if (id === undefined || id === '') {
    throw new UsageError('--shard slurm: SLURM_ARRAY_TASK_ID is not set (this is not a SLURM array task); give --shard I/N instead');
  }
  if (!/^\d+$/.test(id)) throw new UsageError(`--shard slurm: SLURM_ARRAY_TASK_ID=${id} is not a whole number`);
  const index = Number(id);
  const found = findSweepManifest(outDir);
  const count = shards ?? found?.manifest.shards;
  if (count === undefined) {
    throw new UsageError(`--shard slurm: no sweep.json next to ${outDir} (written by relaxmap slurm) to take the shard count from; give --shards N`);
  }
  if (found && shards !== undefined && shards !== found.manifest.shards) {
    throw new UsageError(`--shards ${shards}: ${found.dir}/sweep.json plans ${found.manifest.shards} shards; the shards of one sweep must agree`);
  }
  if (index >= count) {
    throw new UsageError(`--shard slurm: SLURM_ARRAY_TASK_ID=${index} but the sweep has ${count} shards (0..${count - 1}); submit the array as --array=0-${count - 1}`);
  }
  return { index, count, planKey: found?.manifest.plan_key, sweepDir: found?.dir };
}

/** The warning for a run inside an array task that was not told which shard it is. */
export function unshardedArrayTaskWarning(env: NodeJS.ProcessEnv = process.env): string | undefined {
  const id = env.SLURM_ARRAY_TASK_ID;
  if (id === undefined || id === '') return undefined;
  return `warning: SLURM_ARRAY_TASK_ID=${id} is set but --shard is not: this task computes every point of the sweep (use --shard slurm to compute only its share)`;
}
