/**
 * DIR/sweep.json: what `relaxmap slurm` planned, read by the array tasks (`--shard slurm`
 * takes N and checks the plan key), by `relaxmap status` (totals per shard) and by a later
 * `relaxmap slurm` into the same DIR (resubmission of the same sweep only).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { UsageError } from '../spec/errors.js';
import type { RunPlan } from '../sweep/plan.js';

export const SWEEP_FILE = 'sweep.json';
/** The copy of the spec the tasks read (so that an edit after submission changes nothing). */
export const SWEEP_SPEC = 'spec.yaml';
export const SHARDS_DIR = 'shards';
export const LOGS_DIR = 'logs';
export const ARRAY_SCRIPT = 'relaxmap-array.sbatch';
export const MERGE_SCRIPT = 'relaxmap-merge.sbatch';

const planSchema = z.looseObject({
  specSha256: z.string(),
  points: z.number().int().nonnegative(),
  variants: z.number().int().positive(),
  pointsPerVariant: z.number().int().nonnegative(),
  chunkSize: z.number().int().positive(),
  chunksPerVariant: z.number().int().nonnegative(),
  chunkCount: z.number().int().nonnegative(),
});

const manifestSchema = z.object({
  format: z.literal('relaxmap-sweep'),
  relaxmap_version: z.string(),
  shards: z.number().int().positive(),
  plan_key: z.string(),
  spec_sha256: z.string(),
  spec: z.string(),
  source: z.string(),
  sets: z.array(z.string()),
  chunk_size: z.number().int().positive().nullable(),
  plan: planSchema,
  created: z.string(),
  relaxmap: z.array(z.string()),
  sbatch: z.object({
    time: z.string().nullable(),
    mem: z.string().nullable(),
    cpus_per_task: z.number().int().positive().nullable(),
    partition: z.string().nullable(),
    account: z.string().nullable(),
    extra: z.array(z.string()),
  }),
  jobs: z.object({ array: z.string(), merge: z.string().nullable(), submitted: z.string() }).nullable(),
});

export type SweepManifest = Omit<z.infer<typeof manifestSchema>, 'plan'> & { readonly plan: RunPlan };

/** Read DIR/sweep.json; undefined when there is none, exit 2 naming the file when it is malformed. */
export function readSweepManifest(dir: string): SweepManifest | undefined {
  const path = join(dir, SWEEP_FILE);
  if (!existsSync(path)) return undefined;
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new UsageError(`${path}: not valid JSON (${(e as Error).message}); rewrite it with relaxmap slurm`);
  }
  const parsed = manifestSchema.safeParse(raw);
  if (!parsed.success) throw new UsageError(`${path}: not a relaxmap sweep file: ${z.prettifyError(parsed.error).replace(/\n/g, '; ')}`);
  return parsed.data as unknown as SweepManifest;
}

/**
 * The sweep a shard directory belongs to: sweep.json next to it (DIR/shards/I -> DIR) or
 * one level up, so `--shard slurm` finds N without being told.
 */
export function findSweepManifest(outDir: string): { dir: string; manifest: SweepManifest } | undefined {
  const out = resolve(outDir);
  for (const dir of [dirname(dirname(out)), dirname(out)]) {
    const manifest = readSweepManifest(dir);
    if (manifest) return { dir, manifest };
  }
  return undefined;
}

export function shardDir(sweepDir: string, index: number): string {
  return join(sweepDir, SHARDS_DIR, String(index));
}
